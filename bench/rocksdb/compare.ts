// Measures the two RocksDB bindings, `rocksdb` and `@nxtedition/rocksdb`, side by side in one run on this machine.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

const KEYS = Number(process.env.BENCH_KEYS ?? 200_000);
const VALUE_BYTES = 100;
const BATCH = 1_000;
const PARTITIONS = 8;
const HOT_KEYS = 1_000;
const GETS = Number(process.env.BENCH_GETS ?? 100_000);
const MULTI_GET = 100;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

type Callback<T> = (err: Error | null | undefined, value: T) => void;

/** The callback API of `rocksdb` (abstract-leveldown 7); it ships no types. */
interface LevelDown {
  open(options: object, cb: Callback<void>): void;
  close(cb: Callback<void>): void;
  batch(ops: { type: 'put' | 'del'; key: string; value?: string }[], cb: Callback<void>): void;
  get(key: string, options: object, cb: Callback<string>): void;
  getMany(keys: string[], options: object, cb: Callback<(string | undefined)[]>): void;
  iterator(options: object): { next(cb: (err: Error | null | undefined, key?: string, value?: string) => void): void; end(cb: Callback<void>): void };
}

/** The parts of `@nxtedition/rocksdb` (abstract-level 1 plus its own sync calls) measured here; it ships no types. */
interface RocksLevel {
  open(): Promise<void>;
  close(): Promise<void>;
  batch(ops: { type: 'put' | 'del'; key: string; value?: string }[]): Promise<void>;
  get(key: string): Promise<string>;
  getMany(keys: string[]): Promise<(string | undefined)[]>;
  _getManySync(keys: string[], options: { valueEncoding: 'utf8' }): (string | undefined)[];
  iterator(options: object): { nextv(size: number): Promise<[string, string][]>; close(): Promise<void> };
  querySync(options: object): { rows: string[]; finished: boolean };
}

// Each binding is loaded only in its own child process: both export RocksDB's C++ symbols, some as STB_GNU_UNIQUE,
// which the dynamic linker binds across libraries, so the second one to open a DB in a shared process crashes.
const leveldown = (): ((location: string) => LevelDown) => require('rocksdb') as (location: string) => LevelDown;
const rocksLevel = (): new (location: string, options: object) => RocksLevel =>
  (require('@nxtedition/rocksdb') as { RocksLevel: new (location: string, options: object) => RocksLevel }).RocksLevel;

function promised<T>(call: (cb: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value))));
}

const keyOf = (i: number): string => `op1/p${String(i % PARTITIONS).padStart(2, '0')}/k${String(i).padStart(8, '0')}`;
const valueOf = (i: number): string => JSON.stringify({ n: i, v: 'x'.repeat(VALUE_BYTES - 20 - String(i).length) });

/** A fixed pseudo-random sequence so both bindings read the same keys in the same order. */
function indices(count: number, range: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % range;
  });
}

/** One binding behind the operations the benchmark times; sync variants only where the binding has them. */
interface Subject {
  name: string;
  open: (dir: string) => Promise<void>;
  close: () => Promise<void>;
  putBatch: (from: number, to: number) => Promise<void>;
  get: (key: string) => Promise<string | undefined>;
  getSync?: (key: string) => string | undefined;
  getMany: (keys: string[]) => Promise<(string | undefined)[]>;
  getManySync?: (keys: string[]) => (string | undefined)[];
  scan: (prefix: string) => Promise<number>;
  scanSync?: (prefix: string) => number;
}

function batchOps(from: number, to: number): { type: 'put'; key: string; value: string }[] {
  const ops: { type: 'put'; key: string; value: string }[] = [];
  for (let i = from; i < to; i++) ops.push({ type: 'put', key: keyOf(i), value: valueOf(i) });
  return ops;
}

