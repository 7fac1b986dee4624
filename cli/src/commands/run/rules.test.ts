// streamctl run of examples/fraud-velocity/job-rules.yaml over a sample with planted bad transactions: the dead letters hold exactly those, each with the rules it broke.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './index.js';

const example = join(dirname(fileURLToPath(import.meta.url)), '../../../../examples/fraud-velocity');

const lines = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'sluice-rules-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('streamctl run with data-quality rules', () => {
  it('dead-letters exactly the planted bad transactions, naming the rules each broke, and the rest give the results of the clean sample', async () => {
    const code = await run({
      job: join(example, 'job-rules.yaml'),
      input: join(example, 'sample-rules.jsonl'),
      output: join(dir, 'out.jsonl'),
      'late-output': join(dir, 'late.jsonl'),
      'dead-letter-output': join(dir, 'dead.jsonl'),
      'state-dir': join(dir, 'state'),
    });
    expect(code).toBe(0);

    const dead = lines(join(dir, 'dead.jsonl'));
    expect(dead.map((letter) => [(letter.record as { transaction_id: string }).transaction_id, letter.rules])).toEqual([
      ['tx-0101', ['has-customer']],
      ['tx-0102', ['amount-positive']],
      ['tx-0103', ['known-currency']],
      ['0104', ['transaction-id-format']],
      ['tx-0105', ['large-needs-review']],
      ['tx-0106', ['has-customer', 'amount-positive', 'known-currency']],
    ]);
    expect(dead[1]!.reason).toBe(
      'source transactions: the record breaks rule amount-positive: amount is -250, below the minimum 0; ' +
        "fix the records' producer, or change spec.sources[name=transactions].rules if such records are valid",
    );
    expect(dead[5]!.reason).toContain(
      'rule has-customer: customer_id is missing; rule amount-positive: amount is -5, below the minimum 0; rule known-currency: currency is "EUR", not one of "NZD", "AUD", "USD"',
    );
    expect(dead[4]!.reason).toContain('rule large-needs-review: "amount < 10000.0 || has(self.review_id)" is false');

    // The good transactions are the clean sample, record for record: the same results, updates and late record.
    expect(lines(join(dir, 'out.jsonl'))).toEqual(lines(join(example, 'expected.jsonl')));
    expect(lines(join(dir, 'late.jsonl'))).toEqual([expect.objectContaining({ transaction_id: 'tx-0021' })]);
  });
});
