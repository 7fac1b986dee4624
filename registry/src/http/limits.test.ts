// The registry under hostile or unusual requests: schemas nested past the limit, unresolved $refs, oversized and bodyless requests.
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { maxAvroNamedTypes, maxNestingDepth, maxReferenceDepth } from '../schema/limits.js';
import { FileStore } from '../store/file.js';
import { contentType, createRegistry, defaultMaxRequestBytes } from './app.js';

let directory: string;
let app: FastifyInstance;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'sluice-registry-limits-'));
  app = createRegistry({ store: new FileStore(directory) });
  await app.ready();
});

afterEach(async () => {
  await app.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Sends `body` as it is (a string, so it can nest deeper than JSON.stringify could build it). */
async function send(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: string, type = contentType) {
  const response = await app.inject({ method, url, headers: { 'content-type': type }, ...(body === undefined ? {} : { payload: body }) });
  return { status: response.statusCode, body: response.body ? (JSON.parse(response.body) as unknown) : undefined };
}

const register = (subject: string, schema: string, extra = '') => send('POST', `/subjects/${subject}/versions`, `{"schema":${JSON.stringify(schema)}${extra}}`);
const asJson = ',"schemaType":"JSON"';

/** Text of `levels` Avro records, each the type of the only field of the one around it (three JSON levels per record). */
function nestedAvroRecords(levels: number): string {
  let schema = '"string"';
  for (let level = 0; level < levels; level++) schema = `{"type":"record","name":"R${level}","fields":[{"name":"inner","type":${schema}}]}`;
  return schema;
}

/** Text of a JSON Schema whose objects nest `levels` deep (two JSON levels per object) around `leaf`. */
function nestedJsonSchema(levels: number, leaf = '{"type":"string"}'): string {
  let schema = leaf;
  for (let level = 0; level < levels; level++) schema = `{"type":"object","properties":{"inner":${schema}}}`;
  return schema;
}

const nestedArrays = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const refusedAsTooDeep = { status: 422, body: { error_code: 42201, message: expect.stringContaining(`nests more than ${maxNestingDepth} levels`) as string } };

describe('schemas nested past the limit', () => {
  it('refuses an Avro record nested 3,000 deep with 42201 naming the limit', async () => {
    expect(await register('deep-value', nestedAvroRecords(3000))).toMatchObject(refusedAsTooDeep);
  });

  it('refuses a schema of 100,000 nested arrays with 42201, as Avro and as JSON Schema', async () => {
    expect(await register('arrays-value', nestedArrays(100_000))).toMatchObject(refusedAsTooDeep);
    expect(await register('arrays-value', nestedArrays(100_000), asJson)).toMatchObject(refusedAsTooDeep);
  });

  it('refuses a JSON Schema nested 5,000 deep with 42201, on registration, lookup and the compatibility test alike', async () => {
    const deep = nestedJsonSchema(5000);
    expect(await register('deep-value', deep, asJson)).toMatchObject(refusedAsTooDeep);
    expect((await register('deep-value', '{"type":"object"}', asJson)).body).toEqual({ id: 1 });
    expect(await send('POST', '/subjects/deep-value', `{"schema":${JSON.stringify(deep)}${asJson}}`)).toMatchObject(refusedAsTooDeep);
    expect(await send('POST', '/compatibility/subjects/deep-value/versions/latest', `{"schema":${JSON.stringify(deep)}${asJson}}`)).toMatchObject(
      refusedAsTooDeep,
    );
  });

  it(`takes a schema nested exactly ${maxNestingDepth} levels and refuses one level more`, async () => {
    // 63 objects of two levels each (the object, its properties) around a leaf of two ({"enum": […]}) make 128.
    const objects = (maxNestingDepth - 2) / 2;
    expect((await register('edge-value', nestedJsonSchema(objects, '{"enum":["a"]}'), asJson)).body).toEqual({ id: 1 });
    expect(await register('edge-value', nestedJsonSchema(objects, '{"enum":[["a"]]}'), asJson)).toMatchObject(refusedAsTooDeep);
  });

  it('refuses a chain of 300 named Avro records, shallow as text, once comparing it would go too deep', async () => {
    const chain = (leaf: string) => {
      const fields = [`{"name":"r0","type":{"type":"record","name":"R0","fields":[{"name":"value","type":"${leaf}"}]}}`];
      for (let i = 1; i <= 300; i++) fields.push(`{"name":"r${i}","type":{"type":"record","name":"R${i}","fields":[{"name":"previous","type":"R${i - 1}"}]}}`);
      return `{"type":"record","name":"Top","fields":[${fields.join(',')}]}`;
    };
    expect((await register('chain-value', chain('string'))).body).toEqual({ id: 1 });
    expect(await register('chain-value', chain('int'))).toMatchObject({
      status: 422,
      body: { error_code: 42201, message: expect.stringContaining('types deep') as string },
    });
  });
});

describe('schemas too large to compile', () => {
  const records = (count: number, first = 0) =>
    Array.from({ length: count }, (_, i) => `{"name":"f${first + i}","type":{"type":"record","name":"R${first + i}","fields":[]}}`).join(',');

  it(`takes ${maxAvroNamedTypes} named Avro types and refuses one more, counting the references' types`, async () => {
    expect((await register('wide-value', `{"type":"record","name":"Top","fields":[${records(maxAvroNamedTypes - 1)}]}`)).body).toEqual({ id: 1 });
    const refused = await register('wider-value', `{"type":"record","name":"Top","fields":[${records(maxAvroNamedTypes)}]}`);
    expect(refused).toMatchObject({
      status: 422,
      body: { error_code: 42201, message: expect.stringContaining(`define ${maxAvroNamedTypes + 1} named types`) as string },
    });
    expect((await register('part', `{"type":"record","name":"Part","fields":[${records(maxAvroNamedTypes / 2 - 1)}]}`)).body).toEqual({ id: 2 });
    const whole = `{"type":"record","name":"Whole","fields":[{"name":"part","type":"Part"},${records(maxAvroNamedTypes / 2, maxAvroNamedTypes)}]}`;
    const referencing = await register('whole-value', whole, ',"references":[{"name":"Part","subject":"part","version":1}]');
    expect(referencing).toMatchObject({
      status: 422,
      body: { error_code: 42201, message: expect.stringContaining(`define ${maxAvroNamedTypes + 1} named types`) as string },
    });
  });
});

describe('references', () => {
  it(`follows references ${maxReferenceDepth} deep and refuses a schema whose references chain deeper, naming the limit`, async () => {
    const link = (level: number) => `,"schemaType":"JSON","references":[{"name":"level${level}.json","subject":"level${level}","version":1}]`;
    expect((await register('level0', '{"type":"string"}', asJson)).body).toEqual({ id: 1 });
    for (let level = 1; level <= maxReferenceDepth; level++)
      expect((await register(`level${level}`, `{"$ref":"level${level - 1}.json"}`, link(level - 1))).status).toBe(200);
    const refused = await register('too-deep', `{"$ref":"level${maxReferenceDepth}.json"}`, link(maxReferenceDepth));
    expect(refused).toMatchObject({
      status: 422,
      body: { error_code: 42201, message: expect.stringContaining(`references chain more than ${maxReferenceDepth} deep`) as string },
    });
  });
});

describe('request bodies', () => {
  it('refuses a body whose own fields nest too deep with 400, before any handler reads them', async () => {
    const deep = nestedArrays(100_000);
    const tooDeep = { status: 400, body: { error_code: 400, message: expect.stringContaining(`nests more than ${maxNestingDepth} levels`) as string } };
    expect(await send('POST', '/subjects/x/versions', `{"schema":"\\"string\\"","schemaType":${deep}}`)).toMatchObject(tooDeep);
    expect(await send('PUT', '/config', `{"compatibility":${deep}}`)).toMatchObject(tooDeep);
    expect(await send('PUT', '/mode', `{"mode":${deep}}`)).toMatchObject(tooDeep);
  });

  it(`refuses a body over ${defaultMaxRequestBytes} bytes with 413 naming the limit`, async () => {
    const large = await register('large-value', JSON.stringify({ type: 'record', name: 'Large', doc: 'x'.repeat(defaultMaxRequestBytes), fields: [] }));
    expect(large).toMatchObject({
      status: 413,
      body: { error_code: 413, message: expect.stringContaining(`larger than ${defaultMaxRequestBytes} bytes`) as string },
    });
  });

  it('answers a bodyless DELETE or GET that carries a content type, as the Java client sends them', async () => {
    expect((await register('payments-value', '"string"')).body).toEqual({ id: 1 });
    for (const type of [contentType, 'application/json']) {
      expect(await send('GET', '/subjects/payments-value/versions', undefined, type)).toEqual({ status: 200, body: [1] });
      expect(await send('DELETE', '/config', undefined, type)).toEqual({ status: 200, body: { compatibilityLevel: 'BACKWARD' } });
    }
    expect(await send('DELETE', '/subjects/payments-value', undefined, contentType)).toEqual({ status: 200, body: [1] });
    expect(await send('POST', '/subjects/payments-value/versions', undefined, contentType)).toMatchObject({ status: 422, body: { error_code: 42201 } });
  });

  it('answers a bodyless DELETE with a content type on a real socket', async () => {
    expect((await register('payments-value', '"string"')).body).toEqual({ id: 1 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    // node's client, like Java's HttpURLConnection, sends no Content-Length and no body for a DELETE it writes nothing to.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const outgoing = httpRequest(
        { host: '127.0.0.1', port, method: 'DELETE', path: '/subjects/payments-value', headers: { 'content-type': contentType, accept: contentType } },
        (incoming) => {
          let body = '';
          incoming.setEncoding('utf8');
          incoming.on('data', (chunk: string) => (body += chunk));
          incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body }));
        },
      );
      outgoing.on('error', reject);
      outgoing.end();
    });
    expect(answer).toEqual({ status: 200, body: '[1]' });
  });
});

