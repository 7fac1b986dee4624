// The SQL the PostgreSQL sink sends: quoted identifiers, and one multi-row upsert per batch with every value a parameter.

/** PostgreSQL refuses a statement with more parameters than this (the wire protocol counts them in 16 bits). */
export const MAX_PARAMETERS = 65_535;

/** A table as the spec names it: `name` or `schema.name`. */
export interface TableName {
  schema: string | undefined;
  name: string;
}

/**
 * An identifier in double quotes, with any double quote in it doubled: safe for any name, and case-preserving, so
 * `customerId` stays `customerId` (unquoted, PostgreSQL would fold it to `customerid`).
 */
export function quoteIdentifier(name: string): string {
  if (name === '' || name.includes('\0')) throw new Error(`${JSON.stringify(name)} cannot be a PostgreSQL identifier; use a name such as customer_id`);
  return `"${name.replaceAll('"', '""')}"`;
}

/** `features.customer_velocity` → schema features, name customer_velocity; without a dot, the connection's search_path decides the schema. */
export function parseTableName(table: string): TableName {
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((part) => part === '')) {
    throw new Error(`postgres sink table "${table}" is not a table name; write name or schema.name, for example features.customer_velocity`);
  }
  return parts.length === 2 ? { schema: parts[0], name: parts[1]! } : { schema: undefined, name: parts[0]! };
}

export function quoteTable(table: TableName): string {
  return table.schema === undefined ? quoteIdentifier(table.name) : `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`;
}

export function showTable(table: TableName): string {
  return table.schema === undefined ? table.name : `${table.schema}.${table.name}`;
}

/** A statement and its parameters, as pg's `query(text, values)` takes them. */
export interface Statement {
  text: string;
  values: unknown[];
}

/**
 * `INSERT INTO t (a, b, c) VALUES ($1, $2, $3), … ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b, c = EXCLUDED.c`:
 * a row whose key is in the table replaces that row's other columns, so writing the same rows twice leaves the
 * table as writing them once. When every column is a key column there is nothing to update: DO NOTHING.
 * The rows must not repeat a key (PostgreSQL refuses to update one row twice in a statement).
 */
export function upsertStatement(table: TableName, columns: readonly string[], keyColumns: readonly string[], rows: readonly (readonly unknown[])[]): Statement {
  if (rows.length === 0) throw new Error('an upsert needs at least one row');
  if (rows.length * columns.length > MAX_PARAMETERS)
    throw new Error(`${rows.length} rows of ${columns.length} columns is over PostgreSQL's ${MAX_PARAMETERS} parameters a statement`);
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const placeholders = row.map((value) => {
      values.push(value);
      return `$${values.length}`;
    });
    return `(${placeholders.join(', ')})`;
  });
  const updated = columns.filter((column) => !keyColumns.includes(column));
  const onConflict =
    updated.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${updated.map((column) => `${quoteIdentifier(column)} = EXCLUDED.${quoteIdentifier(column)}`).join(', ')}`;
  const text = `INSERT INTO ${quoteTable(table)} (${columns.map(quoteIdentifier).join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (${keyColumns.map(quoteIdentifier).join(', ')}) ${onConflict}`;
  return { text, values };
}

/** Rows a statement of `columns` columns may carry, at most `batchSize`. */
export function rowsPerStatement(columns: number, batchSize: number): number {
  return Math.max(1, Math.min(batchSize, Math.floor(MAX_PARAMETERS / Math.max(1, columns))));
}

/** A column type for a result's value, for the ALTER TABLE an error message suggests. */
export function suggestedType(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) ? 'bigint' : 'double precision';
    case 'bigint':
      return 'bigint';
    case 'boolean':
      return 'boolean';
    case 'string':
      return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? 'timestamptz' : 'text';
    default:
      return 'jsonb';
  }
}
