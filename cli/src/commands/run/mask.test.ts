// streamctl run of a job whose first step masks card numbers: the key from --mask-key-file or SLUICE_MASK_KEY, refused without one.
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { run } from './index.js';

const scratch = mkdtempSync(join(tmpdir(), 'sluice-run-mask-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

class Captured extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const cards = ['4111111111111111', '5500005555555559', '4111111111111111'];
const job = join(scratch, 'job.yaml');
writeFileSync(
  job,
  stringify({
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'cards' },
    spec: {
      sources: [{ name: 'payments', kafka: { topic: 'payments' }, eventTime: { field: 'timestamp' } }],
      pipeline: [
        { mask: { fields: [{ field: 'card_number', with: 'hmac' }], keySecretRef: { name: 'pii-mask-key', key: 'key' } } },
        { keyBy: { field: 'card_number' } },
        { window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'payments', fn: 'count' }] },
      ],
      sinks: [{ name: 'out', stdout: {} }],
    },
  }),
);
const input = join(scratch, 'payments.jsonl');
writeFileSync(input, cards.map((card, i) => JSON.stringify({ card_number: card, timestamp: `2025-12-05T10:00:0${i}Z` })).join('\n') + '\n');

async function runMasked(name: string, flags: Record<string, string> = {}): Promise<{ code: number; output: string; stderr: string }> {
  const output = join(scratch, `${name}.jsonl`);
  const stderr = new Captured();
  const code = await run({ job, input, output, 'state-dir': join(scratch, `state-${name}`), ...flags }, { stdout: new Captured(), stderr });
  let text = '';
  try {
    text = readFileSync(output, 'utf8');
  } catch {
    // No output file: the run was refused.
  }
  return { code, output: text, stderr: stderr.text };
}

describe('streamctl run with a mask step', () => {
  const previous = process.env.SLUICE_MASK_KEY;
  afterEach(() => {
    if (previous === undefined) delete process.env.SLUICE_MASK_KEY;
    else process.env.SLUICE_MASK_KEY = previous;
  });

  it('refuses to run a keyed mask without a key, naming the variable, the flag and the Secret', async () => {
    delete process.env.SLUICE_MASK_KEY;
    const { code, stderr } = await runMasked('no-key');
    expect(code).toBe(1);
    expect(stderr).toContain('spec.pipeline[0].mask.keySecretRef: card_number is masked with hmac but this run has no mask key: set SLUICE_MASK_KEY');
    expect(stderr).toContain('key key of Secret pii-mask-key');
    expect(stderr).toContain('--mask-key-file');
  });

  it('counts per hmac of the card under the key file, the same as under SLUICE_MASK_KEY, and writes no raw card number', async () => {
    const key = 'b6f0c2d1e4a3958877665544332211ff';
    writeFileSync(join(scratch, 'key'), key);
    const fromFile = await runMasked('file', { 'mask-key-file': join(scratch, 'key') });
    expect(fromFile.code).toBe(0);
    const counts = fromFile.output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { card_number: string; payments: number });
    const digest = (card: string): string => createHmac('sha256', key).update(card).digest('hex');
    expect(Object.fromEntries(counts.map((result) => [result.card_number, result.payments]))).toEqual({
      [digest('4111111111111111')]: 2,
      [digest('5500005555555559')]: 1,
    });
    expect(fromFile.output + fromFile.stderr).not.toMatch(/4111111111111111|5500005555555559/);

    process.env.SLUICE_MASK_KEY = key;
    const fromEnv = await runMasked('env');
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.output).toBe(fromFile.output);
  });
});
