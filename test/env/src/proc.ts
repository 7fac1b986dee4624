// Local daemons for the test environment: start detached, record the pid, wait for health, stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface EnvPaths {
  /** Downloads and builds, kept between runs (`SLUICE_CACHE`, default `~/.cache/sluice`). */
  cache: string;
  /** Data, logs and pid files of the running servers (`SLUICE_RUN`, default `<cache>/run`). */
  run: string;
}

export function envPaths(): EnvPaths {
  const cache = process.env.SLUICE_CACHE ?? join(homedir(), '.cache', 'sluice');
  const run = process.env.SLUICE_RUN ?? join(cache, 'run');
  return { cache, run };
}

export function logFile(paths: EnvPaths, name: string): string {
  return join(paths.run, 'logs', `${name}.log`);
}

function pidFile(paths: EnvPaths, name: string): string {
  return join(paths.run, `${name}.pid`);
}

export interface DaemonOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts `command` in its own process group, detached from this process, logging to `run/logs/<name>.log`. */
export function startDaemon(paths: EnvPaths, name: string, command: string, args: string[], options: DaemonOptions = {}): number {
  mkdirSync(join(paths.run, 'logs'), { recursive: true });
  const log = openSync(logFile(paths, name), 'a');
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  // A missing command is reported below by the missing pid; without a listener Node would crash on the 'error' event.
  child.once('error', () => undefined);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command}): is it installed? Run: npm run env:install`);
  child.unref();
  writeFileSync(pidFile(paths, name), String(child.pid));
  return child.pid;
}

export function daemonPid(paths: EnvPaths, name: string): number | undefined {
  const file = pidFile(paths, name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A daemon started by an earlier process lingers as a zombie until PID 1 reaps it: it has exited all the same.
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return true;
  }
}

/** Stops the daemon's whole process group: SIGTERM, then SIGKILL after `timeoutMs`. */
export async function stopDaemon(paths: EnvPaths, name: string, timeoutMs = 15_000): Promise<void> {
  const pid = daemonPid(paths, name);
  if (pid !== undefined) {
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile(paths, name), { force: true });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** A log whose tail is shown when the wait times out. */
  log?: string;
}

/** Polls `check` until it is true; says every 5 s what it is still waiting for, and fails with the log's tail. */
export async function waitFor(what: string, check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const started = Date.now();
  let lastReport = started;
  for (;;) {
    if (await check().catch(() => false)) return;
    const now = Date.now();
    if (now - started > options.timeoutMs) {
      const tail = options.log === undefined ? '' : logTail(options.log);
      throw new Error(
        `timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${what}${options.log ? `; its log is ${options.log}` : ''}\n${tail}`,
      );
    }
    if (now - lastReport >= 5000) {
      process.stderr.write(`  … still waiting for ${what} (${Math.round((now - started) / 1000)}s)\n`);
      lastReport = now;
    }
    await sleep(options.intervalMs ?? 200);
  }
}

export function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Reads a port from the environment (`name`) or uses the default. */
export function portFrom(name: string, fallback: number): number {
  const value = process.env[name];
  return value === undefined ? fallback : Number(value);
}

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
  if (exited) throw new Error(`${name} exited while starting (${what}); its log is ${log}\n${logTail(log)}`);
}

function logTail(log: string): string {
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-30).join('\n') : '';
}

/** The version an install script pins (`NAME=value` on a line of its own): the script is the one source of truth. */
export function pinnedVersion(installScript: string, variable: string): string {
  const version = new RegExp(`^${variable}=(\\S+)$`, 'm').exec(readFileSync(installScript, 'utf8'))?.[1];
  if (version === undefined) throw new Error(`no ${variable}= line in ${installScript}`);
  return version;
}

/** A loopback port free right now, for a server of one test's own. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Ends a child process with SIGKILL (a crash, or a frozen process) and waits for its exit; nothing when it has ended already. */
export async function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
