// Runs a Sluice Argo CD health check the way Argo CD does: argocd-health (gopher-lua, built by test/env/install/lua.sh) on one object.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envPaths, pinnedVersion } from '../env/src/proc.js';

const installScript = fileURLToPath(new URL('../env/install/lua.sh', import.meta.url));
/** deploy/argocd: one folder per group and kind, as in argo-cd's resource_customizations. */
export const checksRoot = fileURLToPath(new URL('../../deploy/argocd', import.meta.url));
export const group = 'sluice.dev';
export const kinds = ['StreamJob', 'Topic', 'SchemaSubject'] as const;

export interface Health {
  status: 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';
  message?: string;
}

export function healthScript(kind: string): string {
  return join(checksRoot, group, kind, 'health.lua');
}

/** The cached runner; fails saying how to build it when it is missing. */
export function healthRunner(): string {
  const binary = join(envPaths().cache, 'argocd-health', pinnedVersion(installScript, 'GOPHER_LUA_VERSION'), 'bin', 'argocd-health');
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new Error(`${binary} missing: run npm run env:install (or bash ${installScript})`);
  }
  return binary;
}

/** The health Argo CD gives `object` with the kind's health.lua; a Lua error rejects with the runner's message. */
export function health(kind: string, object: unknown): Promise<Health> {
  const runner = healthRunner();
  return new Promise((resolve, reject) => {
    const child = execFile(runner, [healthScript(kind)], (error, stdout, stderr) => {
      if (error === null) resolve(JSON.parse(stdout) as Health);
      else reject(new Error(`${kind} health.lua failed: ${stderr.trim() || error.message}`, { cause: error }));
    });
    child.stdin!.end(JSON.stringify(object));
  });
}
