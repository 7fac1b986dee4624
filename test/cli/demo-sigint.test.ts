// `npm run demo` stopped with Ctrl-C as a terminal sends it — SIGINT to the whole foreground process group (npm, its
// shell and streamctl) — prints the summary and ends 0, so npm reports no failure (it died of SIGINT, exit 130, when the
// script's shell died of the signal or npm's forwarded second SIGINT killed streamctl before the summary).
import { spawn } from 'node:child_process';
import { root } from './cli.js';

test('Ctrl-C ends npm run demo with the summary and exit code 0', async () => {
  // detached: a process group of its own, as a shell gives a foreground job, so the signal reaches all of it.
  const demo = spawn('npm', ['run', 'demo'], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const firstLine = new Promise<void>((resolve) => {
    demo.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      // Off a terminal, the view is a plain line per refresh: the run is under way once one is printed.
      if (/^fraud-velocity: .*events\/s/m.test(stdout)) resolve();
    });
  });
  demo.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => demo.on('exit', (code, signal) => resolve({ code, signal })));
  await Promise.race([firstLine, ended]);
  process.kill(-demo.pid!, 'SIGINT');
  const { code, signal } = await ended;
  expect({ code, signal }).toEqual({ code: 0, signal: null });
  expect(stderr).toMatch(/^fraud-velocity: [\d,]+ records in/m);
  expect(stderr).toMatch(/^suspicious customer_ids\b/m);
  expect(stderr).not.toContain('npm error');
}, 300_000);
