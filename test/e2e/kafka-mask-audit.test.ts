// PII and secrets on the real servers: a job that masks card numbers first leaves no raw card in any topic, state or table it writes,
// and a run given every credential (SASL, PostgreSQL password, mask key, control token) shows none of them in its logs, /metrics or /status.
import { createHmac, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { END_OF_INPUT_HEADER, KafkajsClient, type FetchedMessage } from '@sluice/runtime';
import { readEndpoints } from '../env/src/endpoints.js';
import type { KafkaSaslEndpoint } from '../env/src/service.js';
import {
  createTopics,
  kafka,
  readCommitted,
  removeScratchDirs,
  scratchDir,
  startRuntime,
  uniqueName,
  writeJobFile,
  type RuntimeProcess,
} from './kafka/harness.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const endpoints = readEndpoints();
const { brokers, sasl: listener } = endpoints.kafka as { brokers: string[]; sasl: KafkaSaslEndpoint };
const RUN_TIMEOUT_MS = 180_000;

const user = 'sluice-job-a';
const name = uniqueName('cards-mask');
const input = uniqueName('payments-mask');
const output = `${name}-features`;
const schema = `mask_${randomBytes(4).toString('hex')}`;
const secrets = {
  saslPassword: listener.passwords[user]!,
  postgresPassword: `pg-${randomBytes(12).toString('hex')}`,
  maskKey: randomBytes(32).toString('hex'),
  controlToken: randomBytes(24).toString('base64url'),
};

/** Twelve card numbers, each 16 digits, and the payments made with them: one a second, round-robin over two partitions. */
const cards = Array.from({ length: 12 }, (_, i) => `4${String(1_000_000_000_000_00 + i * 7_919_393_331).padStart(15, '0')}`);
const emails = cards.map((_, i) => `holder${i}@bank-example.test`);
const at = Date.parse('2025-12-05T10:00:00Z');
const payments = Array.from({ length: 360 }, (_, i) => ({
  payment_id: `p${i}`,
  card_number: cards[(i * 5) % cards.length]!,
  holder: { email: emails[(i * 5) % cards.length]!, name: `Holder ${(i * 5) % cards.length}` },
  amount: 10 + (i % 17),
  timestamp: new Date(at + i * 1000).toISOString(),
}));
/** A payment an hour later, so every window of the payments above fires. */
const flush = {
  payment_id: 'flush',
  card_number: '4999999999999999',
  holder: { email: 'flush@bank-example.test' },
  amount: 1,
  timestamp: new Date(at + 3_600_000).toISOString(),
};
const raw = [...cards, ...emails, '4999999999999999', 'flush@bank-example.test'];

const hmac = (card: string): string => createHmac('sha256', secrets.maskKey).update(card).digest('hex');

/** Grants the job's user what docs/security.md lists, over the plaintext listener (whose ANONYMOUS user is a super user). */
async function grantJobAcls(): Promise<void> {
  const { TOPIC, GROUP, TRANSACTIONAL_ID } = AclResourceTypes;
  const { READ, WRITE, DESCRIBE, CREATE } = AclOperationTypes;
  const acls = [
    { type: TOPIC, resource: input, prefixed: false, operations: [READ, DESCRIBE] },
    { type: TOPIC, resource: `${name}-`, prefixed: true, operations: [READ, WRITE, DESCRIBE, CREATE] },
    { type: GROUP, resource: `sluice-${name}`, prefixed: true, operations: [READ] },
    { type: GROUP, resource: 'sluice-fetch-', prefixed: true, operations: [READ] },
    { type: TRANSACTIONAL_ID, resource: `sluice-${name}`, prefixed: true, operations: [WRITE, DESCRIBE] },
  ];
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createAcls({
      acl: acls.flatMap(({ type, resource, prefixed, operations }) =>
        operations.map((operation) => ({
          resourceType: type,
          resourceName: resource,
          resourcePatternType: prefixed ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
          principal: `User:${user}`,
          host: '*',
          operation,
          permissionType: AclPermissionTypes.ALLOW,
        })),
      ),
    });
  } finally {
    await admin.disconnect();
  }
}

/** The Kafka Secret's keys, one file each, as a runtime pod has it mounted. */
function kafkaSecretDir(): string {
  const dir = join(scratchDir('kafka-secret'), 'kafka');
  mkdirSync(dir);
  const keys = {
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.username': user,
    'sasl.password': secrets.saslPassword,
    'ssl.ca': readFileSync(listener.ca, 'utf8'),
  };
  for (const [key, value] of Object.entries(keys)) writeFileSync(join(dir, key), value);
  return dir;
}

