// One run of a container: a local process in its own process group, its output appended to the container's log file.
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Exit {
  /** The exit code, or 128 + the signal's number when a signal ended it (as a container runtime reports it). */
  exitCode: number;
  signal: NodeJS.Signals | undefined;
  finishedAt: Date;
}

export interface LaunchSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  log: string;
}

export interface RunningProcess {
  pid: number;
  startedAt: Date;
  exited: Promise<Exit>;
  /** Where this run's output begins in the container's log file (the log holds every run). */
  logStart: number;
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
};

/** Starts the process detached in its own group, so a signal reaches whatever it forks too. */
export function launch(spec: LaunchSpec): RunningProcess {
  mkdirSync(dirname(spec.log), { recursive: true });
  mkdirSync(spec.cwd, { recursive: true });
  const log = openSync(spec.log, 'a');
  writeSync(log, `--- ${new Date().toISOString()} process kubelet: ${[spec.command, ...spec.args].join(' ')}\n`);
  const logStart = fstatSync(log).size;
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  const startedAt = new Date();
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (error) => {
      // A command that does not exist never spawns: report it as a runtime does (127, command not found).
      if (child.pid === undefined) resolve({ exitCode: 127, signal: undefined, finishedAt: new Date() });
      else process.stderr.write(`process kubelet: ${spec.command}: ${error.message}\n`);
    });
    child.once('exit', (code, signal) => {
      resolve({ exitCode: code ?? 128 + (signal === null ? 0 : (signalNumbers[signal] ?? 0)), signal: signal ?? undefined, finishedAt: new Date() });
    });
  });
  // The kubelet keeps no event-loop reference to its processes: a test that ends without stop() still exits.
  child.unref();
  return { pid: child.pid ?? -1, startedAt, exited, logStart };
}

/** Signals the process's whole group; a group that is already gone is no error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group has exited
  }
}
