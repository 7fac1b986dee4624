// `npx tsx bench/src/cli-startup.ts [--runs N] [--before OTHER/cli/dist/main.js]`: streamctl's start-up, the built CLI
// spawned N times per command, median seconds beside `node -e 0` measured in the same run (the ratio holds on a loaded
// machine, the seconds do not); --before also runs another build (a checkout of an older commit) interleaved with it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './runtime-process.js';

const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag === -1 ? 9 : Number(process.argv[runsFlag + 1]);
const beforeFlag = process.argv.indexOf('--before');
const before = beforeFlag === -1 ? undefined : process.argv[beforeFlag + 1];
const main = join(repoRoot, 'cli', 'dist', 'main.js');

/** A kubeconfig naming a server nothing listens on: `status` gets as far as its first request and fails fast. */
const scratch = mkdtempSync(join(tmpdir(), 'cli-startup-'));
const kubeconfig = join(scratch, 'config');
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: 'https://127.0.0.1:1'}}]
users: [{name: me, user: {token: t}}]
contexts: [{name: none, context: {cluster: none, user: me}}]
current-context: none
`,
);

/** The streamctl cases for one build. */
const streamctlCases = (build: string, label: string): [name: string, args: string[]][] => [
  [`${label} --help`, [build, '--help']],
  [`${label} validate --help`, [build, 'validate', '--help']],
  [`${label} validate examples/fraud-velocity/job.yaml`, [build, 'validate', 'examples/fraud-velocity/job.yaml']],
  [`${label} status x (no server)`, [build, 'status', 'x', '--kubeconfig', kubeconfig]],
];

const cases: [name: string, args: string[]][] = [
  ['node -e 0', ['-e', '0']],
  // The floor for --help: streamctl's command line is yargs.
  ["node: import('yargs')", ['--input-type=module', '-e', "await import('yargs')"]],
  ...streamctlCases(main, 'streamctl'),
  ...(before === undefined ? [] : streamctlCases(before, 'before:')),
];

function seconds(args: string[]): number {
  const started = process.hrtime.bigint();
  spawnSync(process.execPath, args, { cwd: repoRoot, stdio: 'ignore' });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// Interleaved, so a burst of load on the machine falls on every case alike.
const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (let run = 0; run < runs; run += 1) for (const [name, args] of cases) samples.get(name)!.push(seconds(args));
rmSync(scratch, { recursive: true, force: true });

const baseline = median(samples.get('node -e 0')!);
process.stdout.write(`median of ${runs} runs each (cli/dist, built by npm run build)\n`);
for (const [name] of cases) {
  const value = median(samples.get(name)!);
  process.stdout.write(`${name.padEnd(55)} ${value.toFixed(2)} s  ${(value / baseline).toFixed(1)}x node -e 0\n`);
}