/** Masks card numbers and emails first, then counts each card's payments per 5 minutes: keyBy the masked card goes through a repartition topic. */
function jobSpec(): Record<string, unknown> {
  return {
    sources: [{ name: 'payments', kafka: { topic: input }, format: 'json', eventTime: { field: 'timestamp', format: 'iso8601', maxOutOfOrderness: '5s' } }],
    pipeline: [
      {
        mask: {
          fields: [
            { field: 'card_number', with: 'hmac' },
            { field: 'holder.email', with: 'tokenise' },
            { field: 'holder.name', with: 'redact' },
          ],
          keySecretRef: { name: 'pii-mask-key', key: 'key' },
        },
      },
      { keyBy: { field: 'card_number' } },
      {
        window: { type: 'tumbling', size: '5m' },
        aggregate: [
          { name: 'payments', fn: 'count' },
          { name: 'total', fn: 'sum', field: 'amount' },
          { name: 'last_email', fn: 'last', field: 'holder.email' },
        ],
      },
    ],
    sinks: [
      { name: 'features', kafka: { topic: output, key: '{card_number}' } },
      { name: 'table', postgres: { table: 'card_velocity', keyColumns: ['card_number', 'window_start'] } },
    ],
    lateOutput: { topic: `${name}-late` },
    deadLetter: { topic: `${name}-dead-letter` },
  };
}

/** Every message of the topic, aborted transactions' included (read_uncommitted): what a reader of its bytes could see. */
async function readEverything(topic: string): Promise<FetchedMessage[]> {
  const client = new KafkajsClient({ brokers });
  try {
    const remaining = new Map([...(await client.endOffsets(topic))].filter(([, end]) => end > 0));
    const messages: FetchedMessage[] = [];
    if (remaining.size === 0) return messages;
    let done!: () => void;
    let failed!: (error: Error) => void;
    const finished = new Promise<void>((resolve, reject) => {
      done = resolve;
      failed = reject;
    });
    const advance = (_topic: string, partition: number, next: number): void => {
      if (next >= (remaining.get(partition) ?? Number.POSITIVE_INFINITY)) remaining.delete(partition);
      if (remaining.size === 0) done();
    };
    const fetch = await client.fetch({
      topics: [topic],
      partitions: [...remaining.keys()],
      start: () => 0,
      readCommitted: false,
      onBatch: (batch) => {
        messages.push(...batch.messages);
        advance(topic, batch.partition, batch.next);
        return Promise.resolve();
      },
      onPosition: advance,
      onError: failed,
    });
    try {
      await finished;
    } finally {
      await fetch.stop();
    }
    return messages;
  } finally {
    await client.close();
  }
}

/** The bytes of every key, value and header of the messages, as one text to search. */
function bytesOf(messages: readonly FetchedMessage[]): string {
  return messages
    .map((message) => [message.key?.toString('latin1') ?? '', message.value?.toString('latin1') ?? '', JSON.stringify(message.headers ?? {})].join('\n'))
    .join('\n');
}

/** The bytes of every file under the folder (the RocksDB store: its write-ahead log and tables). */
function filesUnder(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((file) => join(dir, file))
    .filter((path) => statSync(path).isFile())
    .map((path) => readFileSync(path).toString('latin1'))
    .join('\n');
}

const found = (text: string, values: readonly string[]): string[] => values.filter((value) => text.includes(value));

let runtime: RuntimeProcess;
let stdout = '';
let stateDir: string;
let metrics = '';
let status: unknown;
let db: pg.Client;

