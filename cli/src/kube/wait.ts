// Waiting for the controller: poll the job until a check passes, with progress on stderr and a --timeout that says what it waited for.
import { parseDuration } from '@sluice/runtime/time';
import { CommandError, type Writer } from './io.js';

/** --timeout in milliseconds, or an error naming the flag. */
export function timeoutMs(text: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw new CommandError(`--timeout ${JSON.stringify(text)} is not a duration such as 90s or 10m`);
  }
}

export interface WaitFor<T, R> {
  /** What is awaited, in words: "the savepoint of streamjob x". */
  what: string;
  timeoutMs: number;
  /** Timeout text as the user gave it, for the message. */
  timeoutText: string;
  read: () => Promise<T>;
  /** The outcome once reached, else undefined. It throws to end the wait on a failure that status reports. */
  check: (value: T) => R | undefined;
  /** Where things stand, in words, for the progress line. */
  progress: (value: T) => string;
  /** What to look at when the wait times out. */
  hint: string;
  stderr: Writer;
  intervalMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** On a terminal, plain lines are repeated at most this often while nothing changes. */
const plainRepeatMs = 10_000;

/**
 * Polls every 500 ms (a poll, not a watch: a watch can end silently behind a proxy, and half a second is well under
 * what a savepoint or an upgrade takes). On a terminal one progress line is rewritten; otherwise a line is printed when
 * the state changes, and every 10 s while it does not.
 */
export async function waitFor<T, R>(options: WaitFor<T, R>): Promise<R> {
  const { stderr, intervalMs = 500 } = options;
  const started = Date.now();
  let printed: { state: string; at: number } | undefined;
  let state = 'not read yet';
  const clear = (): void => {
    if (stderr.isTTY === true && printed !== undefined) stderr.write('\r\x1b[2K');
  };
  try {
    for (;;) {
      const value = await options.read();
      const outcome = options.check(value);
      if (outcome !== undefined) return outcome;
      state = options.progress(value);
      const elapsed = Date.now() - started;
      const line = `waiting for ${options.what}: ${state} (${Math.floor(elapsed / 1000)}s)`;
      if (stderr.isTTY === true) {
        stderr.write(`\r\x1b[2K${line}`);
        printed = { state, at: elapsed };
      } else if (printed === undefined || printed.state !== state || elapsed - printed.at >= plainRepeatMs) {
        stderr.write(`${line}\n`);
        printed = { state, at: elapsed };
      }
      if (elapsed >= options.timeoutMs) {
        throw new CommandError(
          `timed out after ${options.timeoutText} waiting for ${options.what} (last seen: ${state}); ${options.hint}, or wait longer with --timeout`,
        );
      }
      await sleep(Math.min(intervalMs, options.timeoutMs - elapsed));
    }
  } finally {
    clear();
  }
}