function levelDownSubject(): Subject {
  let db: LevelDown;
  return {
    name: 'rocksdb',
    async open(dir) {
      db = leveldown()(dir);
      await promised<void>((cb) => db.open({ createIfMissing: true }, cb));
    },
    close: () => promised<void>((cb) => db.close(cb)),
    putBatch: (from, to) => promised<void>((cb) => db.batch(batchOps(from, to), cb)),
    get: (key) => promised<string>((cb) => db.get(key, { asBuffer: false }, cb)),
    getMany: (keys) => promised((cb) => db.getMany(keys, { asBuffer: false }, cb)),
    async scan(prefix) {
      const it = db.iterator({ gte: prefix, lt: `${prefix}\xff`, keyAsBuffer: false, valueAsBuffer: false });
      let count = 0;
      for (;;) {
        const key = await new Promise<string | undefined>((resolve, reject) => it.next((err, k) => (err ? reject(err) : resolve(k))));
        if (key === undefined) break;
        count++;
      }
      await promised<void>((cb) => it.end(cb));
      return count;
    },
  };
}

function nxteditionSubject(): Subject {
  let db: RocksLevel;
  return {
    name: '@nxtedition/rocksdb',
    async open(dir) {
      db = new (rocksLevel())(dir, {});
      await db.open();
    },
    close: () => db.close(),
    putBatch: (from, to) => db.batch(batchOps(from, to)),
    get: (key) => db.get(key),
    getSync: (key) => db._getManySync([key], { valueEncoding: 'utf8' })[0],
    getMany: (keys) => db.getMany(keys),
    getManySync: (keys) => db._getManySync(keys, { valueEncoding: 'utf8' }),
    async scan(prefix) {
      const it = db.iterator({ gte: prefix, lt: `${prefix}\xff` });
      let count = 0;
      for (let rows = await it.nextv(BATCH); rows.length > 0; rows = await it.nextv(BATCH)) count += rows.length;
      await it.close();
      return count;
    },
    scanSync(prefix) {
      let count = 0;
      let from: Record<string, string> = { gte: prefix };
      for (;;) {
        // `finished` is also set when the limit is reached, so a short page is what marks the end.
        const { rows } = db.querySync({ ...from, lt: `${prefix}\xff`, limit: BATCH, keyEncoding: 'utf8', valueEncoding: 'utf8' });
        count += rows.length / 2;
        if (rows.length < BATCH * 2) break;
        from = { gt: rows[rows.length - 2] as string };
      }
      return count;
    },
  };
}

async function rate(ops: number, run: () => unknown): Promise<number> {
  const started = process.hrtime.bigint();
  await run();
  return ops / (Number(process.hrtime.bigint() - started) / 1e9);
}

type Figures = Map<string, number>;

async function measure(subject: Subject, dir: string): Promise<Figures> {
  const figures: Figures = new Map();
  await subject.open(dir);
  figures.set(
    `put, batches of ${BATCH}`,
    await rate(KEYS, async () => {
      for (let from = 0; from < KEYS; from += BATCH) await subject.putBatch(from, Math.min(KEYS, from + BATCH));
    }),
  );
  // Reopening flushes the memtable into SST files and empties the block cache: the "cold" reads come from disk blocks.
  await subject.close();
  await subject.open(dir);

  const cold = indices(GETS, KEYS, 7).map(keyOf);
  figures.set(
    'get cold, async, one at a time',
    await rate(cold.length, async () => {
      for (const key of cold) if ((await subject.get(key)) === undefined) throw new Error(`missing ${key}`);
    }),
  );
  if (subject.getSync) {
    const coldSync = indices(GETS, KEYS, 11).map(keyOf);
    const getSync = subject.getSync;
    figures.set(
      'get cold, sync, one at a time',
      await rate(coldSync.length, () => {
        for (const key of coldSync) if (getSync(key) === undefined) throw new Error(`missing ${key}`);
      }),
    );
  }

  const hot = indices(GETS, HOT_KEYS, 13).map((i) => keyOf(Math.floor((i * KEYS) / HOT_KEYS)));
  for (const key of hot.slice(0, HOT_KEYS * 4)) await subject.get(key);
  figures.set(
    `get hot (${HOT_KEYS} keys), async, one at a time`,
    await rate(hot.length, async () => {
      for (const key of hot) if ((await subject.get(key)) === undefined) throw new Error(`missing ${key}`);
    }),
  );
  if (subject.getSync) {
    const getSync = subject.getSync;
    figures.set(
      `get hot (${HOT_KEYS} keys), sync, one at a time`,
      await rate(hot.length, () => {
        for (const key of hot) if (getSync(key) === undefined) throw new Error(`missing ${key}`);
      }),
    );
  }

  const groups: string[][] = [];
  for (let i = 0; i < cold.length; i += MULTI_GET) groups.push(cold.slice(i, i + MULTI_GET));
  figures.set(
    `multi-get of ${MULTI_GET}, async`,
    await rate(cold.length, async () => {
      for (const keys of groups) await subject.getMany(keys);
    }),
  );
  if (subject.getManySync) {
    const getManySync = subject.getManySync;
    figures.set(
      `multi-get of ${MULTI_GET}, sync`,
      await rate(cold.length, () => {
        for (const keys of groups) getManySync(keys);
      }),
    );
  }

  const prefixes = Array.from({ length: PARTITIONS }, (_, p) => `op1/p${String(p).padStart(2, '0')}/`);
  figures.set(
    `prefix scan (${PARTITIONS} prefixes of ${KEYS / PARTITIONS}), async`,
    await rate(KEYS, async () => {
      let seen = 0;
      for (const prefix of prefixes) seen += await subject.scan(prefix);
      if (seen !== KEYS) throw new Error(`scan saw ${seen} of ${KEYS} keys`);
    }),
  );
  if (subject.scanSync) {
    const scanSync = subject.scanSync;
    figures.set(
      `prefix scan (${PARTITIONS} prefixes of ${KEYS / PARTITIONS}), sync`,
      await rate(KEYS, () => {
        let seen = 0;
        for (const prefix of prefixes) seen += scanSync(prefix);
        if (seen !== KEYS) throw new Error(`scan saw ${seen} of ${KEYS} keys`);
      }),
    );
  }
  await subject.close();
  return figures;
}

