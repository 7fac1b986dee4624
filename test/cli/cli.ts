// What the streamctl command-line tests share: the built CLI (cli/bin/streamctl.js, as npm links it) run as a user runs
// it, from the repository root, with its exit code, stdout and stderr. STREAMCTL_ROOT runs another checkout's build
// (how these tests were shown to fail on the code before them).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
const cliRoot = process.env.STREAMCTL_ROOT ?? root;
const bin = `${cliRoot}/cli/bin/streamctl.js`;

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Compiles the CLI (tsc -b: nothing to do when dist is current), so the tests never run a stale build. */
export function buildCli(): void {
  const built = spawnSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-b', `${cliRoot}/cli/tsconfig.build.json`], {
    cwd: cliRoot,
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`the CLI does not build:\n${built.stdout}${built.stderr}`);
  // As npm run build does after tsc: the CRD validators compiled ahead, which validate loads instead of compiling them.
  const precompiled = spawnSync(process.execPath, [`${cliRoot}/crds/dist/precompile.js`], { cwd: cliRoot, encoding: 'utf8' });
  if (precompiled.status !== 0) throw new Error(`the CRD validators do not precompile:\n${precompiled.stdout}${precompiled.stderr}`);
}

/** `streamctl ...args`, with `input` on stdin (an empty stdin when not given, as in a script). */
export function streamctl(args: string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Ran {
  const ran = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? root,
    encoding: 'utf8',
    input: options.input ?? '',
    env: { ...process.env, ...options.env },
    timeout: 120_000,
  });
  return { status: ran.status, stdout: ran.stdout, stderr: ran.stderr };
}
