// Records/s through the score step against a local model, batchSize 1 vs 100, and the same job without the step, in the same run (`npm run bench -- score`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileJobOrThrow } from '../../runtime-image/src/compiler/compile.js';
import { JsonLinesSource } from '../../runtime-image/src/connectors/file/source.js';
import type { Sink } from '../../runtime-image/src/connectors/sink.js';
import { runJob } from '../../runtime-image/src/runner/run.js';
import { fraudScore, startModelServer } from '../../runtime-image/src/score/model-server.js';

export interface ScoreBenchOptions {
  records: number;
  rounds: number;
  /** Milliseconds the model takes per call (a real model's inference time); 0 measures the step's own cost. */
  modelDelay: number;
  log: (line: string) => void;
}

export interface ScoreMeasured {
  name: string;
  recordsPerSecond: number;
  calls: number;
}

/** The example job's shape (fraud-scoring): transactions in, the score joined, out; `score` is the step's settings, or a map giving the same fields without a call. */
function job(score: Record<string, unknown> | undefined): unknown {
  const step =
    score === undefined
      ? { map: { merge: true, fields: { fraud_score: 'amount / 5000.0', model_version: '"velocity-v1"' } } }
      : {
          id: 'fraud-model',
          score: { request: '{"amount": amount, "merchant_id": merchant_id}', fields: { fraud_score: 'score', model_version: 'model.version' }, ...score },
        };
  return {
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'score-bench' },
    spec: {
      sources: [{ name: 'transactions', file: { path: '/dev/null' }, format: 'json' }],
      pipeline: [step],
      sinks: [{ name: 'out', stdout: {} }],
    },
  };
}

/** Counts results and checks each one's score, so a broken step cannot count as fast. */
class CheckingSink implements Sink {
  written = 0;
  write(record: { value: Record<string, unknown> }): undefined {
    if (record.value.fraud_score === undefined) throw new Error(`a result without fraud_score: ${JSON.stringify(record.value)}`);
    this.written += 1;
    return undefined;
  }
  commit(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export async function runScoreBench(options: ScoreBenchOptions): Promise<ScoreMeasured[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-score-bench-'));
  const model = await startModelServer({ delay: () => options.modelDelay });
  try {
    const input = join(dir, 'transactions.jsonl');
    const start = Date.parse('2025-12-05T10:00:00Z');
    const lines = Array.from({ length: options.records }, (_, i) =>
      JSON.stringify({
        transaction_id: `tx-${i}`,
        customer_id: `C${(i * 7919) % 5000}`,
        merchant_id: `M${(i * 104_729) % 500}`,
        amount: Math.round(((i * 37) % 100_000) + 1) / 100,
        timestamp: new Date(start + i * 1000).toISOString(),
      }),
    );
    writeFileSync(input, `${lines.join('\n')}\n`);
    const cases: [string, Record<string, unknown> | undefined][] = [
      ['without the step (a map)', undefined],
      ['score, batchSize 1', { url: model.url, batchSize: 1, concurrency: 4 }],
      ['score, batchSize 100', { url: model.url, batchSize: 100, concurrency: 4 }],
    ];
    const best = cases.map(([name]) => ({ name, recordsPerSecond: 0, calls: 0 }));
    // The cases take turns round by round, so a burst of load on the shared machine slows each alike.
    for (let round = 1; round <= options.rounds; round++) {
      for (const [i, [name, score]] of cases.entries()) {
        const callsBefore = model.calls.length;
        const sink = new CheckingSink();
        const started = performance.now();
        await runJob({ job: compileJobOrThrow(job(score)), specHash: 'bench', source: new JsonLinesSource(input), results: [sink] });
        const seconds = (performance.now() - started) / 1000;
        if (sink.written !== options.records) throw new Error(`${name}: ${sink.written} results of ${options.records} records`);
        const perSecond = Math.round(options.records / seconds);
        options.log(`round ${round}, ${name}: ${perSecond} records/s`);
        best[i]!.recordsPerSecond = Math.max(best[i]!.recordsPerSecond, perSecond);
        best[i]!.calls = model.calls.length - callsBefore;
      }
    }
    // The model's arithmetic, checked once: the bench's scores are the ones the tests expect.
    if (fraudScore(2500) !== 0.5) throw new Error('the model’s score changed');
    return best;
  } finally {
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function scoreTable(options: Pick<ScoreBenchOptions, 'records' | 'modelDelay'>, measured: readonly ScoreMeasured[]): string {
  const header = `${options.records} transactions through streamctl run's runner, the model answering after ${options.modelDelay} ms (best round)`;
  const rows = measured.map(({ name, recordsPerSecond, calls }) => `| ${name} | ${recordsPerSecond} | ${calls} |`);
  return [header, '', '| job | records/s | calls per run |', '|---|---|---|', ...rows].join('\n');
}
