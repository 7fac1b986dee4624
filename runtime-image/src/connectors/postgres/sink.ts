// The PostgreSQL sink: each result upserted into a table by its key columns, one transaction of multi-row upserts per commit.
import pg from 'pg';
import { messageOf } from '../../error-message.js';
import { systemClock, type RuntimeClock } from '../../time/clock.js';
import type { KeyValue } from '../../dataflow/keys.js';
import type { DeadLetter, Sink, SinkRecord } from '../sink.js';
import { WriteBuffer } from '../write-buffer.js';
import { parseTableName, quoteIdentifier, quoteTable, rowsPerStatement, showTable, upsertStatement, type TableName } from './sql.js';
import { PostgresSinkError } from './errors.js';
import { Fence } from './fence.js';
import { describeTable, missingColumn, type TableColumns } from './table.js';

/** A column the sink writes and how its value comes from a result. */
export interface PostgresColumn {
  name: string;
  /** Throws when the result has no value for the column; the message becomes the dead letter's reason. */
  value(result: Record<string, unknown>): unknown;
}

export interface PostgresSinkOptions {
  /** postgres://user@host:port/database; the password comes from `password`, else the url, else PGPASSWORD (as libpq reads it). */
  url?: string;
  password?: string;
  /** A pool to use instead of connecting to `url`; the sink leaves it open on close. */
  pool?: pg.Pool;
  /** `name` or `schema.name`. */
  table: string;
  /** The columns of the table's primary key or unique index an upsert conflicts on. */
  keyColumns: readonly string[];
  /** The columns to write and how; absent, each field of the result goes to the column of the same name. */
  columns?: readonly PostgresColumn[];
  /** Rows a statement at most (fewer when PostgreSQL's parameter limit says so). Default 1000. */
  batchSize?: number;
  timeouts?: Partial<PostgresTimeouts>;
  /**
   * What this sink is across restarts, e.g. `payments.fraud/0/velocity-table` (a pod's application id, ordinal and
   * sink name): its start fences every earlier sink of the same writer (see fence.ts). Absent: no fence (streamctl run).
   */
  writer?: string;
  /** What the backoff between tries waits on: the system clock, or a test's manual one. */
  clock?: RuntimeClock;
}

/**
 * Bounds on every PostgreSQL call. A frozen server (a stopped process, a black-holed route) keeps the TCP connection
 * open and never answers: without a query timeout a commit, and with it the job, would wait for ever.
 */
export interface PostgresTimeouts {
  /** Until a connection is open and authenticated. */
  connectMs: number;
  /** Until the server answers a statement. */
  queryMs: number;
  /** Tries of one commit, the first included, with a jittered backoff in between; then the commit fails. */
  attempts: number;
}

export const POSTGRES_TIMEOUTS: PostgresTimeouts = { connectMs: 5_000, queryMs: 30_000, attempts: 3 };

/** A row to write: column → value, in the result's (or the columns') order. */
type Row = ReadonlyMap<string, unknown>;
/** A GDPR erasure: delete every row whose key column holds the subject (as text: PostgreSQL casts it to the column's type). */
interface Erasure {
  readonly column: string;
  readonly subject: string;
}

/**
 * Idempotent by construction: a row holds the latest result written for its key, and a replay after a crash writes
 * the same results under the same keys again. Within one commit only the last result per key is sent, and a commit's
 * rows go in one transaction, so a reader sees all of a commit or none of it.
 */
export class PostgresSink implements Sink {
  readonly table: TableName;
  private readonly pool: pg.Pool;
  private readonly owned: boolean;
  private readonly keyColumns: readonly string[];
  private readonly columns: readonly PostgresColumn[] | undefined;
  private readonly batchSize: number;
  private readonly timeouts: PostgresTimeouts;
  private readonly clock: RuntimeClock;
  /** Where the sink writes, for messages: host:port/database, never the password. */
  private readonly where: string;
  /** Per key (the key columns' values as JSON), the latest row; and erasures, in order with the rows. */
  private readonly pending = new WriteBuffer<Row | Erasure>();
  private tableColumns: TableColumns | undefined;
  private readonly fence: Fence | undefined;
  private fenceTaken = false;
  private connectionError: Error | undefined;

