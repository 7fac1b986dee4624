import type { CheckpointStatus, RuntimeStatus, SavepointRequest, StopRequest } from '@sluice/crds';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { createRuntimeLog } from './log.js';
import { buildServer, type ControlTarget } from './server.js';

/** A control target that records what it was asked; the end-to-end test drives a real runtime. */
class TestingControlTarget implements ControlTarget {
  ready = false;
  phase: RuntimeStatus['phase'] = 'running';
  checkpoint: CheckpointStatus = { lastCompletedAt: null, inProgressSince: null, lastError: null };
  readonly savepoints: SavepointRequest[] = [];
  readonly stops: StopRequest[] = [];

  status(): RuntimeStatus {
    return {
      job: 'fraud',
      ordinal: 0,
      parallelism: 1,
      phase: this.phase,
      partitions: [{ partition: 0, offset: 5, lag: 0, watermark: 'Infinity' }],
      recordsIn: 5,
      recordsOut: 1,
      lastSavepoint: null,
      checkpoint: this.checkpoint,
    };
  }

  savepoint(request: SavepointRequest) {
    this.savepoints.push(request);
    return Promise.resolve({ id: request.id ?? 'sp-1', location: `/tmp/savepoints/${request.id ?? 'sp-1'}`, complete: true });
  }

  stop(request: StopRequest) {
    this.stops.push(request);
    if (this.stops.some((earlier) => earlier.savepoint !== request.savepoint)) {
      return Promise.reject(Object.assign(new Error('stopped already'), { code: 'SLUICE_E_STOPPED', status: 409 }));
    }
    const id = request.id ?? 'sp-2';
    return Promise.resolve({ stopped: true as const, savepoint: request.savepoint ? { id, location: `/tmp/savepoints/${id}`, complete: true } : null });
  }
}

const auth = { authorization: 'Bearer s3cret' };

