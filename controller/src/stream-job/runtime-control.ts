// The client of the runtime pods' control API (schemas in @sluice/crds): status, savepoint, stop-with-savepoint.
import type { ControlError, RuntimeStatus, SavepointResponse, StopResponse } from '@sluice/crds';
import { controlApi } from '@sluice/crds';
import { SluiceError } from '@sluice/crds/errors';
import { messageOf } from '@sluice/runtime';

/** What the reconciler asks of one runtime pod; the end-to-end tests use the real pods, a unit test may pass its own. */
export interface RuntimeControl {
  status(address: string, token: string): Promise<RuntimeStatus>;
  savepoint(address: string, token: string, id: string): Promise<SavepointResponse>;
  stop(address: string, token: string, options: { savepoint: boolean; id?: string }): Promise<StopResponse>;
}

/** A control request that failed: the pod's error code and message when it answered, else why it could not be reached. */
export class RuntimeControlError extends SluiceError {
  constructor(
    override readonly code: string,
    message: string,
  ) {
    // A pod not answering yet, or not running its job yet, may answer the same request later.
    super(message, { retriable: code === 'SLUICE_E_UNREACHABLE' || code === 'SLUICE_E_NOT_RUNNING' });
  }
}

export interface HttpRuntimeControlOptions {
  /** How long a status request may take. */
  statusTimeoutMs?: number;
  /** How long a savepoint or a stop may take: a pod answers once its part is durable. */
  savepointTimeoutMs?: number;
}

export class HttpRuntimeControl implements RuntimeControl {
  readonly #statusTimeoutMs: number;
  readonly #savepointTimeoutMs: number;

  constructor(options: HttpRuntimeControlOptions = {}) {
    this.#statusTimeoutMs = options.statusTimeoutMs ?? 5_000;
    this.#savepointTimeoutMs = options.savepointTimeoutMs ?? 10 * 60_000;
  }

  status(address: string, token: string): Promise<RuntimeStatus> {
    return this.#call<RuntimeStatus>(address, token, controlApi.status.method, controlApi.status.path, undefined, this.#statusTimeoutMs);
  }

  savepoint(address: string, token: string, id: string): Promise<SavepointResponse> {
    return this.#call<SavepointResponse>(address, token, controlApi.savepoint.method, controlApi.savepoint.path, { id }, this.#savepointTimeoutMs);
  }

  stop(address: string, token: string, options: { savepoint: boolean; id?: string }): Promise<StopResponse> {
    const query = new URLSearchParams({ savepoint: String(options.savepoint), ...(options.id === undefined ? {} : { id: options.id }) });
    return this.#call<StopResponse>(address, token, controlApi.stop.method, `${controlApi.stop.path}?${query.toString()}`, undefined, this.#savepointTimeoutMs);
  }

  async #call<T>(address: string, token: string, method: string, path: string, body: object | undefined, timeoutMs: number): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${address}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? messageOf(error);
      throw new RuntimeControlError('SLUICE_E_UNREACHABLE', `${method} ${address}${path} failed: ${cause}`);
    }
    const text = await response.text();
    if (response.ok) return JSON.parse(text) as T;
    let answer: Partial<ControlError> = {};
    try {
      answer = JSON.parse(text) as ControlError;
    } catch {
      answer = { message: text };
    }
    throw new RuntimeControlError(answer.code ?? `HTTP_${response.status}`, `${method} ${path} on ${address}: ${answer.message ?? response.statusText}`);
  }
}