  constructor(options: PostgresSinkOptions) {
    this.table = parseTableName(options.table);
    if (options.keyColumns.length === 0)
      throw new Error(
        `postgres sink for ${showTable(this.table)} needs keyColumns: the columns of the table's primary key, for example [customer_id, window_start]`,
      );
    if (!options.pool && !options.url) throw new Error('postgres sink needs a url such as postgres://sluice@127.0.0.1:5432/sluice (or a pool)');
    this.keyColumns = [...options.keyColumns];
    this.columns = options.columns;
    const missingKey = this.columns === undefined ? undefined : this.keyColumns.find((key) => !this.columns!.some((column) => column.name === key));
    if (missingKey !== undefined)
      throw new Error(
        `postgres sink for ${showTable(this.table)}: key column ${missingKey} is not among columns:; add ${missingKey} to columns, or leave columns out to write the result's fields as they are`,
      );
    this.timeouts = { ...POSTGRES_TIMEOUTS, ...options.timeouts };
    this.clock = options.clock ?? systemClock;
    this.batchSize = options.batchSize ?? 1000;
    this.owned = !options.pool;
    this.pool =
      options.pool ??
      new pg.Pool({
        connectionString: options.url,
        ...(options.password === undefined ? {} : { password: options.password }),
        // One commit runs at a time; a second connection lets a commit's retry open a fresh one while a broken one closes.
        max: 2,
        connectionTimeoutMillis: this.timeouts.connectMs,
        query_timeout: this.timeouts.queryMs,
        idleTimeoutMillis: 30_000,
        keepAlive: true,
      });
    // An idle connection the server drops is reported by the commit it fails, with the cause; not as an unhandled error event.
    if (this.owned) this.pool.on('error', (error: Error) => (this.connectionError = error));
    this.where = whereOf(options.url ?? this.pool.options.connectionString);
    this.fence = options.writer === undefined ? undefined : new Fence(options.writer, this.table.schema);
  }

  /**
   * Checks the table against the key columns and the mapped columns, so a table that does not fit stops the job
   * before its first result; and takes the writer's fence, so an older pod of the same writer writes no more.
   */
  async start(): Promise<void> {
    try {
      const client = await this.pool.connect();
      try {
        await this.prepare(client);
      } finally {
        client.release();
      }
    } catch (error) {
      throw this.failure(error, 1, isRetriable(error));
    }
  }

  write(record: SinkRecord): DeadLetter | undefined {
    const row = this.rowOf(record.value);
    if (typeof row === 'string') return { reason: row, record };
    const key: unknown[] = [];
    for (const column of this.keyColumns) {
      const value = row.get(column);
      if (value === undefined || value === null) {
        return {
          reason: `postgres sink ${showTable(this.table)}: the result has no value for the key column ${column}; add the field ${column} to the result, or map it with columns:`,
          record,
        };
      }
      key.push(value);
    }
    const id = JSON.stringify(key);
    this.pending.put(id, row);
    return undefined;
  }

  /**
   * A GDPR erasure, when `field` is a key column: `DELETE … WHERE field = subject`, in the commit's transaction after the
   * rows buffered before it and before those buffered after it (a new result for the subject starts its rows again).
   */
  erase(field: string, subject: KeyValue): boolean {
    if (!this.keyColumns.includes(field)) return false;
    this.pending.put(`erase ${field} ${JSON.stringify(String(subject))}`, { column: field, subject: String(subject) });
    return true;
  }

  /**
   * Upserts the buffered rows in one transaction; resolves once PostgreSQL has committed it. A try that fails on the
   * connection is repeated (the upserts are idempotent) up to `attempts` times; then the commit fails and the rows
   * stay buffered for the next one. A table that does not fit the results fails at once, saying what to change.
   */
  async commit(): Promise<void> {
    await this.pending.commit((entries) => this.send(entries.map(([, row]) => row)), {
      attempts: this.timeouts.attempts,
      clock: this.clock,
      retriable: isRetriable,
      failure: (error, attempts, retriable) => this.failure(error, attempts, retriable),
    });
  }

  async close(): Promise<void> {
    try {
      await this.commit();
    } finally {
      if (this.owned) await this.pool.end();
    }
  }

  private rowOf(result: Record<string, unknown>): Row | string {
    if (this.columns === undefined) return new Map(Object.entries(result).filter(([, value]) => value !== undefined));
    const row = new Map<string, unknown>();
    for (const column of this.columns) {
      try {
        row.set(column.name, column.value(result));
      } catch (error) {
        return `postgres sink ${showTable(this.table)}: column ${column.name}: ${messageOf(error)}`;
      }
    }
    return row;
  }

  /** Reads the table's columns and takes the writer's fence, each once: by start(), or else by the first commit. */
  private async prepare(client: pg.ClientBase): Promise<TableColumns> {
    this.tableColumns ??= await describeTable(client, this.table, this.keyColumns, this.columns?.map((column) => column.name) ?? []);
    if (this.fence !== undefined && !this.fenceTaken) {
      await this.fence.take(client);
      this.fenceTaken = true;
    }
    return this.tableColumns;
  }

