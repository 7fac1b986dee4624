// The fault corpus through `streamctl run` on a JSON-lines file: every bad line dead-lettered and written, the run never stuck or crashed, valid results untouched.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeScratchDirs, scratchDir, writeJobFile } from '../e2e/kafka/harness.js';
import { faultCorpus, fitsOnALine } from './corpus.js';
import { faultJobSpec, latestValidResults, validTransaction, watchMemory, within } from './harness.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const VALID = 4000;
const CUSTOMERS = 50;
const FIRST_POISON_AT = 1600;
const MAX_REASON_BYTES = 2048;
const MAX_RSS_BYTES = 1536 * 1024 * 1024;

interface RunResult {
  code: number | null;
  stderr: string;
  maxRss: number;
}

/** `streamctl run` as a user runs it, in its own process. */
async function streamctlRun(args: string[]): Promise<RunResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'cli/src/main.ts'), 'run', ...args], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const memory = watchMemory(child.pid!);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const code = await within(180_000, 'streamctl run reaching the end of its input file', exited);
    return { code, stderr, maxRss: memory.max() };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    memory.stop();
  }
}

const nonEmptyLines = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '');

type DeadLetterLine = { reason: string; raw?: string; record?: unknown };

describe('the fault corpus through streamctl run', () => {
  afterAll(removeScratchDirs);

  const corpus = faultCorpus().filter(fitsOnALine);

  it('dead-letters every bad line into the dead-letter file with a short reason, and valid results equal a clean run', async () => {
    const dir = scratchDir('faults-run');
    const lines: string[] = [];
    const every = Math.floor((VALID - FIRST_POISON_AT) / (corpus.length + 1));
    let next = 0;
    for (let i = 0; i < VALID; i++) {
      lines.push(JSON.stringify(validTransaction(i, CUSTOMERS)));
      if (i >= FIRST_POISON_AT && (i - FIRST_POISON_AT) % every === 0 && next < corpus.length) lines.push(corpus[next++]!.value!.toString('utf8'));
    }
    expect(next).toBe(corpus.length);
    const job = writeJobFile('faults-run', faultJobSpec({ input: 'unused', output: 'unused', late: 'unused', deadLetter: 'unused' }));
    const run = async (name: string, content: string[]): Promise<RunResult> => {
      const input = join(dir, `${name}.jsonl`);
      writeFileSync(input, `${content.join('\n')}\n`);
      const args = [
        job,
        '--input',
        input,
        '--output',
        join(dir, `${name}-out.jsonl`),
        '--late-output',
        join(dir, `${name}-late.jsonl`),
        '--dead-letter-output',
        join(dir, `${name}-dead.jsonl`),
        '--state-dir',
        join(dir, `${name}-state`),
      ];
      return streamctlRun(args);
    };

    const faulty = await run('faulty', lines);
    expect({ code: faulty.code, stderr: faulty.stderr.slice(-2000) }).toEqual({ code: 0, stderr: expect.any(String) as unknown });
    const clean = await run('clean', lines.filter(isValidLine));
    expect(clean.code).toBe(0);

    const letters = nonEmptyLines(join(dir, 'faulty-dead.jsonl')).map((line) => JSON.parse(line) as DeadLetterLine);
    // Nothing is counted as dead-lettered without being written.
    const counted = /(\d[\d,]*) dead-lettered/.exec(faulty.stderr)?.[1];
    expect(counted?.replaceAll(',', '')).toBe(String(letters.length));
    for (const letter of letters) expect(Buffer.byteLength(letter.reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);

    const lettered = (line: string): boolean => letters.some((letter) => letter.raw === line || (letter.record !== undefined && sameJson(letter.record, line)));
    const missing = corpus.filter((r) => r.expect === 'dead-letter' && !lettered(r.value!.toString('utf8'))).map((r) => r.name);
    expect(missing).toEqual([]);
    const wronglyLettered = corpus.filter((r) => r.expect === 'processed' && lettered(r.value!.toString('utf8'))).map((r) => r.name);
    expect(wronglyLettered).toEqual([]);

    const results = latestValidResults(nonEmptyLines(join(dir, 'faulty-out.jsonl')));
    expect(results.length).toBeGreaterThan(CUSTOMERS * 6);
    expect(results).toEqual(latestValidResults(nonEmptyLines(join(dir, 'clean-out.jsonl'))));
    expect(faulty.maxRss).toBeLessThan(MAX_RSS_BYTES);
    process.stderr.write(
      `fault corpus through streamctl run: ${corpus.length} lines tried, ${letters.length} dead-lettered, max RSS ${Math.round(faulty.maxRss / 2 ** 20)} MiB\n`,
    );
  }, 400_000);
});

function isValidLine(line: string): boolean {
  try {
    const value = JSON.parse(line) as { customer_id?: unknown };
    return typeof value.customer_id === 'string' && /^c\d+$/.test(value.customer_id);
  } catch {
    return false;
  }
}

function sameJson(record: unknown, line: string): boolean {
  try {
    return JSON.stringify(record) === JSON.stringify(JSON.parse(line));
  } catch {
    return false;
  }
}
