// SluiceError: the one base of every error Sluice throws on purpose, with a stable code and whether a retry can help.
//
// It lives in @sluice/crds, the package that already holds the contract between the others (the CRD types, the control
// API's shapes, the pods' environment), as its own entry point `@sluice/crds/errors`: this file imports nothing, so
// streamctl --help and the registry get the base without loading the CRD schemas or CEL.

export interface SluiceErrorOptions extends ErrorOptions {
  /** Whether the same call may succeed later unchanged (a server unreachable, a lock still held). False by default. */
  retriable?: boolean;
}

/**
 * A failure Sluice explains: the message says what happened and what to do, `code` says which failure it is. Callers,
 * logs, tests and the control API's answers match on `code` (`SLUICE_E_…`), never on the message, so a code never
 * changes meaning once released. `retriable` is true only where waiting and repeating the same call can succeed; a bad
 * spec, a bad record or a programming error is never retriable. The runtime's `retried()` (kafka/retry.ts) reads the
 * same flag as kafkajs's errors carry, so it retries a retriable Sluice error and stops at once on any other.
 */
export abstract class SluiceError extends Error {
  /** Stable, unique to one failure: `SLUICE_E_` and upper-case words. */
  abstract readonly code: string;
  readonly retriable: boolean;

  constructor(message?: string, options?: SluiceErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    // The class's own name in stack traces and logs (`KeyError: key id is missing`), not enumerable as Error's is not.
    Object.defineProperty(this, 'name', { value: new.target.name, writable: true, configurable: true, enumerable: false });
    this.retriable = options?.retriable ?? false;
  }
}

/** The message of anything thrown: user code and libraries may throw values that are not Errors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