  private async send(rows: readonly (Row | Erasure)[]): Promise<void> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const statements = this.statements(rows, await this.prepare(client));
      await client.query('BEGIN');
      try {
        await this.fence?.check(client);
        for (const statement of statements) await client.query(statement);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
        throw error;
      }
    } catch (error) {
      // A connection that failed mid-statement is not given back to the pool: the next try opens a fresh one.
      if (isRetriable(error)) broken ??= error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Rows grouped by the columns they set (results of one job usually all have the same), in statements of at most batchSize rows. */
  private statements(items: readonly (Row | Erasure)[], table: TableColumns): pg.QueryConfig[] {
    const statements: pg.QueryConfig[] = [];
    let rows: Row[] = [];
    for (const item of items) {
      if (item instanceof Map) {
        rows.push(item);
        continue;
      }
      const { column, subject } = item as Erasure;
      statements.push(...this.upserts(rows, table), { text: `DELETE FROM ${quoteTable(this.table)} WHERE ${quoteIdentifier(column)} = $1`, values: [subject] });
      rows = [];
    }
    statements.push(...this.upserts(rows, table));
    return statements;
  }

  private upserts(rows: readonly Row[], table: TableColumns): pg.QueryConfig[] {
    const shapes = new Map<string, { columns: string[]; rows: unknown[][] }>();
    for (const row of rows) {
      const columns = [...row.keys()];
      const shape = JSON.stringify(columns);
      let group = shapes.get(shape);
      if (group === undefined) {
        for (const column of columns)
          if (!table.has(column)) throw missingColumn(this.table, column, row.get(column), this.columns === undefined ? 'field' : 'column');
        group = { columns, rows: [] };
        shapes.set(shape, group);
      }
      group.rows.push(columns.map((column) => parameter(row.get(column), table.get(column)!)));
    }
    const statements: pg.QueryConfig[] = [];
    for (const { columns, rows: values } of shapes.values()) {
      const size = rowsPerStatement(columns.length, this.batchSize);
      for (let i = 0; i < values.length; i += size) statements.push(upsertStatement(this.table, columns, this.keyColumns, values.slice(i, i + size)));
    }
    return statements;
  }

  private failure(error: unknown, attempts: number, retriable: boolean): PostgresSinkError {
    const table = showTable(this.table);
    if (error instanceof PostgresSinkError) return new PostgresSinkError(error.code, `postgres sink: ${error.message} (at ${this.where})`);
    const cause = this.connectionError !== undefined && retriable ? `${causeOf(error)}; before it: ${this.connectionError.message}` : causeOf(error);
    const tries = attempts === 1 ? '' : ` ${attempts} times`;
    if (!retriable) {
      return new PostgresSinkError(
        'SLUICE_E_POSTGRES_REFUSED',
        `postgres sink: upserting into ${table} at ${this.where} failed (${cause}); PostgreSQL refused the rows, so retrying will not help: fix the table or the sink's columns; the results are kept for the next commit`,
        { cause: error },
      );
    }
    const hint = /timeout|timed out/i.test(cause)
      ? `PostgreSQL took longer than ${this.timeouts.queryMs} ms to answer: check that PostgreSQL at ${this.where} is up and not overloaded`
      : `check that PostgreSQL at ${this.where} is up and reachable`;
    return new PostgresSinkError(
      'SLUICE_E_POSTGRES_UNREACHABLE',
      `postgres sink: upserting into ${table} at ${this.where} failed${tries} (${cause}); ${hint}; the results are kept for the next commit`,
      { cause: error },
    );
  }
}

/**
 * A result's value as pg sends it. JSON columns take JSON text (pg would send a JS array as a PostgreSQL array);
 * other columns take objects as JSON text and scalars as they are, which PostgreSQL casts to the column's type.
 */
function parameter(value: unknown, column: { json: boolean; array: boolean }): unknown {
  if (value === null || value === undefined) return null;
  if (column.json) return JSON.stringify(value);
  if (typeof value === 'object' && !(Array.isArray(value) && column.array)) return JSON.stringify(value);
  return value;
}

/**
 * Worth a retry: a lost or refused connection, a timeout, a server shutting down or out of resources, a
 * serialization failure or deadlock. Not: a statement PostgreSQL refuses (a wrong type, a NOT NULL column, a
 * missing column), which fails the same way every time.
 */
function isRetriable(error: unknown): boolean {
  if (error instanceof PostgresSinkError) return error.retriable;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(08|53|57P|40001|40P01)/.test(code);
  return true;
}

/** An error's message; a socket error is made outside a test's module realm, where `instanceof Error` does not hold. */
function causeOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : messageOf(error);
}

/** host:port/database of a postgres:// URL: what a message may show of it. */
function whereOf(url: string | undefined): string {
  if (url === undefined) return 'the pool given';
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port === '' ? '5432' : parsed.port}${parsed.pathname}`;
  } catch {
    return 'the postgres url given';
  }
}
