// Waiting for a daemon this process started: healthy, or a failure with its log as soon as it exits.
import { existsSync, readFileSync } from 'node:fs';
import { daemonPid, logFile, waitFor, type EnvPaths } from './proc.js';

/** Polls `healthy` until it holds; if the daemon `name` exits first, fails at once with its log's tail instead of at the timeout. */
export async function waitForDaemon(paths: EnvPaths, name: string, what: string, healthy: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const log = logFile(paths, name);
  let exited = false;
  await waitFor(
    what,
    async () => {
      exited = daemonPid(paths, name) === undefined;
      return exited || healthy();
    },
    { timeoutMs, log },
  );
  if (exited) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-30).join('\n') : '';
    throw new Error(`${name} exited while starting (${what}); its log is ${log}\n${tail}`);
  }
}
