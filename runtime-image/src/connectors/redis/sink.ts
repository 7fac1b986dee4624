// The Redis feature-store sink: each result SET (or HSET) under a key from a template, with a TTL, pipelined once per commit.
import { Redis } from 'ioredis';
import { messageOf } from '../../error-message.js';
import { systemClock, type RuntimeClock } from '../../time/clock.js';
import { parseKeyTemplate, type KeyTemplate } from '../key-template.js';
import type { KeyValue } from '../../dataflow/keys.js';
import { subjectSinkKeys } from '../../erasure/sink-keys.js';
import type { DeadLetter, Sink, SinkRecord } from '../sink.js';
import { WriteBuffer } from '../write-buffer.js';

export interface RedisSinkOptions {
  /** A redis:// URL; ignored when `client` is given. */
  url?: string;
  /** A client to use instead of connecting to `url`; the sink leaves it open on close. */
  client?: Redis;
  /** Key template, e.g. `fraud_features:{customer_id}:txn_count_5m`, or one already parsed (with expressions). */
  key: string | KeyTemplate;
  /**
   * `string` (default): SET one value per key. `hash`: every field of the result as a field of a hash (strings as
   * they are, other values as JSON), so a reader can HGET one feature; the hash is replaced whole (DEL and HSET
   * in one MULTI), so it holds exactly the latest result and readers never see half of one.
   */
  dataType?: 'string' | 'hash';
  /**
   * For `string`: the field of the result to store, e.g. `txn_count`: a string is stored as it is, anything else
   * as JSON (so 3 is stored as "3"). Absent: the whole result as JSON.
   */
  valueField?: string;
  /** Time to live of each key, ms, counted from the write. Absent: keys do not expire. */
  ttlMs?: number;
  /** Keys per round trip (a pipeline, or a MULTI for hashes). Default 1000. */
  batchSize?: number;
  /** How long a connection and a command may take, and how often a commit is tried; REDIS_TIMEOUTS where absent. */
  timeouts?: Partial<RedisTimeouts>;
  /** What the backoff between tries waits on: the system clock, or a test's manual one. */
  clock?: RuntimeClock;
}

/**
 * Bounds on every Redis call. A frozen Redis (a stopped process, a black-holed route) keeps the TCP connection open
 * and never answers: without a command timeout a commit, and with it the job, would wait for ever.
 */
export interface RedisTimeouts {
  /** Until the TCP connection is open. */
  connectMs: number;
  /** Until Redis answers a command (each command of a pipeline alike). */
  commandMs: number;
  /** Tries of one commit, the first included, with a jittered backoff in between; then the commit fails. */
  attempts: number;
}

export const REDIS_TIMEOUTS: RedisTimeouts = { connectMs: 5_000, commandMs: 5_000, attempts: 3 };

/**
 * Idempotent by construction: a key holds the latest value written for it, and a replay after a crash writes
 * the same values under the same keys again. Within one commit only the last value per key is sent.
 */
export class RedisSink implements Sink {
  readonly template: KeyTemplate;
  private readonly client: Redis;
  private readonly owned: boolean;
  private readonly valueField: string | undefined;
  private readonly ttlMs: number | undefined;
  private readonly batchSize: number;
  private readonly hash: boolean;
  private readonly timeouts: RedisTimeouts;
  private readonly clock: RuntimeClock;
  /** Per key, the latest value: a string to SET, a hash's field–value pairs to HSET, or null to DEL (an erasure). */
  private readonly pending = new WriteBuffer<string | string[] | null>();
  private connectionError: Error | undefined;

  constructor(options: RedisSinkOptions) {
    this.template = typeof options.key === 'string' ? parseKeyTemplate(options.key) : options.key;
    if (options.ttlMs !== undefined && !(Number.isInteger(options.ttlMs) && options.ttlMs > 0)) {
      throw new Error(
        `redis sink ttl ${options.ttlMs} ms is not valid; use a positive whole number of milliseconds, or leave it out for keys that never expire`,
      );
    }
    this.hash = options.dataType === 'hash';
    if (this.hash && options.valueField !== undefined)
      throw new Error('redis sink: a hash stores every field of the result; leave out valueField, or use dataType string');
    if (!options.client && !options.url) throw new Error('redis sink needs a url such as redis://127.0.0.1:6379 (or a client)');
    this.owned = !options.client;
    this.timeouts = { ...REDIS_TIMEOUTS, ...options.timeouts };
    this.clock = options.clock ?? systemClock;
    const { connectMs, commandMs } = this.timeouts;
    // A commit fails within about a second when Redis is unreachable, rather than ioredis's default of several;
    // and closing an unreachable client does not hold the process for ioredis's default 2 s.
    this.client =
      options.client ??
      new Redis(options.url!, {
        lazyConnect: true,
        maxRetriesPerRequest: 3,
        retryStrategy: (times) => Math.min(times * 100, 500),
        disconnectTimeout: 200,
        connectTimeout: connectMs,
        commandTimeout: commandMs,
      });
    // Connection errors are reported by the commit that they fail, with the cause; not as unhandled error events.
    if (this.owned) this.client.on('error', (error: Error) => (this.connectionError = error));
    this.valueField = options.valueField;
    this.ttlMs = options.ttlMs;
    this.batchSize = options.batchSize ?? 1000;
  }