describe('JSON Schema $refs', () => {
  const address = JSON.stringify({ type: 'object', properties: { city: { type: 'string' } }, definitions: { zip: { type: 'string' } } });

  it('refuses a $ref to a definition that does not exist, naming the ref', async () => {
    const refused = await register('orders-value', JSON.stringify({ $ref: '#/definitions/none' }), asJson);
    expect(refused).toMatchObject({ status: 422, body: { error_code: 42201, message: expect.stringContaining("$ref '#/definitions/none'") as string } });
    const nested = JSON.stringify({
      type: 'object',
      definitions: { id: { type: 'string' } },
      properties: { id: { $ref: '#/definitions/id' }, owner: { $ref: '#/definitions/owner' } },
    });
    expect((await register('orders-value', nested, asJson)).body).toMatchObject({
      error_code: 42201,
      message: expect.stringContaining("$ref '#/definitions/owner' at '#/properties/owner'") as string,
    });
    expect((await register('orders-value', JSON.stringify({ type: 'object', properties: { a: { $ref: '#missing' } } }), asJson)).body).toMatchObject({
      error_code: 42201,
    });
  });

  it('refuses a $ref to a schema the references do not name, or to what the referenced schema lacks', async () => {
    expect((await register('address', address, asJson)).body).toEqual({ id: 1 });
    const references = ',"references":[{"name":"address.json","subject":"address","version":1}]';
    const unknown = await register('customer-value', JSON.stringify({ type: 'object', properties: { home: { $ref: 'home.json' } } }), asJson + references);
    expect(unknown).toMatchObject({ status: 422, body: { error_code: 42201, message: expect.stringContaining("$ref 'home.json'") as string } });
    const lacking = await register(
      'customer-value',
      JSON.stringify({ type: 'object', properties: { zip: { $ref: 'address.json#/definitions/postcode' } } }),
      asJson + references,
    );
    expect(lacking.body).toMatchObject({ error_code: 42201, message: expect.stringContaining("'address.json' has no '#/definitions/postcode'") as string });
    const resolving = JSON.stringify({
      type: 'object',
      definitions: { tag: { $anchor: 'tag', type: 'string' } },
      properties: {
        home: { $ref: 'address.json' },
        zip: { $ref: 'address.json#/definitions/zip' },
        tag: { $ref: '#tag' },
        self: { $ref: '#' },
        enumOf: { enum: [{ $ref: 'data, not a ref' }] },
      },
    });
    expect((await register('customer-value', resolving, asJson + references)).body).toEqual({ id: 2 });
  });

  it('resolves a $ref inside a subschema with its own $id against that subschema, and a $ref to it by its $id', async () => {
    const bundled = JSON.stringify({
      $id: 'https://example.com/order.json',
      type: 'object',
      properties: { line: { $ref: 'line.json' }, price: { $ref: 'https://example.com/line.json#/definitions/price' } },
      definitions: {
        line: { $id: 'line.json', type: 'object', properties: { price: { $ref: '#/definitions/price' } }, definitions: { price: { type: 'number' } } },
      },
    });
    expect((await register('order-value', bundled, asJson)).body).toEqual({ id: 1 });
    const misplaced = JSON.parse(bundled) as { properties: Record<string, unknown> };
    misplaced.properties.total = { $ref: '#/definitions/price' };
    expect((await register('order-value', JSON.stringify(misplaced), asJson)).body).toMatchObject({
      error_code: 42201,
      message: expect.stringContaining("at '#/properties/total'") as string,
    });
  });
});