describe('the runtime pod’s HTTP surface', () => {
  it('is ready only once the target is', async () => {
    const target = new TestingControlTarget();
    const app = buildServer({ target, registry: new Registry(), controlToken: 's3cret' });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    target.ready = true;
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('answers /healthz with 503 once the task set failed, so the kubelet restarts the pod', async () => {
    const target = new TestingControlTarget();
    const app = buildServer({ target, registry: new Registry(), controlToken: 's3cret' });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    target.phase = 'failed';
    const failed = await app.inject({ method: 'GET', url: '/healthz' });
    expect(failed.statusCode).toBe(503);
    expect(failed.json()).toEqual({ ok: false, phase: 'failed' });
  });

  it('stays ready through a stuck checkpoint and says since when it runs, in /readyz and /status', async () => {
    const target = new TestingControlTarget();
    target.ready = true;
    target.checkpoint = {
      lastCompletedAt: '2026-12-07T10:00:00.000Z',
      inProgressSince: '2026-12-07T10:00:05.000Z',
      lastError: 'uploading s3://b/k at http://s3:9000 timed out 3 times',
    };
    const app = buildServer({ target, registry: new Registry(), controlToken: 's3cret' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ ready: true, checkpoint: target.checkpoint });
    expect((await app.inject({ method: 'GET', url: '/status', headers: auth })).json()).toMatchObject({ checkpoint: target.checkpoint });
  });

  it('refuses control requests without the token, and all of them when no token is configured', async () => {
    const target = new TestingControlTarget();
    const open = buildServer({ target, registry: new Registry(), controlToken: undefined });
    const disabled = await open.inject({ method: 'POST', url: '/savepoints', headers: auth, payload: {} });
    expect(disabled.statusCode).toBe(503);
    expect(disabled.json()).toMatchObject({ code: 'SLUICE_E_CONTROL_DISABLED' });
    const app = buildServer({ target, registry: new Registry(), controlToken: 's3cret' });
    expect((await app.inject({ method: 'GET', url: '/status', headers: { authorization: 'Bearer s3cre' } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/status', headers: { authorization: 's3cret' } })).statusCode).toBe(401);
    expect(target.savepoints).toEqual([]);
  });

  it('refuses a missing, empty, same-length wrong or longer token on every control route, and tells no caller the token', async () => {
    const target = new TestingControlTarget();
    const app = buildServer({ target, registry: new Registry(), controlToken: 's3cret' });
    const wrong = [undefined, 'Bearer ', 'Bearer s3creT', 'Bearer s3cret0', 'Basic s3cret', 'bearer s3cret'];
    for (const authorization of wrong) {
      for (const [method, url] of [
        ['GET', '/status'],
        ['POST', '/savepoints'],
        ['POST', '/stop?savepoint=true'],
      ] as const) {
        const answer = await app.inject({
          method,
          url,
          headers: authorization === undefined ? {} : { authorization },
          payload: method === 'POST' ? {} : undefined,
        });
        expect([authorization, url, answer.statusCode]).toEqual([authorization, url, 401]);
        expect(answer.body).not.toContain('s3cret');
      }
    }
    expect(target.savepoints).toEqual([]);
    expect(target.stops).toEqual([]);
  });

  it('answers status, savepoints and stop in the shapes of the control API', async () => {
    const target = new TestingControlTarget();
    const app = buildServer({ target, registry: new Registry(), controlToken: 's3cret' });
    expect((await app.inject({ method: 'GET', url: '/status', headers: auth })).json()).toMatchObject({
      job: 'fraud',
      partitions: [{ watermark: 'Infinity' }],
    });
    const taken = await app.inject({ method: 'POST', url: '/savepoints', headers: auth, payload: { id: 'shared-1' } });
    expect(taken.statusCode).toBe(201);
    expect(taken.json()).toEqual({ id: 'shared-1', location: '/tmp/savepoints/shared-1', complete: true });
    const bad = await app.inject({ method: 'POST', url: '/savepoints', headers: auth, payload: { id: '../x' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'SLUICE_E_BAD_REQUEST' });
    const stop = await app.inject({ method: 'POST', url: '/stop?savepoint=true', headers: auth });
    expect(stop.json()).toEqual({ stopped: true, savepoint: { id: 'sp-2', location: '/tmp/savepoints/sp-2', complete: true } });
  });

  it('hands the shared savepoint id of POST /stop to the target, and refuses an id without savepoint=true', async () => {
    const target = new TestingControlTarget();
    const app = buildServer({ target, registry: new Registry(), controlToken: 's3cret' });
    const stop = await app.inject({ method: 'POST', url: '/stop?savepoint=true&id=upgrade-7', headers: auth });
    expect(stop.statusCode).toBe(200);
    expect(stop.json()).toEqual({ stopped: true, savepoint: { id: 'upgrade-7', location: '/tmp/savepoints/upgrade-7', complete: true } });
    const lone = await app.inject({ method: 'POST', url: '/stop?id=upgrade-7', headers: auth });
    expect(lone.statusCode).toBe(400);
    expect(lone.json()).toMatchObject({ code: 'SLUICE_E_BAD_REQUEST', message: expect.stringMatching(/send savepoint=true with the id/) as unknown });
    expect((await app.inject({ method: 'POST', url: '/stop?savepoint=true&id=../x', headers: auth })).statusCode).toBe(400);
    expect(target.stops).toEqual([{ savepoint: true, id: 'upgrade-7' }]);
    const conflicting = await app.inject({ method: 'POST', url: '/stop', headers: auth });
    expect(conflicting.statusCode).toBe(409);
    expect(conflicting.json()).toEqual({ code: 'SLUICE_E_STOPPED', message: 'stopped already' });
  });

  it('writes fastify’s own lines to the pod’s log at warn, not a line per probe or scrape', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(
          ...chunk
            .toString('utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Record<string, unknown>),
        );
        done();
      },
    });
    const log = createRuntimeLog({ destination }).child({ job: 'fraud' });
    const app = buildServer({ target: new TestingControlTarget(), registry: new Registry(), controlToken: 's3cret', log });
    await app.inject({ method: 'GET', url: '/healthz' });
    app.log.warn('a route took too long');
    expect(lines.map(({ level, job, component, msg, event }) => ({ level, job, component, event: event ?? msg }))).toEqual([
      { level: 'warn', job: 'fraud', component: 'http', event: 'a route took too long' },
    ]);
  });
});
