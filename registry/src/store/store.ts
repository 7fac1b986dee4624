// The contract of a registry store: an ordered log of records that every replica applies in the same order.
import type { LogRecord } from '../model.js';

/** Applies one record to the in-memory state; false when the record is refused (see RegistryState.apply). */
export type ApplyRecord = (record: LogRecord) => boolean;

export interface Store {
  /** Reads the whole log into `apply` and keeps applying what arrives later (other replicas' writes). */
  open(apply: ApplyRecord): Promise<void>;
  /** Appends the records; resolves once they are applied locally, with whether each was accepted. */
  append(records: LogRecord[]): Promise<boolean[]>;
  /** Resolves once everything written to the log before the call is applied locally. */
  sync(): Promise<void>;
  close(): Promise<void>;
  /** Where the log lives, for logs and errors. */
  readonly description: string;
}
