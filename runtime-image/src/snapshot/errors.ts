// The error of the snapshot layer: a stable code and a message that says what is wrong and what to do.
import { SluiceError } from '@sluice/crds/errors';

/** An S3 request that timed out may be answered on the next try; every other snapshot failure needs a change first. */
const RETRIABLE = new Set(['SLUICE_E_SNAPSHOT_S3_TIMEOUT']);

export class SnapshotError extends SluiceError {
  constructor(
    override readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, { ...options, retriable: RETRIABLE.has(code) });
  }
}
