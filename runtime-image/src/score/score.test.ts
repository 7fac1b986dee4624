// The score step against a real local HTTP model: order, watermarks, micro-batches, backpressure, failures and metrics.
import { Registry } from 'prom-client';
import { DataStream } from '../dataflow/datastream.js';
import { Task } from '../dataflow/task.js';
import { MemoryKeyedState } from '../state/keyed.js';
import { tumbling } from '../window/assigners.js';
import { ScoringClient } from './client.js';
import { ScoreMetrics, registerOperatorMetrics } from './metrics.js';
import { fraudScore, MODEL_VERSION, type ModelServer, type ModelServerOptions, startModelServer } from './model-server.js';
import type { ScoreOptions } from './operator.js';

type Row = Record<string, unknown>;

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function model(options: ModelServerOptions = {}): Promise<ModelServer> {
  server = await startModelServer(options);
  return server;
}

function client(url: string, settings: Partial<ConstructorParameters<typeof ScoringClient>[0]> = {}): ScoringClient {
  return new ScoringClient({ url, timeout: 2000, retries: 3, retryBackoff: 1, ...settings });
}

/** The score step alone, into `fraud`, driven as a task; what comes out is recorded in order. */
function scoringTask(score: Partial<ScoreOptions> & Pick<ScoreOptions, 'endpoint'>, then: (stream: DataStream<Row>) => DataStream<Row> = (s) => s) {
  const events: ({ result: Row } | { deadLetter: string } | { late: Row })[] = [];
  const stream = DataStream.fromSource<Row>({ maxOutOfOrderness: 0 }).score(
    {
      request: (record) => record,
      join: (record, answer) => ({ ...record, fraud: answer }),
      batchSize: 1,
      concurrency: 4,
      queueSize: 1000,
      ...score,
    },
    { id: 'fraud-model' },
  );
  const task = new Task(then(stream).build(), {
    state: (_id, _codec) => new MemoryKeyedState(),
    outputs: {
      result: ({ value }) => events.push({ result: value }),
      late: ({ value }) => events.push({ late: value }),
      deadLetter: ({ reason }) => events.push({ deadLetter: reason }),
    },
  });
  return { task, events };
}

const scored = (amount: number) => ({ score: fraudScore(amount), model: { version: MODEL_VERSION } });

/** Feeds records as a source loop does: one at a time, waiting whenever the task has no room. */
async function feed(task: Task, records: Row[], read: { count: number } = { count: 0 }): Promise<void> {
  for (const record of records) {
    task.processRecord(record, Number(record.ts ?? 0));
    read.count += 1;
    const room = task.room();
    if (room !== undefined) await room;
  }
}

async function settled(task: Task): Promise<void> {
  (await task.settle())();
}

