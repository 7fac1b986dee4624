// The PostgreSQL sink's failures: a table that does not fit the results, rows PostgreSQL refuses, a server out of reach.
import { SluiceError, type SluiceErrorOptions } from '@sluice/crds/errors';

export type PostgresSinkErrorCode =
  /** The table is missing, or lacks a column, or has no unique index on the key columns: change the table or the sink. */
  | 'SLUICE_E_POSTGRES_TABLE'
  /** PostgreSQL refused the rows (a wrong type, a NOT NULL column): the same rows fail the same way every time. */
  | 'SLUICE_E_POSTGRES_REFUSED'
  /** A newer pod of the same writer took over: this one is a zombie and must stop. */
  | 'SLUICE_E_POSTGRES_FENCED'
  /** The server did not answer, dropped the connection, or is shutting down: a later try may succeed. */
  | 'SLUICE_E_POSTGRES_UNREACHABLE';

export class PostgresSinkError extends SluiceError {
  constructor(
    override readonly code: PostgresSinkErrorCode,
    message: string,
    options?: SluiceErrorOptions,
  ) {
    super(message, { ...options, retriable: code === 'SLUICE_E_POSTGRES_UNREACHABLE' });
  }
}