/** Keeps each figure's best round: noise on a shared machine only ever slows a round down. */
function best(into: Figures, round: Figures): void {
  for (const [name, value] of round) into.set(name, Math.max(into.get(name) ?? 0, value));
}

function formatRate(value: number | undefined): string {
  return value === undefined ? '—' : Math.round(value).toLocaleString('en-US');
}

const subjects: Record<string, () => Subject> = { rocksdb: levelDownSubject, '@nxtedition/rocksdb': nxteditionSubject };

/** Child process: one round of one binding, its figures sent back to the parent. */
async function measureOne(name: string): Promise<void> {
  const subject = (subjects[name] as () => Subject)();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rocksdb-bench-'));
  try {
    const figures = await measure(subject, dir);
    await new Promise<void>((resolve, reject) => process.send?.([...figures], (err: Error | null) => (err ? reject(err) : resolve())));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(name: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [name], { execArgv: process.execArgv });
    let figures: Figures | undefined;
    child.on('message', (entries: [string, number][]) => (figures = new Map(entries)));
    child.on('error', reject);
    child.on('exit', (code, signal) => (figures ? resolve(figures) : reject(new Error(`measuring ${name} failed (exit code ${code}, signal ${signal})`))));
  });
}

async function main(): Promise<void> {
  const names = Object.keys(subjects);
  const results = new Map<string, Figures>(names.map((name) => [name, new Map()]));
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate the order so neither binding always runs on a warmer machine.
    for (const name of round % 2 === 1 ? names : [...names].reverse()) {
      best(results.get(name) as Figures, await runChild(name));
      process.stderr.write(`round ${round}/${ROUNDS}: ${name} done\n`);
    }
  }
  const [a, b] = names.map((name) => results.get(name) as Figures) as [Figures, Figures];
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((name) => {
    const ratio = a.has(name) && b.has(name) ? `${((b.get(name) as number) / (a.get(name) as number)).toFixed(2)}×` : '—';
    return [name, formatRate(a.get(name)), formatRate(b.get(name)), ratio];
  });
  const header = ['ops/s (best of rounds)', 'rocksdb', '@nxtedition/rocksdb', 'nxtedition ÷ rocksdb'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  console.log(`${KEYS} keys, ${VALUE_BYTES}-byte values, ${GETS} gets per figure, best of ${ROUNDS} rounds, node ${process.version}`);
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

const child = process.argv[2];
await (child === undefined ? main() : measureOne(child));
