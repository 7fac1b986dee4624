// The helm CLI that test/env/install/helm.sh builds into the cache, for the chart's tests; no daemon.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envPaths, pinnedVersion } from './proc.js';

const installScript = fileURLToPath(new URL('../install/helm.sh', import.meta.url));

/** The cached helm binary; fails saying how to build it when it is missing. */
export function helmBinary(): string {
  const binary = join(envPaths().cache, 'helm', pinnedVersion(installScript, 'HELM_VERSION'), 'bin', 'helm');
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new Error(`${binary} missing: run npm run env:install (or bash ${installScript})`);
  }
  return binary;
}

/** Runs `helm args…` and resolves to its stdout; a failure carries helm's stderr. */
export function helm(args: readonly string[], cwd?: string): Promise<string> {
  const binary = helmBinary();
  return new Promise((resolve, reject) => {
    execFile(binary, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`helm ${args.join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }));
    });
  });
}
