// streamctl's command line itself: a usage error is one line of what is wrong and one line of usage (exit 2), never the
// whole help; shell completion; `kubectl sluice` as a kubectl plugin; `run`'s lazily loaded command line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../cli/src/commands/run/index.js';
import { runDescription } from '../../cli/src/commands/run-command.js';
import { buildCli, root, streamctl } from './cli.js';

let scratch: string;

beforeAll(() => {
  buildCli();
  scratch = mkdtempSync(join(tmpdir(), 'streamctl-usage-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('a usage error', () => {
  it('names what is missing and the usage that fixes it, in two lines, exit 2', () => {
    const ran = streamctl(['scale', 'fraud-velocity']);
    expect(ran.stderr).toBe('streamctl scale: needs <job> <parallelism>\nusage: streamctl scale <job> <parallelism> [options]; see streamctl scale --help\n');
    expect(ran.stdout).toBe('');
    expect(ran.status).toBe(2);
  });

  it('says which command it did not understand', () => {
    const ran = streamctl(['statsu', 'fraud-velocity']);
    expect(ran.stderr).toBe(
      'streamctl: unknown command "statsu"; did you mean status?\nusage: streamctl <command> [options]; streamctl --help lists the commands\n',
    );
    expect(ran.status).toBe(2);
  });

  it('refuses an output format get does not have, once', () => {
    const ran = streamctl(['get', '-o', 'tabel']);
    expect(ran.stderr).toBe(
      'streamctl get: -o tabel is not an output format; use table, wide, name, json, yaml or jsonpath=TEMPLATE\nusage: streamctl get [job] [options]; see streamctl get --help\n',
    );
    expect(ran.status).toBe(2);
  });

  it('names an unknown flag', () => {
    const ran = streamctl(['status', 'fraud-velocity', '--namespcae', 'fraud']);
    expect(ran.stderr.split('\n')).toEqual([
      expect.stringMatching(/^streamctl status: Unknown arguments?: .*namespcae/),
      'usage: streamctl status <job> [options]; see streamctl status --help',
      '',
    ]);
    expect(ran.status).toBe(2);
  });
});

describe('--help', () => {
  it('lists every command and documents the exit codes', () => {
    const ran = streamctl(['--help']);
    expect(ran.status).toBe(0);
    for (const command of ['run', 'validate', 'get', 'describe', 'status', 'logs', 'savepoint', 'savepoints', 'suspend', 'resume', 'scale', 'completion']) {
      expect(ran.stdout).toMatch(new RegExp(`^  streamctl ${command}\\b`, 'm'));
    }
    expect(ran.stdout.replace(/\s+/g, ' ')).toContain('Exit codes: 0 done (for validate: every manifest valid), 1 a problem the command found');
  });

  it("shows run's own options, loaded when asked for", () => {
    const ran = streamctl(['run', '--help']);
    expect(ran.status).toBe(0);
    expect(ran.stdout).toContain('--generator');
    expect(runDescription).toBe(runCommand.describe);
  });
});

describe('streamctl completion', () => {
  it('prints a bash script that asks streamctl for completions, and a zsh one', () => {
    const bash = streamctl(['completion', 'bash']);
    expect(bash.status).toBe(0);
    expect(bash.stdout).toContain('complete -o bashdefault -o default -F _streamctl_yargs_completions streamctl');
    expect(bash.stdout).toContain('streamctl --get-yargs-completions');
    const zsh = streamctl(['completion', 'zsh'], { env: { SHELL: '/bin/bash' } });
    expect(zsh.status).toBe(0);
    expect(zsh.stdout).toContain('compdef _streamctl_yargs_completions streamctl');
  });

  it("offers the command names and a command's flags (the shell keeps those that match what was typed)", () => {
    const commands = streamctl(['--get-yargs-completions', 'streamctl', 'sa']);
    expect(commands.stdout.split('\n')).toEqual(expect.arrayContaining(['get', 'describe', 'logs', 'savepoint', 'savepoints', 'completion']));
    const flags = streamctl(['--get-yargs-completions', 'streamctl', 'get', '--']);
    expect(flags.stdout).toContain('--all-namespaces');
    expect(flags.stdout).toContain('--context');
  });
});

describe('kubectl sluice', () => {
  it('runs streamctl as a kubectl plugin found on PATH, its usage saying kubectl sluice', () => {
    const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
    expect(kubectl.status).toBe(0);
    // npm links the bin into node_modules/.bin; a user puts that (or a global install's bin folder) on PATH.
    symlinkSync(join(process.env.STREAMCTL_ROOT ?? root, 'cli/bin/kubectl-sluice.js'), join(scratch, 'kubectl-sluice'));
    const env = { ...process.env, PATH: `${scratch}:${process.env.PATH ?? ''}` };
    const help = spawnSync('kubectl', ['sluice', '--help'], { encoding: 'utf8', env, cwd: root });
    expect(help.stdout.split('\n')[0]).toBe('kubectl sluice <command> [options]');
    const wrong = spawnSync('kubectl', ['sluice', 'status'], { encoding: 'utf8', env, cwd: root });
    expect(wrong.stderr).toContain('usage: kubectl sluice status <job> [options]; see kubectl sluice status --help');
  });
});
