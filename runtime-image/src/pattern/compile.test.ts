// The pattern step through the job compiler: a manifest's pattern runs in a task, and each mistake is refused with its field path.
import { compileJob, compileJobOrThrow } from '../compiler/compile.js';
import { formatProblem } from '../compiler/problems.js';
import { Task } from '../dataflow/task.js';
import { MemoryKeyedState } from '../state/keyed.js';

type Spec = Record<string, unknown>;

/** Three or more failed logins from one IP, then a success, within 10 minutes; `edit` puts mistakes in it. */
function logins(edit: (pattern: Spec, spec: Spec) => void = () => undefined): unknown {
  const pattern: Spec = {
    steps: [
      { name: 'failures', condition: 'result == "failed"', times: 3, orMore: true },
      { name: 'success', condition: 'result == "success"', contiguity: 'followedBy' },
    ],
    within: '10m',
  };
  const spec: Spec = {
    sources: [{ name: 'authentication', kafka: { topic: 'authentication' }, format: 'json', eventTime: { field: 'timestamp', maxOutOfOrderness: '10s' } }],
    pipeline: [{ keyBy: { field: 'ip' } }, { pattern }],
    sinks: [{ name: 'alerts', kafka: { topic: 'login-alerts', key: '{ip}' } }],
  };
  edit(pattern, spec);
  return { apiVersion: 'sluice.dev/v1alpha1', kind: 'StreamJob', metadata: { name: 'logins' }, spec };
}

const steps = (pattern: Spec) => pattern.steps as Spec[];

function problemsOf(manifest: unknown): string[] {
  const result = compileJob(manifest);
  return result.ok ? [] : result.problems.map(formatProblem);
}

/** Runs the compiled job's dataflow over sign-ins (ip, result, minute of the hour) to the end of input. */
function results(manifest: unknown, signIns: [string, string, number][]): unknown[] {
  const job = compileJobOrThrow(manifest);
  const out: unknown[] = [];
  const task = new Task(job.dataflow, {
    state: () => new MemoryKeyedState(),
    outputs: { result: (record) => out.push(record.value), late: () => undefined, deadLetter: (letter) => out.push(letter.reason) },
  });
  const at = Date.parse('2025-12-05T09:00:00Z');
  for (const [ip, result, minute] of signIns) task.processRecord({ ip, result, user_id: 'U1' }, at + minute * 60_000);
  task.endOfInput();
  return out;
}

describe('the pattern step in a job', () => {
  it('compiles and finds ≥ 3 failures then a success per IP within 10 minutes', () => {
    const signIns: [string, string, number][] = [
      ['1.1.1.1', 'failed', 0],
      ['2.2.2.2', 'failed', 1],
      ['1.1.1.1', 'failed', 2],
      ['1.1.1.1', 'failed', 3],
      ['2.2.2.2', 'failed', 4],
      ['1.1.1.1', 'failed', 5],
      ['2.2.2.2', 'success', 6],
      ['1.1.1.1', 'success', 9],
    ];
    expect(results(logins(), signIns)).toEqual([
      { ip: '1.1.1.1', match_start: '2025-12-05T09:00:00.000Z', match_end: '2025-12-05T09:09:00.000Z', failures_count: 4, success_count: 1 },
    ]);
  });

  it('builds its results with select, each stage a list of records', () => {
    const manifest = logins((pattern) => (pattern.select = { ip: 'success[0].ip', attempts: 'size(failures)', user: 'failures[0].user_id' }));
    const signIns: [string, string, number][] = [
      ['1.1.1.1', 'failed', 0],
      ['1.1.1.1', 'failed', 1],
      ['1.1.1.1', 'failed', 2],
      ['1.1.1.1', 'success', 3],
    ];
    expect(results(manifest, signIns)).toEqual([{ ip: '1.1.1.1', attempts: 3, user: 'U1' }]);
  });

  it.each<[string, (pattern: Spec, spec: Spec) => void, string[]]>([
    [
      'no stages',
      (pattern) => (pattern.steps = []),
      ['spec.pipeline[1].pattern.steps: must list at least one stage, for example [{ name: failures, condition: result == "failed", times: 3, orMore: true }]'],
    ],
    [
      'two stages of one name',
      (pattern) => (steps(pattern)[1]!.name = 'failures'),
      ['spec.pipeline[1].pattern.steps[1].name: failures names an earlier stage too; give each stage its own name'],
    ],
    [
      'a stage name select could not see',
      (pattern) => (steps(pattern)[0]!.name = 'failed logins'),
      [
        'spec.pipeline[1].pattern.steps[0].name: "failed logins" is not a stage name; use an identifier such as failures, which select expressions see as a list',
      ],
    ],
    [
      'a condition that is not CEL, and one that is not a condition',
      (pattern) => {
        steps(pattern)[0]!.condition = 'result ==';
        steps(pattern)[1]!.condition = '"success"';
      },
      [
        'spec.pipeline[1].pattern.steps[0].condition: is not valid CEL: Unexpected token: EOF (column 10)',
        'spec.pipeline[1].pattern.steps[1].condition: returns string, not bool; write a condition such as result == "failed"',
      ],
    ],
    [
      'times below 1',
      (pattern) => (steps(pattern)[0]!.times = 0),
      ['spec.pipeline[1].pattern.steps[0].times: 0 is not a whole number of records of at least 1'],
    ],
    [
      'a contiguity Flink has no name for',
      (pattern) => (steps(pattern)[1]!.contiguity = 'then'),
      ['spec.pipeline[1].pattern.steps[1].contiguity: "then" is not next or followedBy'],
    ],
    [
      'no within',
      (pattern) => delete pattern.within,
      ['spec.pipeline[1].pattern.within: is required: the longest time a match may span, from its first record to its last, such as 10m'],
    ],
    [
      'a within that is not a duration',
      (pattern) => (pattern.within = '10 minutes'),
      ['spec.pipeline[1].pattern.within: "10 minutes" is not a duration such as 5m'],
    ],
    [
      'a select expression that is not CEL',
      (pattern) => (pattern.select = { ip: 'success[0].' }),
      ['spec.pipeline[1].pattern.select.ip: is not valid CEL: Expected IDENTIFIER, got EOF (column 12)'],
    ],
    [
      'a pattern without a keyBy before it',
      (_, spec) => (spec.pipeline as Spec[]).shift(),
      ["spec.pipeline[0].pattern: needs a keyBy step before it, for example { keyBy: { field: ip } }: a pattern matches each key's records"],
    ],
  ])('refuses %s, naming the field', (_, edit, expected) => {
    expect(problemsOf(logins(edit))).toEqual(expected);
  });
});
