// spec.state.ttl from the spec to each operator's keyed state: windows without it, other operators with it, over a real RocksDB.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileJobOrThrow } from '../compiler/compile.js';
import { CacheBudget } from './cache-budget.js';
import { ManualClock } from '../time/manual-clock.js';
import { jobStateTtl, operatorStates } from './job-state.js';
import type { Json, StateCodec } from './keyed.js';
import { RocksDbStore } from './rocksdb-store.js';
import { TaskState } from './task-state.js';

const json: StateCodec<Json> = { encode: (v) => v, decode: (v) => v };

function job(state?: Record<string, unknown>) {
  return compileJobOrThrow({
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'fraud' },
    spec: {
      sources: [{ name: 'transactions', kafka: { topic: 'transactions' }, format: 'json', eventTime: { field: 'timestamp', maxOutOfOrderness: '30s' } }],
      pipeline: [
        { filter: 'amount > 0' },
        { keyBy: { field: 'customer_id' } },
        { window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'txn_count', fn: 'count' }] },
      ],
      sinks: [{ name: 'out', kafka: { topic: 'fraud-features' } }],
      ...(state === undefined ? {} : { state }),
    },
  });
}

let dir: string;
let store: RocksDbStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-job-state-'));
  store = await RocksDbStore.open(dir);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('spec.state.ttl is compiled to milliseconds of processing time; without it there is no TTL', () => {
  expect(job({ ttl: '10m' }).stateTtl).toBe(600_000);
  expect(jobStateTtl(job({ ttl: '10m' }))).toEqual({ ms: 600_000, clock: Date.now });
  expect(job().stateTtl).toBeUndefined();
  expect(jobStateTtl(job())).toBeUndefined();
});

test('a window keeps its state past the TTL; an operator that is not a window loses what it has not touched', () => {
  const { dataflow } = job({ ttl: '1s' });
  const ids = new Map(dataflow.nodes.map((node) => [node.kind as string, node.id]));
  let now = 1_000;
  const task = new TaskState({ store, partition: 0, cache: new CacheBudget(1_000), ttl: { ms: 1_000, clock: () => now } });
  const states = operatorStates(dataflow, task);
  const window = states(ids.get('window')!, json);
  const filter = states(ids.get('filter')!, json);
  window.put('c1', 1);
  filter.put('c1', 1);
  task.flush();
  now = 2_000;
  expect(window.get('c1')).toBe(1);
  expect(filter.get('c1')).toBeUndefined();
});

test('the job’s TTL counts on the clock it is given: what was not touched for spec.state.ttl is gone, what was is kept', () => {
  const { dataflow } = job({ ttl: '10m' });
  const filterId = dataflow.nodes.find((node) => node.kind === 'filter')!.id;
  const clock = new ManualClock(Date.parse('2026-12-07T12:00:00Z'));
  const task = new TaskState({ store, partition: 0, cache: new CacheBudget(1_000), ttl: jobStateTtl(job({ ttl: '10m' }), clock.now) });
  const filter = operatorStates(dataflow, task)(filterId, json);
  filter.put('quiet', 1);
  filter.put('busy', 1);
  task.flush();
  clock.advance(599_999);
  filter.put('busy', 2);
  expect(filter.get('quiet')).toBe(1);
  clock.advance(1);
  expect(filter.get('quiet')).toBeUndefined();
  expect(filter.get('busy')).toBe(2);
});
