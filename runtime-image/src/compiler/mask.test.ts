// The mask step in the compiler: a keyed mask needs its keySecretRef (and, in a run, the key), and a keyBy on a masked field still groups.
import { MemoryKeyedState } from '../state/keyed.js';
import { Task } from '../dataflow/task.js';
import { hmac } from '../mask/mask.js';
import { compileJob, compileJobOrThrow, type CompileOptions } from './compile.js';
import { formatProblem } from './problems.js';

type Spec = Record<string, unknown>;

const key = Buffer.from('a test key of thirty-two bytes!!');
const keySecretRef = { name: 'pii-mask-key', key: 'key' };

/** Card transactions keyed by the masked card number, counted per 5-minute window. */
function cardJob(mask: Spec, after: Spec[] = []): unknown {
  const spec: Spec = {
    sources: [{ name: 'transactions', kafka: { topic: 'transactions' }, eventTime: { field: 'timestamp' } }],
    pipeline: [
      { mask },
      ...after,
      { keyBy: { field: 'card_number' } },
      { window: { type: 'tumbling', size: '5m' }, aggregate: [{ name: 'txn_count', fn: 'count' }] },
    ],
    sinks: [{ name: 'out', kafka: { topic: 'card-features', key: '{card_number}' } }],
  };
  return { apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', metadata: { name: 'cards' }, spec };
}

function problemsOf(manifest: unknown, options: CompileOptions = {}): string[] {
  const result = compileJob(manifest, options);
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe('the mask step', () => {
  it('masks before the keyBy: the windows count per hmac of the card, and no result holds a raw card number', () => {
    const job = compileJobOrThrow(
      cardJob({
        fields: [
          { field: 'card_number', with: 'hmac' },
          { field: 'email', with: 'redact' },
        ],
        keySecretRef,
      }),
      {
        secrets: { maskKey: key },
      },
    );
    const results: Record<string, unknown>[] = [];
    const task = new Task(job.dataflow, {
      state: () => new MemoryKeyedState(),
      outputs: { result: (record) => results.push(record.value), late: () => undefined, deadLetter: () => undefined },
    });
    const at = Date.parse('2025-12-05T10:00:00Z');
    const cards = ['4111111111111111', '5500005555555559', '4111111111111111', '4111111111111111', '5500005555555559'];
    cards.forEach((card, i) => task.processRecord({ card_number: card, email: 'a@b.c', timestamp: at + i }, at + i));
    task.processRecord({ card_number: '4000000000000002', timestamp: at + 600_000 }, at + 600_000);

    const counts = Object.fromEntries(results.map((result) => [String(result.card_number), result.txn_count]));
    expect(counts).toEqual({ [hmac(key, '4111111111111111')]: 3, [hmac(key, '5500005555555559')]: 2 });
    expect(JSON.stringify(results)).not.toMatch(/4111111111111111|5500005555555559/);
  });

  it('refuses an hmac or tokenise field without keySecretRef, naming the field and the fix', () => {
    expect(
      problemsOf(
        cardJob({
          fields: [
            { field: 'email', with: 'redact' },
            { field: 'card_number', with: 'tokenise' },
          ],
        }),
      ),
    ).toEqual([
      'spec.pipeline[0].mask.keySecretRef: is required: card_number is masked with tokenise, which is keyed by a secret; set keySecretRef: { name: <Secret>, key: <key> } to a Secret holding at least one random byte (32 recommended)',
    ]);
  });

  it('checks a spec without the key (the controller, streamctl validate), but refuses to run it without one', () => {
    const manifest = cardJob({ fields: [{ field: 'card_number', with: 'hmac' }], keySecretRef });
    expect(problemsOf(manifest)).toEqual([]);
    const refusal = [
      "spec.pipeline[0].mask.keySecretRef: card_number is masked with hmac but this run has no mask key: set SLUICE_MASK_KEY to the value of key key of Secret pii-mask-key (the operator does this in the job's pods; streamctl run also takes --mask-key-file)",
    ];
    expect(problemsOf(manifest, { secrets: { maskKey: undefined } })).toEqual(refusal);
    expect(problemsOf(manifest, { secrets: { maskKey: new Uint8Array(0) } })).toEqual(refusal);
  });

  it('runs redact and truncate without a key', () => {
    const manifest = cardJob({ fields: [{ field: 'card_number', with: 'truncate', keep: 4 }] });
    expect(problemsOf(manifest, { secrets: { maskKey: undefined } })).toEqual([]);
  });

  it('names each mistake in a mask step', () => {
    expect(
      problemsOf(
        cardJob({
          fields: [
            { field: 'card number', with: 'hmac' },
            { field: 'email', with: 'hash' },
            { field: 'pan', with: 'hmac', keep: 4 },
            { field: 'zip', with: 'truncate', keep: -1 },
          ],
          keySecretRef,
        }),
      ),
    ).toEqual([
      'spec.pipeline[0].mask.fields[0].field: "card number" is not a field name such as card_number or payment.card_number',
      'spec.pipeline[0].mask.fields[1].with: "hash" is not a mask method; use hmac, redact, truncate, tokenise',
      'spec.pipeline[0].mask.fields[2].keep: applies only to with: truncate (how many trailing characters are kept); remove it',
      'spec.pipeline[0].mask.fields[3].keep: -1 is not a number of characters ≥ 0, for example 4',
    ]);
    expect(problemsOf(cardJob({ fields: [] }))).toEqual([
      'spec.pipeline[0].mask: must list the fields to mask, for example { fields: [{ field: card_number, with: hmac }], keySecretRef: { name: pii-key, key: key } }',
    ]);
  });

  it('keeps one mask key per job: a second keyed step naming another Secret is refused', () => {
    const second = { mask: { fields: [{ field: 'iban', with: 'hmac' }], keySecretRef: { name: 'other-key', key: 'key' } } };
    expect(problemsOf(cardJob({ fields: [{ field: 'card_number', with: 'hmac' }], keySecretRef }, [second]))).toEqual([
      'spec.pipeline[1].mask.keySecretRef: names Secret other-key key key, but spec.pipeline[0].mask.keySecretRef names Secret pii-mask-key key key; a job has one mask key: name the same one',
    ]);
  });
});
