// streamctl validate refuses a bad data-quality rule by its path in the manifest, before anything runs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateFiles } from './index.js';

const ruledJob = `apiVersion: sluice.dev/v1alpha1
kind: StreamJob
metadata:
  name: ruled
spec:
  sources:
    - name: transactions
      kafka:
        topic: transactions
      eventTime:
        field: timestamp
        maxOutOfOrderness: 30s
      rules:
        - name: has-customer
          field: customer_id
          required: true
        - name: currency-code
          field: currency
          regex: '[A-Z'
        - name: within-limit
          cel: amount <=
  sinks:
    - name: out
      stdout: {}
`;

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'sluice-validate-rules-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('streamctl validate with data-quality rules', () => {
  it('names the rule and its field for a regex that does not compile and a CEL rule that does not parse', () => {
    const file = join(dir, 'ruled.yaml');
    writeFileSync(file, ruledJob);
    expect(validateFiles([file])).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} StreamJob/ruled: spec\\.sources\\[0\\]\\.rules\\[1\\]\\.regex: "\\[A-Z" is not a valid regular expression: .+; fix it`,
        ),
      ),
      `${file} StreamJob/ruled: spec.sources[0].rules[2].cel: is not valid CEL: Unexpected token: EOF (column 10)`,
    ]);
  });
});
