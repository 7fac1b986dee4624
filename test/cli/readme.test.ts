// The commands README.md and docs/streamctl.md show, run exactly as written in the repository (bash, node_modules/.bin
// on PATH as npm scripts have it), taken from the markdown itself so the test fails when the docs drift from the CLI.
// Commands that need a cluster are left to the tests that run one; the few others not run are named with the reason.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCli, root } from './cli.js';

interface DocCommand {
  /** The markdown file and line it came from. */
  where: string;
  command: string;
  /** The first line of output the docs show under a `$ command`, if any. */
  shownOutput?: string;
}

/** streamctl commands that talk to the API server; docs/streamctl.md's cluster section shows them. */
const clusterCommands = new Set(['status', 'savepoint', 'savepoints', 'suspend', 'resume', 'scale', 'get', 'describe', 'logs']);

/** Commands that need no cluster but are not run here, and why. A new command in the docs runs unless listed. */
const notRun = new Map<string, string>([
  ['npm ci && npm run demo', 'npm ci would reinstall node_modules under the running tests; npm run demo is run on its own below'],
  ['npm test', 'runs every test, this one included'],
  ['npx tsx bench/src/cli-startup.ts', 'a benchmark of a few minutes; docs/streamctl.md shows its figures'],
  ['streamctl validate bad.yaml', 'bad.yaml stands for any file with mistakes; cli/src/commands/validate/validate.test.ts checks that exact output'],
  [
    'streamctl run examples/fraud-velocity/job.yaml --generator --since 6m --redis redis://127.0.0.1:6379',
    'needs a Redis on its default port; the test Redis listens elsewhere',
  ],
]);

/** Bounded for these tests: a command still running after this long (the demo, the generator) is stopped with Ctrl-C. */
const runningFor = 45_000;

function stripComment(line: string): string {
  return line.replace(/\s+#\s.*$/, '').trim();
}

function isCommand(line: string): boolean {
  // A synopsis (`streamctl run <job.yaml> [--input FILE]`) shows the shape, not a command to run.
  return /^(npx |npm |streamctl |kubectl |sluice-controller |node |cat |source )/.test(line) && !/<[^>]+>| \[[^\]]+\]/.test(line);
}

/** The commands of a markdown file's shell code blocks, and the `npx …` commands quoted inline in its prose. */
export function commandsOf(file: string): DocCommand[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const commands: DocCommand[] = [];
  let block: string | undefined;
  let pending: DocCommand | undefined;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!;
    const fence = /^```(\w*)/.exec(line);
    if (fence !== null) {
      block = block === undefined ? fence[1] : undefined;
      pending = undefined;
      continue;
    }
    if (block === undefined) continue;
    if (!['', 'sh', 'bash', 'console', 'shell'].includes(block)) continue;
    const prompted = line.startsWith('$ ');
    let text = stripComment(prompted ? line.slice(2) : line);
    while (text.endsWith('\\') && index + 1 < lines.length) text = `${text.slice(0, -1).trim()} ${stripComment(lines[++index]!)}`;
    if (isCommand(text)) {
      const found: DocCommand = { where: `${file}:${index + 1}`, command: text };
      commands.push(found);
      // Only a `$ command` has its output under it; elsewhere the next line is another command or a comment.
      pending = prompted ? found : undefined;
    } else if (pending !== undefined && pending.shownOutput === undefined && text !== '' && !prompted) {
      pending.shownOutput = line;
    }
  }
  const prose = lines.join('\n').replace(/```[\s\S]*?```/g, '');
  for (const match of prose.matchAll(/`(npx \S+ [^`]+)`/g)) commands.push({ where: `${file} (prose)`, command: match[1]!.replace(/\s+/g, ' ') });
  return commands;
}

function needsCluster(command: string): boolean {
  const words = command.split(' ');
  if (['kubectl', 'sluice-controller', 'helm'].includes(words[0]!)) return true;
  const subcommand = words[words[0] === 'npx' ? 2 : 1];
  return (words.includes('streamctl') && clusterCommands.has(subcommand ?? '')) || words.includes('--server');
}

interface Finished {
  code: number | null;
  /** The signal that ended it: npm passes Ctrl-C's SIGINT on to the job and then ends by it. */
  signal: NodeJS.Signals | null;
  output: string;
  /** True when it was still running at the limit and was stopped with SIGINT. */
  stopped: boolean;
}

/** The command in bash at the repository root; after `runningFor` it gets SIGINT, as Ctrl-C. */
function runInShell(command: string): Promise<Finished> {
  return new Promise((resolve) => {
    const env = { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH ?? ''}` };
    // Its own process group, so Ctrl-C reaches npm and the node it starts, as in a terminal.
    const child = spawn('bash', ['-c', command], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stopped = false;
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      stopped = true;
      process.kill(-child.pid!, 'SIGINT');
    }, runningFor);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, stopped });
    });
  });
}

const documented = [...commandsOf('README.md'), ...commandsOf('docs/streamctl.md')];
const runnable = documented.filter(
  ({ command }, index) => !needsCluster(command) && !notRun.has(command) && documented.findIndex((found) => found.command === command) === index,
);

beforeAll(() => {
  buildCli();
});

describe('the commands in README.md and docs/streamctl.md', () => {
  it('are found: the docs show streamctl run, validate and the demo', () => {
    const commands = runnable.map(({ command }) => command);
    expect(commands).toContain('npx streamctl validate examples');
    expect(commands).toContain('npx streamctl run examples/fraud-velocity/job.yaml --input examples/fraud-velocity/sample.jsonl');
    expect(commands.some((command) => command.startsWith('streamctl run '))).toBe(true);
    // Every command named as not run is still in the docs: the list does not outlive them.
    for (const command of notRun.keys()) expect(documented.map((found) => found.command)).toContain(command);
  });

  // In order: a later command may use what an earlier one wrote (--savepoint-dir, then --restore).
  it.each(runnable.map((found) => [found.command, found] as const))(
    '%s',
    async (_, { where, command, shownOutput }) => {
      const { code, signal, output, stopped } = await runInShell(command);
      const context = `${where}: ${command}\n${output.slice(-2000)}`;
      expect({ context, ended: stopped && signal === 'SIGINT' ? 0 : code }).toEqual({ context, ended: 0 });
      if (stopped) expect({ context, printed: output.trim() !== '' }).toEqual({ context, printed: true });
      if (shownOutput !== undefined) expect({ context, first: output.split('\n')[0] }).toEqual({ context, first: shownOutput });
    },
    300_000,
  );

  it('include npm run demo, which shows its view and stops on Ctrl-C with the summary', async () => {
    const { code, signal, output, stopped } = await runInShell('npm run demo');
    expect(stopped).toBe(true);
    expect(output).toMatch(/fraud-velocity: [\d,]+ records in, [\d,]+ results out/);
    expect(signal === 'SIGINT' ? 0 : code).toBe(0);
  }, 300_000);
});
