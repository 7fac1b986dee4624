// The PostgreSQL sink's SQL: identifiers quoted whatever they hold, the conflict clause, values only as parameters.
import { MAX_PARAMETERS, parseTableName, quoteIdentifier, quoteTable, rowsPerStatement, suggestedType, upsertStatement } from './sql.js';

describe('identifiers', () => {
  it('quotes a name so its case is kept and a double quote in it cannot end it', () => {
    expect(quoteIdentifier('customer_id')).toBe('"customer_id"');
    expect(quoteIdentifier('customerId')).toBe('"customerId"');
    expect(quoteIdentifier('a"; DROP TABLE t; --')).toBe('"a""; DROP TABLE t; --"');
  });

  it('refuses an empty name and a NUL, which no quoting makes an identifier', () => {
    expect(() => quoteIdentifier('')).toThrow('"" cannot be a PostgreSQL identifier');
    expect(() => quoteIdentifier('a\0b')).toThrow('cannot be a PostgreSQL identifier');
  });

  it('reads schema.name and quotes each part', () => {
    expect(quoteTable(parseTableName('features.customer_velocity'))).toBe('"features"."customer_velocity"');
    expect(quoteTable(parseTableName('velocity'))).toBe('"velocity"');
    expect(() => parseTableName('a.b.c')).toThrow('postgres sink table "a.b.c" is not a table name; write name or schema.name');
  });
});

describe('the upsert', () => {
  const table = parseTableName('features.customer_velocity');

  it('inserts every row as parameters and, on the key, updates the other columns from the new row', () => {
    const statement = upsertStatement(
      table,
      ['customer_id', 'window_start', 'txn_count'],
      ['customer_id', 'window_start'],
      [
        ['C1', '2025-12-05T10:20:00.000Z', 4],
        ["C2'; --", '2025-12-05T10:20:00.000Z', 2],
      ],
    );
    expect(statement.text).toBe(
      'INSERT INTO "features"."customer_velocity" ("customer_id", "window_start", "txn_count") VALUES ($1, $2, $3), ($4, $5, $6) ' +
        'ON CONFLICT ("customer_id", "window_start") DO UPDATE SET "txn_count" = EXCLUDED."txn_count"',
    );
    expect(statement.values).toEqual(['C1', '2025-12-05T10:20:00.000Z', 4, "C2'; --", '2025-12-05T10:20:00.000Z', 2]);
  });

  it('does nothing on conflict when every column is a key column: the row already holds everything', () => {
    expect(upsertStatement(table, ['customer_id'], ['customer_id'], [['C1']]).text).toBe(
      'INSERT INTO "features"."customer_velocity" ("customer_id") VALUES ($1) ON CONFLICT ("customer_id") DO NOTHING',
    );
  });

  it('keeps a statement within PostgreSQL’s parameter limit', () => {
    expect(rowsPerStatement(5, 1000)).toBe(1000);
    expect(rowsPerStatement(100, 1000)).toBe(655);
    expect(rowsPerStatement(100, 1000) * 100).toBeLessThanOrEqual(MAX_PARAMETERS);
    const row = Array.from({ length: 100 }, () => 1);
    expect(() =>
      upsertStatement(
        table,
        row.map((_, i) => `c${i}`),
        ['c0'],
        Array.from({ length: 656 }, () => row),
      ),
    ).toThrow("over PostgreSQL's 65535 parameters");
  });
});

describe('the column type a message suggests for a missing column', () => {
  it.each([
    [3, 'bigint'],
    [599.99, 'double precision'],
    ['C123', 'text'],
    ['2025-12-05T10:20:00.000Z', 'timestamptz'],
    [true, 'boolean'],
    [{ a: 1 }, 'jsonb'],
  ])('%p → %s', (value, type) => expect(suggestedType(value)).toBe(type));
});
