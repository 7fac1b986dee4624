// streamctl run's engine on a JSON-lines file: every dead-lettered record is written to the run's dead-letter output, as it was read.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileJobOrThrow } from '../compiler/compile.js';
import { JsonLinesSource } from '../connectors/file/source.js';
import { jsonLinesOutput } from './outputs.js';
import { runJob } from './run.js';

describe('a local run', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sluice-run-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes each dead letter to the dead-letter output: a record nested 6,000 deep, a binary line byte for byte, a bad event time', async () => {
    const deep = `{"customer_id":"c1","amount":1,"timestamp":"2025-12-05T00:00:00Z","x":${'['.repeat(6000)}${']'.repeat(6000)}}`;
    const binary = Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0x00]);
    const input = join(dir, 'input.jsonl');
    writeFileSync(
      input,
      Buffer.concat([
        Buffer.from(`{"customer_id":"c1","amount":2,"timestamp":"2025-12-05T00:00:01Z"}\n${deep}\n`),
        binary,
        Buffer.from('\n{"customer_id":"c2","amount":3,"timestamp":"never"}\n'),
      ]),
    );
    const job = compileJobOrThrow({
      apiVersion: 'sluice.dev/v1alpha1',
      kind: 'StreamJob',
      metadata: { name: 'local-dead-letters' },
      spec: {
        sources: [{ name: 'transactions', file: { path: input }, format: 'json', eventTime: { field: 'timestamp', format: 'iso8601' } }],
        pipeline: [{ filter: 'amount > 0.0' }],
        sinks: [{ name: 'out', stdout: {} }],
      },
    });
    const deadLetters = join(dir, 'dead-letters.jsonl');
    const summary = await runJob({
      job,
      specHash: 'test',
      source: new JsonLinesSource(input),
      results: [jsonLinesOutput(join(dir, 'out.jsonl'))],
      deadLetters: jsonLinesOutput(deadLetters),
    });

    expect(summary.deadLettered).toBe(3);
    const lines = readFileSync(deadLetters, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { reason: string; raw?: string; rawBase64?: string; record?: Record<string, unknown> });
    expect(lines).toHaveLength(3);
    expect(lines[0]!.reason).toMatch(/line 2: objects and arrays nested more than 64 levels deep/);
    expect(lines[0]!.raw).toBe(deep);
    expect(lines[1]!.reason).toMatch(/line 3: not valid JSON/);
    expect(Buffer.from(lines[1]!.rawBase64!, 'base64').equals(binary)).toBe(true);
    expect(lines[2]!.record).toEqual({ customer_id: 'c2', amount: 3, timestamp: 'never' });
    expect(readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
