// The runtime's main as a child process, as a pod runs it: its JSON log events, bounded waits for them, and an optional CPU profile.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const mainScript = join(repoRoot, 'runtime-image', 'src', 'main.ts');

export interface RuntimeEvent {
  event: string;
  time: string;
  [field: string]: unknown;
}

/** What the runtime's "committed" log events add up to: its transactions, their sizes and durations. */
export interface CommitStats {
  commits: number;
  messages: number;
  changelogRecords: number;
  /** The commits' durations added up: while the job commits, its read loop waits. */
  totalMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function commitStats(events: readonly RuntimeEvent[]): CommitStats {
  const commits = events.filter((e) => e.event === 'committed');
  const durations = commits.map((e) => Number(e.ms)).sort((a, b) => a - b);
  const at = (p: number): number => durations[Math.min(durations.length - 1, Math.max(0, Math.ceil(p * durations.length) - 1))] ?? Number.NaN;
  return {
    commits: commits.length,
    messages: commits.reduce((sum, e) => sum + Number(e.messages), 0),
    changelogRecords: commits.reduce((sum, e) => sum + Number(e.changelogRecords), 0),
    totalMs: durations.reduce((sum, ms) => sum + ms, 0),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: durations.at(-1) ?? Number.NaN,
  };
}

export interface RuntimeProcess {
  child: ChildProcess;
  events: RuntimeEvent[];
  /** The first event named `event`; fails when the process exits first or after `timeoutMs`. */
  waitFor(event: string, timeoutMs: number): Promise<RuntimeEvent>;
  /** Waits for the exit; fails unless it exits 0 within `timeoutMs`, with the process's output. */
  exitsCleanly(timeoutMs: number): Promise<void>;
}

export interface RuntimeStart {
  env: Record<string, string>;
  /** Writes a V8 CPU profile (.cpuprofile) of the whole run into this folder when the process exits. */
  profileDir?: string;
}

export function startRuntime({ env, profileDir }: RuntimeStart): RuntimeProcess {
  const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', mainScript], {
    cwd: repoRoot,
    env: { ...process.env, SLUICE_HTTP_PORT: '0', SLUICE_POD_ORDINAL: '0', SLUICE_PARALLELISM: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: RuntimeEvent[] = [];
  let stderr = '';
  let pending = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) events.push(JSON.parse(line) as RuntimeEvent);
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const output = (): string =>
    `stderr:\n${stderr.slice(-4000)}\nlast events:\n${events
      .slice(-10)
      .map((e) => JSON.stringify(e))
      .join('\n')}`;
  const bounded = <T>(what: string, timeoutMs: number, promise: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000}s waiting for the runtime ${what}; ${output()}`)), timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  };
  return {
    child,
    events,
    waitFor: (event, timeoutMs) => {
      let listener: (() => void) | undefined;
      const seen = new Promise<RuntimeEvent>((resolve) => {
        listener = () => {
          const found = events.find((e) => e.event === event);
          if (found !== undefined) resolve(found);
        };
        listeners.add(listener);
        listener();
      });
      const early = exited.then((code): never => {
        throw new Error(`the runtime exited (${code}) before logging "${event}"; ${output()}`);
      });
      return bounded(`to log "${event}"`, timeoutMs, Promise.race([seen, early])).finally(() => listeners.delete(listener!));
    },
    exitsCleanly: async (timeoutMs) => {
      const code = await bounded('to exit', timeoutMs, exited);
      if (code !== 0) throw new Error(`the runtime exited with ${code}; ${output()}`);
    },
  };
}
