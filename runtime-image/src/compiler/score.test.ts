// The score step's compiler: what it builds, and the problems it names in a spec.
import { compileJob, compileJobOrThrow } from './compile.js';
import { formatProblem } from './problems.js';

function scoring(score: unknown): unknown {
  return {
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'StreamJob',
    metadata: { name: 'scoring' },
    spec: {
      sources: [{ name: 'transactions', kafka: { topic: 'transactions' }, format: 'json' }],
      pipeline: [{ id: 'fraud-model', score }, { filter: 'fraud_score > 0.5' }],
      sinks: [{ name: 'out', kafka: { topic: 'scored' } }],
    },
  };
}

function problemsOf(manifest: unknown): string[] {
  const result = compileJob(manifest);
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe('the score step compiler', () => {
  it('builds a score operator with the step id, before the filter', () => {
    const job = compileJobOrThrow(scoring({ url: 'http://fraud-model:8080/score', fields: { fraud_score: 'score' } }));
    expect(job.dataflow.nodes.map((node) => [node.id, node.kind])).toEqual([
      ['fraud-model', 'score'],
      ['filter-1', 'filter'],
    ]);
    expect(job.dataflow.nodes[0]!.metrics?.map((metric) => (metric as unknown as { name: string }).name)).toContain('sluice_score_calls_total');
  });

  it('names each wrong setting and says what to write instead', () => {
    expect(
      problemsOf(
        scoring({
          url: 'fraud-model:8080',
          into: 'fraud',
          fields: { fraud_score: 'score' },
          batchSize: 0,
          concurrency: 2.5,
          timeout: '0s',
          request: 'amount +',
          bogus: true,
        }),
      ),
    ).toEqual([
      expect.stringMatching(/^spec\.pipeline\[0\]\.score\.bogus: is not a score setting; use url, request, into, fields/),
      'spec.pipeline[0].score.url: "fraud-model:8080" is not an http:// or https:// URL; give the endpoint each call POSTs to, for example http://fraud-model:8080/score',
      expect.stringMatching(/^spec\.pipeline\[0\]\.score\.request: /),
      'spec.pipeline[0].score: set into (the whole answer in one field) or fields (picked answer fields), not both',
      'spec.pipeline[0].score.batchSize: 0 is not a whole number from 1 to 10000',
      'spec.pipeline[0].score.concurrency: 2.5 is not a whole number from 1 to 256',
      'spec.pipeline[0].score.timeout: must be longer than 0; use a duration such as 2s',
    ]);
  });

  it('refuses a score step in a job that repartitions, saying how to avoid the repartition', () => {
    const manifest = scoring({ url: 'http://fraud-model:8080/score' }) as { spec: { pipeline: unknown[] } };
    manifest.spec.pipeline = [
      { score: { url: 'http://fraud-model:8080/score' } },
      { keyBy: { field: 'customer_id' } },
      { window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'txn_count', fn: 'count' }] },
    ];
    expect(problemsOf(manifest)).toEqual([
      'spec.pipeline[0].score: a score step in a job that repartitions its stream arrives in a later release of Sluice; ' +
        'key the source by customer_id (spec.sources[0].kafka.keyedBy) so the job needs no repartition, or score in a job of its own',
    ]);
  });

  it('refuses a fields entry that names no answer field', () => {
    expect(problemsOf(scoring({ url: 'http://fraud-model:8080/score', fields: { fraud_score: 'score..x' } }))).toEqual([
      'spec.pipeline[0].score.fields.fraud_score: "score..x" is not a field of the answer such as score or model.version',
    ]);
  });
});
