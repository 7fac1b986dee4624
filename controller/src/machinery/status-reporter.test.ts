// The status, Event and refusal plumbing every reconciler shares: what it writes, when it records an Event, what it throws.
import type { Condition } from '@sluice/crds';
import { pino } from 'pino';
import { ManualClock } from './manual-clock.js';
import { TerminalError } from './reconciler.js';
import { StatusReporter, type ConditionedResource, type FailureReasons } from './status-reporter.js';
import { TestingResources } from './testing-resources.js';

interface Widget extends ConditionedResource {
  spec: { size: number };
  status?: { conditions?: Condition[]; observedGeneration?: number; size?: number };
}

const key = { namespace: 'shop', name: 'widget' };

function setup(clearedByOthers: string[] = []) {
  const resources = new TestingResources<Widget>();
  const events: string[] = [];
  const reporter = new StatusReporter<Widget>('Widget', {
    resources,
    events: { record: (_object, type, reason) => events.push(`${type} ${reason}`) },
    clock: new ManualClock(),
    log: pino({ level: 'silent' }),
    clearedByOthers,
  });
  const widget = resources.apply({ apiVersion: 'sluice.dev/v1alpha1', kind: 'Widget', metadata: { ...key }, spec: { size: 1 } });
  const read = async (): Promise<Widget> => (await resources.get(key))!;
  return { resources, events, reporter, widget, read };
}

const reasons: FailureReasons = {
  refusal: (error) => (error instanceof Error && error.message.includes('never') ? { reason: 'Rejected', message: `refused: ${error.message}` } : undefined),
  retried: 'Unavailable',
};

describe('StatusReporter', () => {
  it('writes fields and conditions with the generation as observedGeneration, and nothing when nothing changed', async () => {
    const { resources, reporter, widget, read } = setup();
    expect(await reporter.write(widget, { size: 1 }, [{ type: 'Ready', status: 'True', reason: 'Sized', message: 'size 1' }])).toBe(true);
    const written = await read();
    expect(written.status).toMatchObject({
      size: 1,
      observedGeneration: 1,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Sized', observedGeneration: 1 }],
    });
    expect(await reporter.write(written, { size: 1 }, [{ type: 'Ready', status: 'True', reason: 'Sized', message: 'size 1' }])).toBe(false);
    expect(resources.writes).toHaveLength(1);
  });

  it('does not claim observedGeneration when told not to, and takes out a condition cleared by any other', async () => {
    const { reporter, widget, read } = setup(['Paused']);
    await reporter.write(widget, {}, [{ type: 'Paused', status: 'True', reason: 'Paused', message: 'paused' }], { observed: false });
    let status = (await read()).status;
    expect(status?.observedGeneration).toBeUndefined();
    expect(status?.conditions?.map((condition) => condition.type)).toEqual(['Paused']);
    await reporter.write(await read(), {}, [{ type: 'Ready', status: 'True', reason: 'Sized', message: 'size 1' }]);
    status = (await read()).status;
    expect(status?.conditions?.map((condition) => condition.type)).toEqual(['Ready']);
  });

  it('refuses into Ready with a Warning Event once, and returns the terminal error to throw', async () => {
    const { events, reporter, widget, read } = setup();
    const refusal = await reporter.refuse(widget, 'TooBig', 'size 9 is too big: set spec.size to at most 4');
    expect(refusal).toBeInstanceOf(TerminalError);
    expect(refusal.reason).toBe('TooBig');
    await reporter.refuse(await read(), 'TooBig', 'size 9 is too big: set spec.size to at most 4');
    expect(events).toEqual(['Warning TooBig']);
  });

  it('passes a terminal error through, refuses an error that is a refusal, and reports any other in Ready before throwing it again', async () => {
    const { events, reporter, widget, read } = setup();
    const terminal = new TerminalError('Known', 'already said');
    await expect(reporter.failed(widget, terminal, reasons)).rejects.toBe(terminal);
    expect((await read()).status).toBeUndefined();

    await expect(reporter.failed(widget, new Error('it will never work'), reasons)).rejects.toBeInstanceOf(TerminalError);
    expect((await read()).status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'Rejected', message: 'refused: it will never work' });

    const outage = new Error('connection refused');
    await expect(reporter.failed(await read(), outage, reasons)).rejects.toBe(outage);
    expect((await read()).status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'Unavailable', message: 'connection refused; retrying' });
    expect(events).toEqual(['Warning Rejected']);
  });

  it('throws the failure even when its status cannot be written', async () => {
    const { resources, reporter, widget } = setup();
    resources.beforeStatusPatch = () => {
      throw new Error('the API server is down');
    };
    const outage = new Error('connection refused');
    await expect(reporter.failed(widget, outage, reasons)).rejects.toBe(outage);
  });
});