  write(record: SinkRecord): DeadLetter | undefined {
    const key = this.template.render(record.value);
    if (!key.ok) return { reason: key.reason, record };
    const value = this.hash ? fields(record.value) : this.encode(record.value);
    if (!isValue(value)) return { reason: value.reason, record };
    this.pending.put(key.key, value);
    return undefined;
  }

  /** A GDPR erasure: DEL of the keys the template renders for the subject, sent with the commit after the writes before it. */
  erase(field: string, subject: KeyValue): boolean {
    const keys = subjectSinkKeys(this.template, field, subject);
    if (keys === undefined) return false;
    for (const key of keys) this.pending.put(key, null);
    return true;
  }

  /**
   * Sends the buffered writes, `batchSize` keys per round trip; resolves once Redis has acknowledged every one.
   * A failed try is repeated (the writes are idempotent) up to `attempts` times; then the commit fails and the
   * writes stay buffered for the next one.
   */
  async commit(): Promise<void> {
    await this.pending.commit((entries) => this.send(entries), {
      attempts: this.timeouts.attempts,
      clock: this.clock,
      failure: (error, attempts) => this.failure(error, attempts),
    });
  }

  private async send(entries: readonly (readonly [string, string | string[] | null])[]): Promise<void> {
    const pipelines: Promise<void>[] = [];
    for (let i = 0; i < entries.length; i += this.batchSize) {
      const pipeline = this.hash ? this.client.multi() : this.client.pipeline();
      for (const [key, value] of entries.slice(i, i + this.batchSize)) {
        if (value === null) pipeline.del(key);
        else if (typeof value !== 'string') {
          pipeline.del(key);
          pipeline.hset(key, ...value);
          if (this.ttlMs !== undefined) pipeline.pexpire(key, this.ttlMs);
        } else if (this.ttlMs === undefined) pipeline.set(key, value);
        else pipeline.set(key, value, 'PX', this.ttlMs);
      }
      pipelines.push(pipeline.exec().then(check, (error: Error) => check(null, error)));
    }
    const results = await Promise.allSettled(pipelines);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private failure(error: unknown, attempts: number): Error {
    const { host, port } = this.client.options;
    const where = `${host ?? '?'}:${port ?? '?'}`;
    const cause = this.client.status === 'ready' || !this.connectionError ? messageOf(error) : this.connectionError.message;
    const tries = attempts === 1 ? '' : ` ${attempts} times`;
    const hint = /timed out/.test(cause)
      ? `Redis took longer than ${this.timeouts.commandMs} ms to answer: check that Redis at ${where} is up and not overloaded`
      : `check that Redis at ${where} is up and reachable`;
    return new Error(`redis sink: writing to ${where} failed${tries} (${cause}); ${hint}; the results are kept for the next commit`);
  }

  async close(): Promise<void> {
    try {
      await this.commit();
    } finally {
      // QUIT waits for the server; a client that is not connected is just disconnected.
      if (this.owned && this.client.status === 'ready') await this.client.quit();
      else if (this.owned) this.client.disconnect();
    }
  }

  private encode(value: Record<string, unknown>): string | { reason: string } {
    if (this.valueField === undefined) return json(value);
    if (!Object.hasOwn(value, this.valueField) || value[this.valueField] === undefined) {
      return { reason: `redis sink value field "${this.valueField}" is missing from the result; add it to the result or choose another valueField` };
    }
    const field = value[this.valueField];
    return typeof field === 'string' ? field : json(field);
  }
}

function isValue(value: string | string[] | { reason: string }): value is string | string[] {
  return typeof value === 'string' || Array.isArray(value);
}

/** A result as a hash's field–value pairs. */
function fields(value: Record<string, unknown>): string[] | { reason: string } {
  const pairs: string[] = [];
  for (const [field, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const encoded = typeof v === 'string' ? v : json(v);
    if (typeof encoded !== 'string') return encoded;
    pairs.push(field, encoded);
  }
  return pairs.length > 0 ? pairs : { reason: 'redis sink: the result has no fields to store in a hash' };
}

function json(value: unknown): string | { reason: string } {
  try {
    return JSON.stringify(value);
  } catch (error) {
    return { reason: `redis sink cannot write the value as JSON: ${messageOf(error)}` };
  }
}

function check(results: [Error | null, unknown][] | null, failure?: Error): void {
  if (failure) throw failure;
  if (results === null) throw new Error('the pipeline was discarded');
  const error = results.find(([e]) => e !== null)?.[0];
  if (error) throw new Error(`a write failed: ${error.message}`);
}
