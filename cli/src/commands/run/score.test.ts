// streamctl run of examples/fraud-scoring/job.yaml against the deterministic fraud model (a local HTTP server): every transaction comes out with its score, in order; a failing model dead-letters them with the reason.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fraudScore, MODEL_VERSION, type ModelServer, startModelServer } from '@sluice/runtime';
import { run } from './index.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../../../examples');
const sample = join(examples, 'fraud-velocity/sample.jsonl');

type Row = Record<string, unknown>;

const lines = (file: string): Row[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Row);

let dir: string;
let model: ModelServer | undefined;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sluice-score-'))));
afterEach(async () => {
  await model?.close();
  model = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** The example job with its model URL pointing at the local model. */
function jobFor(url: string): string {
  const job = join(dir, 'job.yaml');
  const spec = readFileSync(join(examples, 'fraud-scoring/job.yaml'), 'utf8');
  writeFileSync(job, spec.replace('http://fraud-model.fraud.svc:8080/score', url));
  return job;
}

async function runJob(url: string): Promise<number> {
  return run({
    job: jobFor(url),
    input: sample,
    output: join(dir, 'out.jsonl'),
    'dead-letter-output': join(dir, 'dead.jsonl'),
    'state-dir': join(dir, 'state'),
  });
}

describe('streamctl run with a score step', () => {
  it('joins each transaction’s fraud score (score = amount / 5000, capped at 1) in input order, calling the model with batches of 20', async () => {
    model = await startModelServer();
    expect(await runJob(model.url)).toBe(0);
    const transactions = lines(sample);
    expect(lines(join(dir, 'out.jsonl'))).toEqual(
      transactions.map((transaction) => ({ ...transaction, fraud_score: fraudScore(transaction.amount as number), model_version: MODEL_VERSION })),
    );
    // The request expression's body, 20 records a call at most.
    expect(model.calls.flat()).toEqual(transactions.map(({ amount, merchant_id }) => ({ amount, merchant_id })));
    expect(model.calls.every((call) => Array.isArray(call) && call.length <= 20)).toBe(true);
  });

  it('sends every transaction to the dead letters with the status and the model’s message when the model fails', async () => {
    model = await startModelServer({ fail: () => ({ status: 422, body: 'amount must be a decimal string' }) });
    await runJob(model.url);
    const dead = lines(join(dir, 'dead.jsonl'));
    expect(dead).toHaveLength(lines(sample).length);
    expect(dead[0]).toEqual({
      reason: `fraud-model: score call to ${model.url} failed: HTTP 422: "amount must be a decimal string"`,
      record: lines(sample)[0],
    });
    expect(readFileSync(join(dir, 'out.jsonl'), 'utf8')).toBe('');
  });
});
