// The error of the snapshot layer: a stable code and a message that says what is wrong and what to do.

export class SnapshotError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