beforeAll(async () => {
  db = new pg.Client({ connectionString: endpoints.postgres.url });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(
    `CREATE TABLE ${schema}.card_velocity (card_number text, window_start timestamptz, window_end timestamptz, payments bigint, total double precision, last_email text, PRIMARY KEY (card_number, window_start))`,
  );
  await createTopics(brokers, [input], 2);
  const producer = kafka(brokers).producer();
  await producer.connect();
  try {
    await producer.send({
      topic: input,
      messages: [...payments, flush].map((payment, i) => ({ partition: i % 2, key: payment.card_number, value: JSON.stringify(payment) })),
    });
  } finally {
    await producer.disconnect();
  }
  await grantJobAcls();
  stateDir = scratchDir('state');
  runtime = startRuntime({
    SLUICE_JOB_FILE: writeJobFile(name, jobSpec()),
    SLUICE_KAFKA_BROKERS: listener.brokers.join(','),
    SLUICE_KAFKA_SECRET_DIR: kafkaSecretDir(),
    SLUICE_STATE_DIR: stateDir,
    SLUICE_END_MARKERS: 'true',
    SLUICE_POSTGRES_URL: `${endpoints.postgres.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    SLUICE_POSTGRES_PASSWORD: secrets.postgresPassword,
    SLUICE_MASK_KEY: secrets.maskKey,
    SLUICE_CONTROL_TOKEN: secrets.controlToken,
    SLUICE_LOG_LEVEL: 'debug',
  });
  runtime.child.stdout!.on('data', (chunk: string) => (stdout += chunk));
  // Scraped mid-run, after the job has committed work, as Prometheus and the controller would.
  await runtime.waitForEvents('listening', 1);
  await runtime.waitForEvents('committed', 3);
  const listening = runtime.events.find((event) => event.event === 'listening') as { port: number };
  metrics = await (await fetch(`http://127.0.0.1:${listening.port}/metrics`)).text();
  status = await runtime.control('GET', '/status');
  const producer2 = kafka(brokers).producer();
  await producer2.connect();
  try {
    await producer2.send({ topic: input, messages: [0, 1].map((partition) => ({ partition, value: null, headers: { [END_OF_INPUT_HEADER]: 'true' } })) });
  } finally {
    await producer2.disconnect();
  }
  await runtime.exitsWith(0);
}, RUN_TIMEOUT_MS);

afterAll(async () => {
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db.end();
  removeScratchDirs();
});

describe('a job that masks card numbers first, on Kafka', () => {
  it('writes no raw card number or email to its sink, changelog, repartition, late or dead-letter topics, its state or its table', async () => {
    const admin = kafka(brokers).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${name}-`)).sort();
    await admin.disconnect();
    // The job's own topics: the sink, late and dead-letter topics, and the changelog and repartition topics of its state.
    expect(topics).toEqual(expect.arrayContaining([output, `${name}-late`, `${name}-dead-letter`]));
    expect(topics.some((topic) => topic.endsWith('-changelog'))).toBe(true);
    expect(topics.length).toBeGreaterThanOrEqual(5);
    for (const topic of topics) {
      const messages = await readEverything(topic);
      expect([topic, found(bytesOf(messages), raw)]).toEqual([topic, []]);
    }
    expect(found(filesUnder(stateDir), raw)).toEqual([]);
    const { rows } = await db.query<Record<string, unknown>>(`SELECT * FROM ${schema}.card_velocity`);
    expect(rows.length).toBeGreaterThan(0);
    expect(found(JSON.stringify(rows), raw)).toEqual([]);
    // The scan finds what is there: the input topic holds every raw card number.
    expect(found(bytesOf(await readEverything(input)), cards)).toEqual(cards);
  });

  it('groups by the masked card: each hmac of a card counts exactly that card’s payments', async () => {
    const results = (await readCommitted(brokers, output)).map(
      (message) => JSON.parse(message.value!.toString()) as { card_number: string; window_start: string; payments: number; last_email: string },
    );
    const counted = new Map<string, number>();
    for (const result of results) counted.set(`${result.card_number} ${result.window_start}`, result.payments);
    const expected = new Map<string, number>();
    for (const payment of payments) {
      const start = new Date(Math.floor(Date.parse(payment.timestamp) / 300_000) * 300_000).toISOString();
      const key = `${hmac(payment.card_number)} ${start}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expect(new Map([...counted].filter(([key]) => !key.startsWith(hmac('4999999999999999'))))).toEqual(expected);
    // Emails are tokens of the same shape, never the address.
    for (const result of results) expect(result.last_email).toMatch(/^[a-z]+\d*@[a-z]+-[a-z]+\.[a-z]+$/);
  });
});

describe('a runtime pod without the mask key', () => {
  it('does not start: it exits 1 naming the step, the field, SLUICE_MASK_KEY and the Secret key', async () => {
    const refused = startRuntime({
      SLUICE_JOB_FILE: writeJobFile(`${name}-nokey`, jobSpec()),
      SLUICE_KAFKA_BROKERS: brokers.join(','),
      SLUICE_STATE_DIR: scratchDir('state'),
    });
    expect(await refused.exited).toBe(1);
    const said = `${refused.stderr()}\n${refused.events.map((event) => JSON.stringify(event)).join('\n')}`;
    expect(said).toContain(
      'spec.pipeline[0].mask.keySecretRef: card_number is masked with hmac but this run has no mask key: set SLUICE_MASK_KEY to the value of key key of Secret pii-mask-key',
    );
  });
});

describe('a run given every credential', () => {
  it('shows no secret value in its log lines, /metrics or /status', () => {
    const surfaces = { log: `${stdout}\n${runtime.stderr()}`, metrics, status: JSON.stringify(status) };
    expect(surfaces.log).toContain('"event":"committed"');
    expect(metrics).toContain('sluice_');
    for (const [surface, text] of Object.entries(surfaces)) {
      expect([
        surface,
        Object.entries(secrets)
          .filter(([, value]) => text.includes(value))
          .map(([secret]) => secret),
      ]).toEqual([surface, []]);
    }
  });
});
