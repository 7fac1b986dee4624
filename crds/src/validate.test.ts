// validateManifest against the examples and against one broken manifest per CEL rule and per pattern of the CRDs.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import {
  crdManifests,
  formatFieldError,
  validateManifest,
  type FieldError,
  type JSONSchemaProps,
  type PipelineStep,
  type SchemaSubject,
  type StreamJob,
  type Topic,
  type Window,
} from './index.js';

const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));

type Manifest = StreamJob | Topic | SchemaSubject;

function example<T extends Manifest>(path: string): T {
  return parse(readFileSync(`${examplesDir}${path}`, 'utf8')) as T;
}

const fraud = example<StreamJob>('fraud-velocity/job.yaml');
const topic: Topic = { apiVersion: 'sluice.dev/v1alpha1', kind: 'Topic', metadata: { name: 'payments' }, spec: { partitions: 6 } };
const subject = example<SchemaSubject>('fraud-velocity/schema.yaml');

function changed<T extends Manifest>(base: T, change: (m: T) => void): T {
  const copy = structuredClone(base);
  change(copy);
  return copy;
}

/** The fraud-velocity job with one change; its pipeline is [keyBy, window], its sinks [redis, kafka]. */
const job = (change: (spec: StreamJob['spec'], m: StreamJob) => void): StreamJob => changed(fraud, (m) => change(m.spec, m));
const pipeline = (spec: StreamJob['spec']) => spec.pipeline!;
const window = (w: Window): StreamJob => job((s) => (pipeline(s)[1]!.window = w));
/** Sets a field the types forbid, as a user's YAML can. */
const wrong = (target: object, field: string, value: unknown): void => void ((target as Record<string, unknown>)[field] = value);

const aggregates = (s: StreamJob['spec']) => pipeline(s)[1]!.aggregate!;

function lines(errors: FieldError[]): string[] {
  return errors.map(formatFieldError);
}

