// The sink's table as the database describes it: its columns and types, checked at start against the key columns and the columns the sink writes.
import type pg from 'pg';
import { PostgresSinkError } from './errors.js';
import { quoteIdentifier, quoteTable, showTable, suggestedType, type TableName } from './sql.js';

export interface TableColumn {
  /** format_type's spelling: `text`, `bigint`, `timestamp with time zone`, `numeric(12,2)`. */
  type: string;
  /** json and jsonb columns take a result's value as JSON text, whatever its type (a string too). */
  json: boolean;
  /** Array columns take a JS array as it is; any other column takes an object or array as JSON text. */
  array: boolean;
}

/** The table's columns by name, read once when the sink starts. */
export type TableColumns = ReadonlyMap<string, TableColumn>;

/**
 * Reads the table's columns and fails with what to run when the table is missing, a key column or a mapped column is
 * missing, or no unique index or primary key covers exactly the key columns (ON CONFLICT needs one).
 */
export async function describeTable(
  client: pg.ClientBase,
  table: TableName,
  keyColumns: readonly string[],
  mappedColumns: readonly string[],
): Promise<TableColumns> {
  const { rows: found } = await client.query<{ oid: number | null }>('SELECT to_regclass($1)::oid AS oid', [quoteTable(table)]);
  const oid = found[0]?.oid ?? null;
  if (oid === null)
    throw tableMismatch(`the table ${showTable(table)} does not exist; create it, for example ${createTableExample(table, keyColumns, mappedColumns)}`);
  const { rows } = await client.query<{ name: string; type: string; typname: string; category: string }>(
    `SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typname::text AS typname, t.typcategory AS category
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );
  const columns = new Map(
    rows.map((row) => [row.name, { type: row.type, json: row.typname === 'json' || row.typname === 'jsonb', array: row.category === 'A' }]),
  );
  for (const column of [...keyColumns, ...mappedColumns]) {
    if (!columns.has(column)) throw missingColumn(table, column, undefined, keyColumns.includes(column) ? 'key column' : 'column');
  }
  const { rows: indexes } = await client.query<{ columns: string[] }>(
    `SELECT array_agg(a.attname::text) AS columns
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
      GROUP BY i.indexrelid`,
    [oid],
  );
  const keys = new Set(keyColumns);
  if (!indexes.some((index) => index.columns.length === keys.size && index.columns.every((column) => keys.has(column)))) {
    const list = keyColumns.map(quoteIdentifier).join(', ');
    throw tableMismatch(
      `the table ${showTable(table)} has no primary key or unique index on exactly (${keyColumns.join(', ')}), which an upsert needs to find a result's row; add one (ALTER TABLE ${quoteTable(table)} ADD PRIMARY KEY (${list}), or CREATE UNIQUE INDEX ON ${quoteTable(table)} (${list})), or set keyColumns to the columns of an existing one`,
    );
  }
  return columns;
}

/** A result's field (or a mapped column) with no column of that name in the table. */
export function missingColumn(table: TableName, column: string, value: unknown, what = 'column'): PostgresSinkError {
  const type = value === undefined ? 'TYPE' : suggestedType(value);
  const field = what === 'field' ? `the result's field ${column}` : `the ${what} ${column}`;
  const instead =
    what === 'field'
      ? `, or name the columns to write with columns: (column: CEL expression) in the sink`
      : what === 'column'
        ? `, or remove ${column} from columns:`
        : `, or change keyColumns`;
  return tableMismatch(
    `the table ${showTable(table)} has no column ${column} for ${field}; add it (ALTER TABLE ${quoteTable(table)} ADD COLUMN ${quoteIdentifier(column)} ${type})${instead}`,
  );
}

/** The table or its keys do not fit the sink: retrying will not help, the message says what to change. */
function tableMismatch(message: string): PostgresSinkError {
  return new PostgresSinkError('SLUICE_E_POSTGRES_TABLE', message);
}

function createTableExample(table: TableName, keyColumns: readonly string[], mappedColumns: readonly string[]): string {
  const columns = [...new Set([...keyColumns, ...mappedColumns])].map((column) => `${quoteIdentifier(column)} TYPE`);
  return `CREATE TABLE ${quoteTable(table)} (${columns.join(', ')}, …, PRIMARY KEY (${keyColumns.map(quoteIdentifier).join(', ')}))`;
}
