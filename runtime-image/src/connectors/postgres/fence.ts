// Fencing a pod's PostgreSQL writes by its replacement: a token per writer in a small table, taken at start and checked inside every commit's transaction.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { PostgresSinkError } from './errors.js';
import { quoteIdentifier, showTable, type TableName } from './sql.js';

/** The fence table's name, in the schema of the sink's table. */
export const FENCE_TABLE = 'sluice_sink_fences';

/** CREATE TABLE IF NOT EXISTS can still collide when two pods create it at once: the loser finds it made. */
const ALREADY_MADE = new Set(['23505', '42P07']);

/**
 * Kafka fences a frozen pod's transactions once its replacement starts; PostgreSQL knows nothing of that. The fence
 * does the same for the sink: the replacement writes a new token for the writer at start, and each commit's
 * transaction first locks the writer's row where the token is still its own. A zombie's commit then either runs
 * before the takeover (which waits for its row lock, so the replacement's later writes win) or finds the token
 * changed and writes nothing.
 */
export class Fence {
  readonly token = randomUUID();
  readonly #table: TableName;

  /** `writer`: what one pod's sink is across restarts, e.g. `payments.fraud/0/velocity-table`. */
  constructor(
    readonly writer: string,
    schema: string | undefined,
  ) {
    this.#table = { schema, name: FENCE_TABLE };
  }

  /** Makes the token the writer's: from now on, commits of any earlier sink of the same writer fail. */
  async take(client: pg.ClientBase): Promise<void> {
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.#quoted()} (writer text PRIMARY KEY, token text NOT NULL, taken_at timestamptz NOT NULL DEFAULT now())`,
      );
    } catch (error) {
      if (!ALREADY_MADE.has(String((error as { code?: unknown }).code))) throw error;
    }
    await client.query(
      `INSERT INTO ${this.#quoted()} (writer, token) VALUES ($1, $2) ON CONFLICT (writer) DO UPDATE SET token = EXCLUDED.token, taken_at = now()`,
      [this.writer, this.token],
    );
  }

  /** The first statement of a commit's transaction: holds the writer's row until the commit ends, or fails when a newer sink took it. */
  async check(client: pg.ClientBase): Promise<void> {
    const { rowCount } = await client.query(`UPDATE ${this.#quoted()} SET token = token WHERE writer = $1 AND token = $2`, [this.writer, this.token]);
    if (rowCount !== 1) {
      throw new PostgresSinkError(
        'SLUICE_E_POSTGRES_FENCED',
        `a newer pod took over the writer ${this.writer} (its token in ${showTable(this.#table)} is not this pod's): this pod is a zombie of a replaced one, so its rows are not written; it stops, and the newer pod goes on`,
      );
    }
  }

  #quoted(): string {
    return this.#table.schema === undefined ? quoteIdentifier(FENCE_TABLE) : `${quoteIdentifier(this.#table.schema)}.${quoteIdentifier(FENCE_TABLE)}`;
  }
}
