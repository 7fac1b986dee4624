// The runtime pods' control API as the reconciler sees it, in memory: /status, savepoints, /stop with a savepoint, failures and pods that do not answer.
import type { RuntimePhase, RuntimeStatus, SavepointResponse, StopResponse } from '@sluice/crds';
import { RuntimeControlError, type RuntimeControl } from './runtime-control.js';

/** One runtime process behind an address, as a test sets it up. */
export interface TestingRuntime {
  job: string;
  ordinal: number;
  parallelism: number;
  phase: RuntimePhase;
  recordsIn: number;
  /** Consumer lag per partition. */
  lags: number[];
  lastSavepoint: string | null;
  /** False: requests to it fail as a pod without a listening runtime does (SLUICE_E_UNREACHABLE). */
  answering: boolean;
  /** When set, savepoints (on request or with /stop) fail with this message, as a runtime that cannot write to its store. */
  savepointFailure: string | undefined;
}

export class TestingRuntimeControl implements RuntimeControl {
  readonly #runtimes = new Map<string, TestingRuntime>();
  /** Where savepoints are written: a savepoint's location is `<savepointRoot>/<id>`. */
  readonly savepointRoot = 's3://savepoints/job';
  /** Every savepoint and stop request, in order, as `savepoint <address> <id>` or `stop <address> savepoint=<bool>`. */
  readonly requests: string[] = [];

  constructor(readonly token: string) {}

  /** A runtime starts behind `address` (a pod was created). */
  start(address: string, runtime: Partial<TestingRuntime> & Pick<TestingRuntime, 'job' | 'ordinal' | 'parallelism'>): TestingRuntime {
    const started: TestingRuntime = {
      phase: 'running',
      recordsIn: 0,
      lags: [0],
      lastSavepoint: null,
      answering: true,
      savepointFailure: undefined,
      ...runtime,
    };
    this.#runtimes.set(address, started);
    return started;
  }

  /** The runtime behind `address` is gone (its pod was deleted). */
  remove(address: string): void {
    this.#runtimes.delete(address);
  }

  runtime(address: string): TestingRuntime | undefined {
    return this.#runtimes.get(address);
  }

  /** Every runtime the test can reach, by address. */
  runtimes(): [string, TestingRuntime][] {
    return [...this.#runtimes];
  }

  status(address: string, token: string): Promise<RuntimeStatus> {
    return this.#answer(address, token, 'GET /status', (runtime) => ({
      job: runtime.job,
      ordinal: runtime.ordinal,
      parallelism: runtime.parallelism,
      phase: runtime.phase,
      partitions: runtime.lags.map((lag, partition) => ({ partition, offset: 0, lag, watermark: null })),
      recordsIn: runtime.recordsIn,
      recordsOut: runtime.recordsIn,
      lastSavepoint: runtime.lastSavepoint,
      checkpoint: { lastCompletedAt: null, inProgressSince: null, lastError: null },
    }));
  }

  savepoint(address: string, token: string, id: string): Promise<SavepointResponse> {
    this.requests.push(`savepoint ${address} ${id}`);
    return this.#answer(address, token, 'POST /savepoints', (runtime) => this.#writeSavepoint(runtime, id));
  }

  stop(address: string, token: string, options: { savepoint: boolean; id?: string }): Promise<StopResponse> {
    this.requests.push(`stop ${address} savepoint=${options.savepoint}`);
    return this.#answer(address, token, 'POST /stop', (runtime) => {
      const savepoint = options.savepoint ? this.#writeSavepoint(runtime, options.id ?? 'one-pod') : null;
      runtime.phase = 'finished';
      return { stopped: true, savepoint };
    });
  }

  #writeSavepoint(runtime: TestingRuntime, id: string): SavepointResponse {
    if (runtime.savepointFailure !== undefined) throw new RuntimeControlError('SLUICE_E_SAVEPOINT_FAILED', runtime.savepointFailure);
    const location = `${this.savepointRoot}/${id}`;
    runtime.lastSavepoint = location;
    return { id, location, complete: runtime.ordinal === 0 };
  }

  #answer<T>(address: string, token: string, request: string, answer: (runtime: TestingRuntime) => T): Promise<T> {
    const runtime = this.#runtimes.get(address);
    if (runtime === undefined || !runtime.answering)
      return Promise.reject(new RuntimeControlError('SLUICE_E_UNREACHABLE', `${request} on ${address} failed: connect ECONNREFUSED`));
    if (token !== this.token) return Promise.reject(new RuntimeControlError('SLUICE_E_UNAUTHORIZED', `${request} on ${address}: the control token is wrong`));
    try {
      return Promise.resolve(answer(runtime));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