describe('the examples', () => {
  const files = readdirSync(examplesDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml'));

  it('include the three use cases, each with a job, its topics and its schema', () => {
    for (const name of ['fraud-velocity', 'session-behaviour', 'failed-logins']) {
      expect(files).toEqual(expect.arrayContaining([`${name}/job.yaml`, `${name}/topics.yaml`, `${name}/schema.yaml`]));
    }
  });

  it.each(files)('%s is valid', (file) => {
    for (const document of parseAllDocuments(readFileSync(`${examplesDir}${file}`, 'utf8'))) {
      expect(document.errors).toEqual([]);
      expect(lines(validateManifest(document.toJS()).errors)).toEqual([]);
    }
  });
});

describe('validateManifest', () => {
  it('fills in defaults the way the API server does, inside objects that are there', () => {
    const { manifest, errors } = validateManifest(fraud);
    expect(errors).toEqual([]);
    const spec = (manifest as StreamJob).spec;
    expect(spec.parallelism).toBe(1);
    expect(spec.upgradeMode).toBe('savepoint');
    expect(spec.sources[0]!.kafka!.startingOffsets).toBe('earliest');
    expect(spec.checkpoints).toEqual({ interval: '1m' });
    expect(spec.savepoints).toEqual({ retention: { count: 5 } });
    expect(spec.delivery).toEqual({ guarantee: 'exactly-once', commitInterval: '100ms' });
    expect(spec.autoscaler).toBeUndefined();
  });

  it('drops status, which only the status subresource writes', () => {
    const { manifest, errors } = validateManifest(job((_, m) => wrong(m, 'status', { phase: 'Nonsense' })));
    expect(errors).toEqual([]);
    expect((manifest as StreamJob).status).toBeUndefined();
  });

  it('refuses a kind that is not Sluice’s, naming the kinds it knows', () => {
    expect(lines(validateManifest({ apiVersion: 'sluice.dev/v1alpha1', kind: 'FlinkDeployment', metadata: { name: 'x' } }).errors)).toEqual([
      'kind: Unsupported value: "FlinkDeployment": supported values: "StreamJob", "Topic", "SchemaSubject"',
    ]);
    expect(lines(validateManifest({ apiVersion: 'apps/v1', kind: 'StreamJob' }).errors)).toEqual([
      'apiVersion: Unsupported value: "apps/v1": supported values: "sluice.dev/v1alpha1"',
    ]);
    expect(lines(validateManifest('kind: StreamJob').errors)).toEqual([
      ': Invalid value: "string": a manifest is an object with apiVersion, kind, metadata and spec',
    ]);
  });

  it('refuses fields the schema does not declare, as strict field validation does', () => {
    expect(lines(validateManifest(job((s) => wrong(s.sources[0]!.kafka!, 'topics', ['a']))).errors)).toEqual([
      'spec.sources[0].kafka.topics: unknown field "spec.sources[0].kafka.topics"',
    ]);
  });

  it('words schema errors as the API server does and skips the CEL rules after a blocking one', () => {
    expect(lines(validateManifest(job((s) => wrong(s, 'parallelism', 'two'))).errors)).toEqual([
      'spec.parallelism: Invalid value: "string": spec.parallelism in body must be of type integer: "string"',
      '.spec.parallelism: Invalid value: 0: .spec.parallelism accessor error: two is of the type string, expected int64',
      '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
    expect(lines(validateManifest(job((s) => wrong(s, 'sinks', undefined))).errors)[0]).toBe('spec.sinks: Required value');
    expect(lines(validateManifest(job((s) => wrong(s, 'upgradeMode', 'rolling'))).errors)[0]).toBe(
      'spec.upgradeMode: Unsupported value: "rolling": supported values: "savepoint", "last-state", "stateless"',
    );
    expect(lines(validateManifest(job((s) => (s.parallelism = 0))).errors)).toEqual([
      'spec.parallelism: Invalid value: 0: spec.parallelism in body should be greater than or equal to 1',
    ]);
    expect(lines(validateManifest(job((s) => (s.parallelism = -1))).errors)).toEqual([
      'spec.parallelism: Invalid value: -1: spec.parallelism in body should be greater than or equal to 1',
      '.spec.parallelism: Invalid value: -1: should be a non-negative integer',
    ]);
    expect(lines(validateManifest(job((s) => (s.autoscaler = { targetUtilization: 0 }))).errors)).toEqual([
      'spec.autoscaler.targetUtilization: Invalid value: 0: spec.autoscaler.targetUtilization in body should be greater than 0',
    ]);
    expect(lines(validateManifest(job((s) => (s.sources[0]!.name = 'x'.repeat(64)))).errors)[0]).toBe(
      'spec.sources[0].name: Too long: may not be more than 63 bytes',
    );
    expect(lines(validateManifest(job((s) => (s.sinks = []))).errors)).toEqual([
      'spec.sinks: Invalid value: 0: spec.sinks in body should have at least 1 items',
    ]);
    const nineSources = Array.from({ length: 9 }, (_, i) => ({ name: `s${i}`, file: { path: 'x' } }));
    expect(lines(validateManifest(job((s) => (s.sources = nineSources))).errors)[0]).toBe('spec.sources: Too many: 9: must have at most 8 items');
  });

  it("takes a podTemplate in a Pod's shape (Kubernetes types kept as written) and a state volumeClaimTemplate", () => {
    const bank = job((s) => {
      s.podTemplate = {
        spec: {
          securityContext: { runAsUser: 1000 },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'streaming', effect: 'NoSchedule' }],
          volumes: [{ name: 'ca', secret: { secretName: 'bank-ca' } }],
          containers: [
            {
              name: 'runtime',
              env: [{ name: 'REGION', valueFrom: { configMapKeyRef: { name: 'site', key: 'region' } } }],
              volumeMounts: [{ name: 'ca', mountPath: '/etc/bank-ca' }],
            },
          ],
        },
      };
      s.state = { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } } } };
    });
    const { errors, manifest } = validateManifest(bank);
    expect(errors).toEqual([]);
    expect((manifest as StreamJob).spec.podTemplate).toEqual(bank.spec.podTemplate);
    expect((manifest as StreamJob).spec.state?.volumeClaimTemplate).toEqual(bank.spec.state?.volumeClaimTemplate);
  });

  it('refuses a repeated name in a list keyed by name', () => {
    expect(lines(validateManifest(job((s) => s.sinks.push({ name: 'feature-store', stdout: {} }))).errors)).toEqual([
      'spec.sinks[2]: Duplicate value: {"name":"feature-store"}',
    ]);
  });

  it('checks metadata.name as the API server does', () => {
    expect(lines(validateManifest(changed(topic, (m) => delete m.metadata.name)).errors)[0]).toBe(
      'metadata.name: Required value: name or generateName is required',
    );
    expect(lines(validateManifest(changed(topic, (m) => (m.metadata.name = 'Payments'))).errors)).toEqual([
      `metadata.name: Invalid value: "Payments": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    ]);
  });

  it.each([
    ['cel-filter-nested-all.yaml', 'spec.pipeline[0].filter: Too long: may not be more than 2048 bytes'],
    ['cel-map-nested-map.yaml', 'spec.pipeline[0].map.fields.combinations: Too long: may not be more than 2048 bytes'],
  ])('refuses the costly CEL of issue 9 in test/e2e/invalid/%s by its length, as the API server does', (file, error) => {
    const manifest = parse(readFileSync(fileURLToPath(new URL(`../../test/e2e/invalid/${file}`, import.meta.url)), 'utf8')) as StreamJob;
    expect(lines(validateManifest(manifest).errors)[0]).toBe(error);
  });

  it('evaluates transition rules only when it is given the object as stored', () => {
    const fewer = changed(topic, (m) => (m.spec.partitions = 3));
    expect(validateManifest(fewer).errors).toEqual([]);
    expect(validateManifest(fewer, { old: topic }).errors).not.toEqual([]);
    expect(
      validateManifest(
        changed(topic, (m) => (m.spec.partitions = 12)),
        { old: topic },
      ).errors,
    ).toEqual([]);
  });
});

/** One manifest per rule: what it breaks, the path the error names, and the words it must say. */
interface RuleCase {
  name: string;
  manifest: Manifest;
  old?: Manifest;
  path: string;
  message: string;
}

const customers = { name: 'customers', kafka: { topic: 'customers' } };

/** The job with a customers source joined before the window, so the window is at pipeline[2]. */
const joined = (join: Omit<NonNullable<PipelineStep['join']>, 'with' | 'leftKey'>): StreamJob =>
  job((s) => {
    s.sources.push(customers);
    pipeline(s).splice(1, 0, { join: { with: 'customers', leftKey: 'customer_id', ...join } });
  });

const ruleCases: RuleCase[] = [
  {
    name: 'a job name too long for its StatefulSet',
    manifest: job((_, m) => (m.metadata.name = `fraud-${'v'.repeat(50)}`)),
    path: 'metadata.name',
    message: "Invalid value: metadata.name names the job's StatefulSet and Service, so it must be at most 52 characters",
  },
  {
    name: 'a join with a source that is not there',
    manifest: job((s) => pipeline(s).push({ join: { with: 'customers', type: 'table', leftKey: 'customer_id' } })),
    path: 'spec.pipeline',
    message: 'spec.pipeline[].join.with must name one of spec.sources other than the first',
  },
  {
    name: 'a second source nothing reads',
    manifest: job((s) => s.sources.push(customers)),
    path: 'spec.sources',
    message: 'every source after the first must be read by a join step',
  },
  {
    name: 'two pipeline steps with one id',
    manifest: job((s) => {
      pipeline(s)[0]!.id = 'velocity';
      pipeline(s)[1]!.id = 'velocity';
    }),
    path: 'spec.pipeline',
    message: "spec.pipeline[].id names a step's state, so each id may appear once",
  },
  {
    name: 'a source that is both kafka and file',
    manifest: job((s) => (s.sources[0]!.file = { path: 'transactions.jsonl' })),
    path: 'spec.sources[0]',
    message: 'each source sets exactly one of kafka, generator or file',
  },
  {
    name: 'an avro source without a schema',
    manifest: job((s) => (s.sources[0]!.format = 'avro')),
    path: 'spec.sources[0].schema',
    message: 'Required value: schema is required when format is avro or json-schema',
  },
  {
    name: 'a source rule with two checks',
    manifest: job((s) => (s.sources[0]!.rules = [{ name: 'amount-ok', field: 'amount', min: 0, regex: '^[0-9]+$' }])),
    path: 'spec.sources[0].rules[0]',
    message: 'each rule sets exactly one check: required, min and/or max, regex, enum or cel',
  },
  {
    name: 'a source rule with a check but no field',
    manifest: job((s) => (s.sources[0]!.rules = [{ name: 'amount-ok', min: 0 }])),
    path: 'spec.sources[0].rules[0].field',
    message: 'field names the record field a required, min/max, regex or enum rule checks',
  },
  {
    name: 'a source rule whose max is below its min',
    manifest: job((s) => (s.sources[0]!.rules = [{ name: 'amount-ok', field: 'amount', min: 5, max: 1 }])),
    path: 'spec.sources[0].rules[0].max',
    message: 'max is below min, so no value could keep the rule',
  },
  {
    name: 'an idle timeout of zero',
    manifest: job((s) => (s.sources[0]!.eventTime!.idleTimeout = '0s')),
    path: 'spec.sources[0].eventTime.idleTimeout',
    message: 'Invalid value: "0s": must be a duration longer than 0s, such as 30s',
  },
  {
    name: 'a sink that is both redis and stdout',
    manifest: job((s) => (s.sinks[0]!.stdout = {})),
    path: 'spec.sinks[0]',
    message: 'each sink sets exactly one of kafka, redis, postgres, s3, file or stdout',
  },
  {
    name: 'an avro kafka sink without a schema',
    manifest: job((s) => (s.sinks[1]!.kafka!.format = 'avro')),
    path: 'spec.sinks[1].kafka.schema',
    message: 'Required value: schema is required when format is avro or json-schema',
  },
  {
    name: 'a redis hash with a value',
    manifest: job((s) => (s.sinks[0]!.redis!.dataType = 'hash')),
    path: 'spec.sinks[0].redis.value',
    message: 'Forbidden: value applies only to dataType string',
  },
  {
    name: 'a pipeline step with two operators',
    manifest: job((s) => (pipeline(s)[0]!.filter = 'amount > 0')),
    path: 'spec.pipeline[0]',
    message: 'each pipeline step sets exactly one of filter, map, flatMap, keyBy, window, join, pattern,',
  },
  {
    name: 'a score step with both into and fields',
    manifest: job((s) => pipeline(s).unshift({ score: { url: 'http://fraud-model:8080/score', into: 'fraud', fields: { fraud_score: 'score' } } })),
    path: 'spec.pipeline[0].score',
    message: 'a score step sets into (the whole response in one field) or fields (picked response fields), not both',
  },
  {
    name: 'a mask step hashing a field without keySecretRef',
    manifest: job((s) => pipeline(s).unshift({ mask: { fields: [{ field: 'card_number', with: 'hmac' }] } })),
    path: 'spec.pipeline[0].mask.keySecretRef',
    message: 'Required value: a mask field with hmac or tokenise needs keySecretRef',
  },
  {
    name: 'a mask field keeping characters it does not truncate',
    manifest: job((s) => pipeline(s).unshift({ mask: { fields: [{ field: 'email', with: 'redact', keep: 4 }] } })),
    path: 'spec.pipeline[0].mask.fields[0].keep',
    message: 'Forbidden: keep applies only to with truncate',
  },
  {
    name: 'a mask field with an encoding it does not hash',
    manifest: job((s) => pipeline(s).unshift({ mask: { fields: [{ field: 'email', with: 'redact', encoding: 'base64' }] } })),
    path: 'spec.pipeline[0].mask.fields[0].encoding',
    message: 'encoding applies only',
  },
  {
    name: 'a window without aggregate',
    manifest: job((s) => delete pipeline(s)[1]!.aggregate),
    path: 'spec.pipeline[1].aggregate',
    message: 'Required value: a window step needs aggregate',
  },
  {
    name: 'an aggregate without a window',
    manifest: job((s) => (pipeline(s)[0]!.aggregate = [{ name: 'n', fn: 'count' }])),
    path: 'spec.pipeline[0].aggregate',
    message: 'Forbidden: aggregate belongs to a window step',
  },
  {
    name: 'a map with both fields and expression',
    manifest: job((s) => pipeline(s).push({ map: { fields: { a: '1' }, expression: '{"a": 1}' } })),
    path: 'spec.pipeline[2].map',
    message: 'map sets exactly one of fields (name → CEL expression) or expression (a CEL map)',
  },
  {
    name: 'a map expression with merge',
    manifest: job((s) => pipeline(s).push({ map: { expression: '{"a": 1}', merge: true } })),
    path: 'spec.pipeline[2].map.merge',
    message: 'Forbidden: merge applies only to map.fields',
  },
  {
    name: 'a keyBy with field and expression',
    manifest: job((s) => (pipeline(s)[0]!.keyBy!.expression = 'customer_id')),
    path: 'spec.pipeline[0].keyBy',
    message: 'keyBy sets exactly one of field (a record field) or expression (CEL)',
  },
  {
    name: 'a keyBy field with a name',
    manifest: job((s) => (pipeline(s)[0]!.keyBy!.name = 'customer')),
    path: 'spec.pipeline[0].keyBy.name',
    message: 'Forbidden: keyBy.name applies only to keyBy.expression',
  },
  {
    name: 'a tumbling window without size',
    manifest: window({ type: 'tumbling' }),
    path: 'spec.pipeline[1].window.size',
    message: 'Required value: a tumbling or sliding window needs size',
  },
  {
    name: 'a sliding window without slide',
    manifest: window({ type: 'sliding', size: '10m' }),
    path: 'spec.pipeline[1].window.slide',
    message: 'Required value: a sliding window needs slide',
  },
  {
    name: 'a session window without gap',
    manifest: window({ type: 'session' }),
    path: 'spec.pipeline[1].window.gap',
    message: 'Required value: a session window needs gap',
  },
  {
    name: 'a session window with size',
    manifest: window({ type: 'session', gap: '30m', size: '5m' }),
    path: 'spec.pipeline[1].window.size',
    message: 'Forbidden: a session window has no size',
  },
  {
    name: 'a tumbling window with slide',
    manifest: window({ type: 'tumbling', size: '5m', slide: '1m' }),
    path: 'spec.pipeline[1].window.slide',
    message: 'Forbidden: window.slide applies only to sliding windows',
  },
  {
    name: 'a tumbling window with gap',
    manifest: window({ type: 'tumbling', size: '5m', gap: '1m' }),
    path: 'spec.pipeline[1].window.gap',
    message: 'Forbidden: window.gap applies only to session windows',
  },
  {
    name: 'a slide longer than the window',
    manifest: window({ type: 'sliding', size: '1d', slide: '25h' }),
    path: 'spec.pipeline[1].window.slide',
    message: 'Invalid value: window.slide may not be longer than window.size',
  },
  {
    name: 'a sum without a field',
    manifest: job((s) => (aggregates(s)[1] = { name: 'txn_sum', fn: 'sum' })),
    path: 'spec.pipeline[1].aggregate[1].field',
    message: 'Required value: aggregate.field is required for every fn but count',
  },
  {
    name: 'an aggregate with field and expression',
    manifest: job((s) => (aggregates(s)[1]!.expression = 'amount * 2.0')),
    path: 'spec.pipeline[1].aggregate[1].expression',
    message: 'Forbidden: an aggregate sets field or expression, not both',
  },
  {
    name: 'a percentile without q',
    manifest: job((s) => aggregates(s).push({ name: 'p99', fn: 'percentile', field: 'amount' })),
    path: 'spec.pipeline[1].aggregate[2].q',
    message: 'Required value: fn percentile needs q',
  },
  {
    name: 'a q on a sum',
    manifest: job((s) => (aggregates(s)[1]!.q = 0.5)),
    path: 'spec.pipeline[1].aggregate[1].q',
    message: 'Forbidden: q applies only to fn percentile',
  },
  {
    name: 'an interval join without bounds',
    manifest: joined({ type: 'interval', rightKey: 'customer_id' }),
    path: 'spec.pipeline[1].join.lower',
    message: 'Required value: an interval join needs lower and upper',
  },
  {
    name: 'a table join with bounds',
    manifest: joined({ type: 'table', lower: '-5m', upper: '5m' }),
    path: 'spec.pipeline[1].join.lower',
    message: 'Forbidden: join.lower and join.upper apply only to interval joins',
  },
  {
    name: 'an interval join that ends before it starts',
    manifest: joined({ type: 'interval', rightKey: 'customer_id', lower: '5m', upper: '-1d' }),
    path: 'spec.pipeline[1].join.upper',
    message: 'Invalid value: join.upper may not be earlier than join.lower',
  },
  {
    name: 'an interval join without rightKey',
    manifest: joined({ type: 'interval', lower: '-5m', upper: '5m' }),
    path: 'spec.pipeline[1].join.rightKey',
    message: 'Required value: an interval join needs rightKey',
  },
  {
    name: 'a broadcast interval join',
    manifest: joined({ type: 'interval', rightKey: 'customer_id', lower: '-5m', upper: '5m', broadcast: true }),
    path: 'spec.pipeline[1].join.broadcast',
    message: 'Forbidden: broadcast applies only to table joins',
  },
  {
    name: 'a late output that is both topic and file',
    manifest: job((s) => (s.lateOutput!.file = 'late.jsonl')),
    path: 'spec.lateOutput',
    message: 'an output sets exactly one of topic or file',
  },
  {
    name: 'an autoscaler whose min exceeds its max',
    manifest: job((s) => (s.autoscaler = { min: 4, max: 2 })),
    path: 'spec.autoscaler.min',
    message: 'autoscaler.min may not exceed autoscaler.max',
  },
  {
    name: 'a Topic renamed',
    manifest: changed(topic, (m) => (m.spec.topicName = 'payments-v2')),
    old: changed(topic, (m) => (m.spec.topicName = 'payments')),
    path: 'spec.topicName',
    message: 'spec.topicName cannot change (Kafka cannot rename a topic)',
  },
  {
    name: 'a Topic named ..',
    manifest: changed(topic, (m) => (m.spec.topicName = '..')),
    path: 'spec.topicName',
    message: `Invalid value: "..": spec.topicName may not be '.' or '..'`,
  },
  {
    name: 'a Topic with fewer partitions',
    manifest: changed(topic, (m) => (m.spec.partitions = 3)),
    old: topic,
    path: 'spec.partitions',
    message: 'Invalid value: 3: spec.partitions may not decrease (Kafka cannot remove partitions)',
  },
  {
    name: 'a Topic with another replication factor',
    manifest: changed(topic, (m) => (m.spec.replicas = 3)),
    old: changed(topic, (m) => (m.spec.replicas = 1)),
    path: 'spec.replicas',
    message: 'Invalid value: 3: spec.replicas cannot change after creation',
  },
  {
    name: "a podTemplate volume named job, Sluice's own",
    manifest: job((s) => (s.podTemplate = { spec: { volumes: [{ name: 'job', emptyDir: {} }] } })),
    path: 'spec.podTemplate.spec.volumes',
    message: "the volume name job is Sluice's own (the job's ConfigMap): give the volume another name",
  },
  {
    name: 'a SLUICE_ variable in the runtime container of a podTemplate',
    manifest: job((s) => (s.podTemplate = { spec: { containers: [{ name: 'runtime', env: [{ name: 'SLUICE_KAFKA_BROKERS', value: 'kafka:9092' }] }] } })),
    path: 'spec.podTemplate.spec.containers[0].env',
    message: 'environment variables starting with SLUICE_ are set by Sluice from the job',
  },
  {
    name: 'a SchemaSubject with both an inline schema and a ConfigMap',
    manifest: changed(subject, (m) => (m.spec.configMapRef = { name: 'schemas', key: 'transactions.json' })),
    path: 'spec',
    message: 'set exactly one of spec.schema (the schema inline) or spec.configMapRef',
  },
  {
    name: 'a SchemaSubject moved to another subject',
    manifest: changed(subject, (m) => (m.spec.subject = 'payments-value')),
    old: subject,
    path: 'spec.subject',
    message: 'spec.subject cannot change',
  },
];

const validateCase = (c: RuleCase): FieldError[] => validateManifest(c.manifest, c.old === undefined ? {} : { old: c.old }).errors;

describe('every CEL rule of the CRDs', () => {
  it.each(ruleCases.map((c) => [c.name, c] as const))('refuses %s, naming the field', (_, c) => {
    expect(validateCase(c)).toEqual([{ path: c.path, message: expect.stringContaining(c.message) as string }]);
  });

  it('has a case above', () => {
    const rules = crdManifests().flatMap((crd) => collect(crd.spec.versions[0]!.schema.openAPIV3Schema, (s) => s['x-kubernetes-validations'] ?? []));
    const produced = ruleCases.flatMap((c) => validateCase(c).map((e) => e.message));
    for (const rule of rules) expect([rule.message, produced.some((p) => p.includes(rule.message!))]).toEqual([rule.message, true]);
  });
});

/** Each distinct pattern of the spec schemas, with a value it must refuse and where to put it. */
const patternCases: { value: string; manifest: (value: string) => Manifest; path: string }[] = [
  { value: 'five minutes', manifest: (v) => window({ type: 'tumbling', size: v }), path: 'spec.pipeline[1].window.size' },
  { value: '30m1h', manifest: (v) => job((s) => (s.sources[0]!.eventTime!.maxOutOfOrderness = v)), path: 'spec.sources[0].eventTime.maxOutOfOrderness' },
  {
    value: '+5m',
    manifest: (v) => joined({ type: 'interval', rightKey: 'customer_id', lower: v, upper: '5m' }),
    path: 'spec.pipeline[1].join.lower',
  },
  { value: 'Transactions', manifest: (v) => job((s) => (s.sources[0]!.name = v)), path: 'spec.sources[0].name' },
  { value: 'transactions!', manifest: (v) => job((s) => (s.sources[0]!.kafka!.topic = v)), path: 'spec.sources[0].kafka.topic' },
  { value: 'customer-id', manifest: (v) => job((s) => (s.sources[0]!.eventTime!.field = v)), path: 'spec.sources[0].eventTime.field' },
  { value: 'txn-count', manifest: (v) => job((s) => (aggregates(s)[0]!.name = v)), path: 'spec.pipeline[1].aggregate[0].name' },
  { value: 'gs://bucket/savepoints', manifest: (v) => job((s) => (s.checkpoints = { location: v })), path: 'spec.checkpoints.location' },
  { value: 'registry:8081', manifest: (v) => job((s) => (s.connections = { schemaRegistry: { url: v } })), path: 'spec.connections.schemaRegistry.url' },
  { value: 'localhost:6379', manifest: (v) => job((s) => (s.connections = { redis: { url: v } })), path: 'spec.connections.redis.url' },
  { value: 'pg://db/features', manifest: (v) => job((s) => (s.connections = { postgres: { url: v } })), path: 'spec.connections.postgres.url' },
  { value: 'Features_Lake', manifest: (v) => job((s) => s.sinks.push({ name: 'lake', s3: { bucket: v } })), path: 'spec.sinks[2].s3.bucket' },
  {
    value: 'features;drop',
    manifest: (v) => job((s) => s.sinks.push({ name: 'pg', postgres: { table: v, keyColumns: ['customer_id'] } })),
    path: 'spec.sinks[2].postgres.table',
  },
  { value: '2 cores', manifest: (v) => job((s) => (s.resources = { limits: { cpu: v } })), path: 'spec.resources.limits.cpu' },
  { value: 'team a', manifest: (v) => job((s) => (s.podTemplate = { metadata: { labels: { team: v } } })), path: 'spec.podTemplate.metadata.labels.team' },
  {
    value: 'yesterday',
    manifest: (v) => job((s) => (s.sources[0] = { name: 'transactions', generator: { workload: 'transactions', start: v } })),
    path: 'spec.sources[0].generator.start',
  },
  { value: 'ftp://registry', manifest: (v) => changed(subject, (m) => (m.spec.registryUrl = v)), path: 'spec.registryUrl' },
  { value: 'payments/v2', manifest: (v) => changed(topic, (m) => (m.spec.topicName = v)), path: 'spec.topicName' },
];

describe('every pattern of the spec schemas', () => {
  it.each(patternCases.map((c) => [c.path, c] as const))('refuses a malformed %s with the pattern', (_, c) => {
    const errors = validateManifest(c.manifest(c.value)).errors.filter((e) => e.path === c.path);
    expect(errors[0]?.message).toMatch(new RegExp(`^Invalid value: ".*": ${escape(c.path)} in body should match '\\^`));
  });

  it('has a case above', () => {
    const specs = crdManifests().map((crd) => crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!);
    const patterns = new Set(specs.flatMap((spec) => collect(spec, (s) => (s.pattern === undefined ? [] : [s.pattern]))));
    const produced = patternCases.flatMap((c) => validateManifest(c.manifest(c.value)).errors.map((e) => e.message));
    for (const pattern of patterns) expect([pattern, produced.some((p) => p.includes(`should match '${pattern}'`))]).toEqual([pattern, true]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function collect<T>(schema: JSONSchemaProps, pick: (s: JSONSchemaProps) => T[]): T[] {
  const children = [
    ...Object.values(schema.properties ?? {}),
    ...(typeof schema.additionalProperties === 'object' ? [schema.additionalProperties] : []),
    ...(schema.items === undefined ? [] : [schema.items]),
  ];
  return [...pick(schema), ...children.flatMap((child) => collect(child, pick))];
}
