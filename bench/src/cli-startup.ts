// `npx tsx bench/src/cli-startup.ts [--runs N] [--before OTHER/cli/dist/main.js]`: streamctl's start-up, the built CLI
// spawned N times per command, median seconds beside `node -e 0` measured in the same run (the ratio holds on a loaded
// machine, the seconds do not) and the CPU seconds each start used (GNU time; steadier still on a loaded machine);
// --before also runs another build (a checkout of an older commit) interleaved with it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** GNU time's report: the CPU seconds a spawned process used, which a loaded machine inflates far less than its wall time. */
const timeReport = join(scratch, 'time');
const gnuTime = '/usr/bin/time';
const cpuMeasured = existsSync(gnuTime);

/** Wall and CPU (user + system) seconds of one start; CPU is NaN without GNU time. */
function seconds(args: string[]): { wall: number; cpu: number } {
  const started = process.hrtime.bigint();
  if (cpuMeasured) spawnSync(gnuTime, ['-o', timeReport, '-f', '%U %S', process.execPath, ...args], { cwd: repoRoot, stdio: 'ignore' });
  else spawnSync(process.execPath, args, { cwd: repoRoot, stdio: 'ignore' });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuMeasured
    ? readFileSync(timeReport, 'utf8')
        .trim()
        .split('\n')
        .at(-1)!
        .split(' ')
        .map(Number)
        .reduce((a, b) => a + b, 0)
    : Number.NaN;
  return { wall, cpu };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// Interleaved, so a burst of load on the machine falls on every case alike.
const samples = new Map<string, { wall: number; cpu: number }[]>(cases.map(([name]) => [name, []]));
for (let run = 0; run < runs; run += 1) for (const [name, args] of cases) samples.get(name)!.push(seconds(args));

const medianOf = (name: string, measure: 'wall' | 'cpu'): number => median(samples.get(name)!.map((sample) => sample[measure]));
const baseline = medianOf('node -e 0', 'wall');
process.stdout.write(`median of ${runs} runs each (cli/dist, built by npm run build); CPU is user + system time, from GNU time\n`);
process.stdout.write(`${'case'.padEnd(55)} ${'wall'.padStart(7)} ${'ratio'.padStart(16)} ${'CPU'.padStart(7)}\n`);
for (const [name] of cases) {
  const wall = medianOf(name, 'wall');
  const cpu = medianOf(name, 'cpu');
  process.stdout.write(
    `${name.padEnd(55)} ${wall.toFixed(2).padStart(5)} s ${`${(wall / baseline).toFixed(1)}x node -e 0`.padStart(16)} ${Number.isNaN(cpu) ? '      -' : `${cpu.toFixed(2).padStart(5)} s`}\n`,
  );
}
rmSync(scratch, { recursive: true, force: true });