describe('the score step', () => {
  it('joins each record’s answer and emits records in input order, though later calls answer first', async () => {
    const { url } = await model({ delay: (body) => 40 - 5 * Number((body as Row).id) });
    const { task, events } = scoringTask({ endpoint: client(url), concurrency: 8 });
    const records = [0, 1, 2, 3, 4, 5, 6, 7].map((id) => ({ id, amount: id * 1000 }));
    await feed(task, records);
    await settled(task);
    expect(events).toEqual(records.map((record) => ({ result: { ...record, fraud: scored(record.amount) } })));
    expect(server!.maxInFlight).toBeGreaterThan(1);
  });

  it('keeps at most concurrency calls in flight', async () => {
    const { url } = await model({ delay: () => 5 });
    const { task, events } = scoringTask({ endpoint: client(url), concurrency: 3 });
    await feed(
      task,
      Array.from({ length: 30 }, (_, id) => ({ id, amount: id })),
    );
    await settled(task);
    expect(events).toHaveLength(30);
    expect(server!.maxInFlight).toBe(3);
  });

  it('holds the watermark behind records whose calls are running, so a window after the step counts them on time', async () => {
    const { url } = await model({ delay: (body) => (Number((body as Row).ts) < 5000 ? 30 : 0) });
    const { task, events } = scoringTask({ endpoint: client(url) }, (stream) =>
      stream
        .keyBy('card')
        .window(tumbling(5000), { id: 'per-card' })
        .aggregate([{ name: 'txn_count', fn: 'count' }]),
    );
    // The third record moves the watermark past the first window's end while the first two are still being scored.
    await feed(task, [
      { card: 'c1', ts: 1000, amount: 10 },
      { card: 'c1', ts: 2000, amount: 20 },
      { card: 'c1', ts: 60_000, amount: 30 },
    ]);
    await settled(task);
    expect(events).toEqual([{ result: { card: 'c1', window_start: '1970-01-01T00:00:00.000Z', window_end: '1970-01-01T00:00:05.000Z', txn_count: 2 } }]);
  });

  it('sends micro-batches: 250 records with batchSize 100 and one call at a time go in calls of 100, 100 and 50 JSON arrays', async () => {
    const { url, calls } = await model();
    const { task, events } = scoringTask({ endpoint: client(url), batchSize: 100, concurrency: 1 });
    const records = Array.from({ length: 250 }, (_, id) => ({ id, amount: id * 20 }));
    for (const record of records) task.processRecord(record, 0);
    await settled(task);
    expect(calls.map((body) => (body as unknown[]).length)).toEqual([100, 100, 50]);
    expect(events).toEqual(records.map((record) => ({ result: { ...record, fraud: scored(record.amount) } })));
  });

  it('pauses the source when its queue is full: with a stuck model, it reads queueSize records and waits', async () => {
    const stuck = await model();
    stuck.closeGate();
    const { task, events } = scoringTask({ endpoint: client(stuck.url), concurrency: 2, queueSize: 10 });
    const read = { count: 0 };
    const feeding = feed(
      task,
      Array.from({ length: 100 }, (_, id) => ({ id, amount: id })),
      read,
    );
    await stuck.received(2);
    // Let everything that does not wait on the model run; the feeder stays where the full queue stopped it.
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(read.count).toBe(10);
    expect(stuck.calls).toHaveLength(2);
    stuck.openGate();
    await feeding;
    await settled(task);
    expect(read.count).toBe(100);
    expect(events.map((event) => ('result' in event ? event.result.id : event))).toEqual(Array.from({ length: 100 }, (_, id) => id));
  });

  it('a commit waits for the calls in flight: settle resolves only after every record handed in has been emitted', async () => {
    const slow = await model();
    slow.closeGate();
    const { task, events } = scoringTask({ endpoint: client(slow.url) });
    task.processRecord({ id: 1, amount: 5 }, 0);
    let done = false;
    const settling = task.settle().then((letIn) => {
      done = true;
      return letIn;
    });
    await slow.received(1);
    expect(done).toBe(false);
    // Reading is held back while the commit waits.
    expect(task.room()).toBeDefined();
    slow.openGate();
    (await settling)();
    expect(events).toEqual([{ result: { id: 1, amount: 5, fraud: scored(5) } }]);
    expect(task.room()).toBeUndefined();
  });

  it('dead-letters a record whose call failed, with the status, the body cut short and the URL without credentials; 5xx retried, 4xx not', async () => {
    const { url } = await model({
      fail: (body) => {
        const amount = (body as Row).amount;
        if (amount === 13) return { status: 503, body: 'model reloading' };
        if (amount === 7) return { status: 400, body: `bad request: ${'x'.repeat(500)}` };
        return undefined;
      },
    });
    const secretUrl = url.replace('http://', 'http://scorer:hunter2@') + '?api_key=s3cret';
    const metrics = new ScoreMetrics();
    const { task, events } = scoringTask({ endpoint: client(secretUrl, { retries: 2 }), observer: metrics });
    await feed(task, [
      { id: 'a', amount: 13 },
      { id: 'b', amount: 7 },
      { id: 'c', amount: 100 },
    ]);
    await settled(task);
    const shown = url;
    expect(events).toEqual([
      { deadLetter: `fraud-model: score call to ${shown} failed, after 3 attempts: HTTP 503: "model reloading"` },
      {
        deadLetter: `fraud-model: score call to ${shown} failed: HTTP 400: ${JSON.stringify(`bad request: ${'x'.repeat(500)}`.slice(0, 200))}… (513 characters)`,
      },
      { result: { id: 'c', amount: 100, fraud: scored(100) } },
    ]);
    expect(server!.calls.map((body) => (body as Row).id).sort()).toEqual(['a', 'a', 'a', 'b', 'c']);
    const registry = new Registry();
    registry.registerMetric(metrics.calls);
    const text = await registry.metrics();
    expect(text).toContain('sluice_score_calls_total{step="fraud-model",outcome="failed"} 2');
    expect(text).toContain('sluice_score_calls_total{step="fraud-model",outcome="ok"} 1');
  });

  it('gives up on a call with no answer within the timeout, retries it, then dead-letters the record and goes on', async () => {
    const { url } = await model({ hang: (body) => (body as Row).amount === 99 });
    const { task, events } = scoringTask({ endpoint: client(url, { timeout: 50, retries: 1 }) });
    await feed(task, [
      { id: 'hung', amount: 99 },
      { id: 'fine', amount: 1 },
    ]);
    await settled(task);
    expect(events).toEqual([
      { deadLetter: `fraud-model: score call to ${url} failed, after 2 attempts: no answer within 50 ms` },
      { result: { id: 'fine', amount: 1, fraud: scored(1) } },
    ]);
  });

  it('dead-letters a batch whose answer is not one answer per record', async () => {
    const { url } = await model();
    const short = { call: async (body: unknown) => ((await client(url).call(body)) as unknown[]).slice(1) };
    const { task, events } = scoringTask({ endpoint: short, batchSize: 10 });
    task.processRecord({ id: 1, amount: 1 }, 0);
    task.processRecord({ id: 2, amount: 2 }, 0);
    await settled(task);
    expect(events).toEqual([
      { deadLetter: 'fraud-model: the answer to a batch of 2 records has 1 answers; it must have one per record, in order' },
      { deadLetter: 'fraud-model: the answer to a batch of 2 records has 1 answers; it must have one per record, in order' },
    ]);
  });

  it('registers the job’s score metrics in the process registry once, whatever the number of score steps', () => {
    const metrics = new ScoreMetrics();
    const endpoint = { call: () => Promise.resolve({}) };
    const options = { endpoint, request: (r: Row) => r, join: (r: Row) => r, batchSize: 1, concurrency: 1, queueSize: 1, observer: metrics };
    const dataflow = DataStream.fromSource<Row>({ maxOutOfOrderness: 0 }).score(options, { id: 'a' }).score(options, { id: 'b' }).build();
    const registry = new Registry();
    registerOperatorMetrics(registry, dataflow);
    expect(
      registry
        .getMetricsAsArray()
        .map((metric) => metric.name)
        .sort(),
    ).toEqual(['sluice_score_call_duration_seconds', 'sluice_score_calls_total', 'sluice_score_records_total']);
  });
});
