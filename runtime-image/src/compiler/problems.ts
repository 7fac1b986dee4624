// The job compiler's findings: every problem with the field path it belongs to, collected rather than thrown one at a time.
import { SluiceError } from '@sluice/crds/errors';
import { messageOf } from '../error-message.js';

/** One problem in a job spec: `spec.pipeline[2].window.size` and what to do about it. */
export interface JobProblem {
  path: string;
  message: string;
}

/** Thrown by compileJobOrThrow: every problem of the spec, one per line. */
export class JobSpecError extends SluiceError {
  override readonly code = 'SLUICE_E_JOB_SPEC';
  constructor(readonly problems: readonly JobProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export function formatProblem(problem: JobProblem): string {
  return `${problem.path}: ${problem.message}`;
}

/** Where the compiler collects problems as it walks the spec. */
export class Problems {
  readonly list: JobProblem[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  /** Runs `compile`; a throw becomes a problem at `path`, and the result is undefined. */
  attempt<T>(path: string, compile: () => T): T | undefined {
    try {
      return compile();
    } catch (error) {
      this.add(path, messageOf(error));
      return undefined;
    }
  }

  /** The operator is in the CRD but not in the engine yet: refused by name, never silently ignored. */
  notYet(path: string, what: string, instead: string): void {
    this.add(path, `${what} arrives in a later release of Sluice; ${instead}`);
  }
}
