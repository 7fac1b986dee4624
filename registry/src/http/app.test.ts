// The REST surface through app.inject(): each endpoint, Confluent's bodies and error codes, soft and hard delete.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { FileStore } from '../store/file.js';
import { contentType, createRegistry } from './app.js';

const record = (fields: Array<{ name: string; type: unknown; default?: unknown }>, name = 'Payment') => JSON.stringify({ type: 'record', name, fields });
const v1 = record([{ name: 'id', type: 'string' }]);
const v2 = record([
  { name: 'id', type: 'string' },
  { name: 'amount', type: 'double', default: 0 },
]);
const incompatible = record([
  { name: 'id', type: 'string' },
  { name: 'currency', type: 'string' },
]);

let directory: string;
let app: FastifyInstance;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'sluice-registry-'));
  app = createRegistry({ store: new FileStore(directory) });
  await app.ready();
});

afterEach(async () => {
  await app.close();
  rmSync(directory, { recursive: true, force: true });
});

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) {
  const response = await app.inject({
    method,
    url,
    ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': contentType } }),
  });
  return { status: response.statusCode, body: response.body ? (JSON.parse(response.body) as unknown) : undefined, type: response.headers['content-type'] };
}

const register = (subject: string, schema: string, extra: Record<string, unknown> = {}) => call('POST', `/subjects/${subject}/versions`, { schema, ...extra });

describe('registering and reading schemas', () => {
  it('gives a schema an id, versions it under the subject and answers in the registry media type', async () => {
    expect(await register('payments-value', v1)).toMatchObject({ status: 200, body: { id: 1 }, type: contentType });
    expect(await register('payments-value', v2)).toMatchObject({ body: { id: 2 } });
    expect((await call('GET', '/subjects')).body).toEqual(['payments-value']);
    expect((await call('GET', '/subjects/payments-value/versions')).body).toEqual([1, 2]);
    expect((await call('GET', '/subjects/payments-value/versions/latest')).body).toEqual({ subject: 'payments-value', version: 2, id: 2, schema: v2 });
    expect((await call('GET', '/subjects/payments-value/versions/1/schema')).body).toEqual(JSON.parse(v1));
    expect((await call('GET', '/schemas/ids/2')).body).toEqual({ schema: v2 });
    expect((await call('GET', '/schemas/ids/2/schema')).body).toEqual(JSON.parse(v2));
  });

  it('gives the same schema the same id in every subject, whatever its whitespace or key order', async () => {
    await register('a-value', v1);
    expect((await register('b-value', JSON.stringify(JSON.parse(v1), null, 2))).body).toEqual({ id: 1 });
    expect((await register('c-value', JSON.stringify({ fields: [{ type: 'string', name: 'id' }], name: 'Payment', type: 'record' }))).body).toEqual({ id: 1 });
    expect((await register('a-value', v1)).body).toEqual({ id: 1 });
    expect((await call('GET', '/subjects/a-value/versions')).body).toEqual([1]);
    expect((await call('GET', '/schemas/ids/1/versions')).body).toEqual([
      { subject: 'a-value', version: 1 },
      { subject: 'b-value', version: 1 },
      { subject: 'c-value', version: 1 },
    ]);
    expect((await call('GET', '/schemas/ids/1/subjects')).body).toEqual(['a-value', 'b-value', 'c-value']);
  });

  it('looks a schema up under a subject', async () => {
    await register('payments-value', v1);
    expect((await call('POST', '/subjects/payments-value', { schema: v1 })).body).toEqual({ subject: 'payments-value', version: 1, id: 1, schema: v1 });
    expect(await call('POST', '/subjects/payments-value', { schema: v2 })).toEqual(
      expect.objectContaining({ status: 404, body: { error_code: 40403, message: 'Schema not found' } }),
    );
    expect((await call('POST', '/subjects/other', { schema: v1 })).body).toEqual({ error_code: 40401, message: "Subject 'other' not found." });
  });

  it('keeps JSON Schema apart from Avro and says so with schemaType', async () => {
    const json = JSON.stringify({ type: 'object', properties: { id: { type: 'string' } } });
    expect((await register('orders-value', json, { schemaType: 'JSON' })).body).toEqual({ id: 1 });
    expect((await call('GET', '/subjects/orders-value/versions/1')).body).toEqual({
      subject: 'orders-value',
      version: 1,
      id: 1,
      schemaType: 'JSON',
      schema: json,
    });
    expect((await call('GET', '/schemas/ids/1')).body).toEqual({ schemaType: 'JSON', schema: json });
    expect((await call('GET', '/schemas/types')).body).toEqual(['JSON', 'AVRO']);
  });

  it('resolves schema references and refuses to delete what is referenced', async () => {
    const address = JSON.stringify({ type: 'record', name: 'Address', namespace: 'bank', fields: [{ name: 'city', type: 'string' }] });
    const customer = JSON.stringify({ type: 'record', name: 'Customer', namespace: 'bank', fields: [{ name: 'home', type: 'bank.Address' }] });
    await register('address', address);
    const references = [{ name: 'bank.Address', subject: 'address', version: 1 }];
    expect((await register('customer-value', customer, { references })).body).toEqual({ id: 2 });
    expect((await call('GET', '/schemas/ids/2')).body).toEqual({ schema: customer, references });
    expect((await call('GET', '/subjects/address/versions/1/referencedby')).body).toEqual([2]);
    expect(await call('DELETE', '/subjects/address/versions/1')).toMatchObject({ status: 422, body: { error_code: 42206 } });
    expect((await register('orphan', customer)).body).toMatchObject({ error_code: 42201 });
    expect((await register('dangling', customer, { references: [{ name: 'bank.Address', subject: 'nowhere', version: 1 }] })).body).toMatchObject({
      error_code: 42201,
    });
  });
});

describe('errors', () => {
  it('answers Confluent error codes for missing subjects, versions and ids', async () => {
    await register('payments-value', v1);
    expect(await call('GET', '/subjects/nope/versions')).toEqual(
      expect.objectContaining({ status: 404, body: { error_code: 40401, message: "Subject 'nope' not found." } }),
    );
    expect((await call('GET', '/subjects/payments-value/versions/7')).body).toEqual({ error_code: 40402, message: 'Version 7 not found.' });
    expect((await call('GET', '/schemas/ids/42')).body).toEqual({ error_code: 40403, message: 'Schema 42 not found' });
    expect(await call('GET', '/subjects/payments-value/versions/zero')).toMatchObject({ status: 422, body: { error_code: 42202 } });
    expect(await call('GET', '/subjects/payments-value/versions/0')).toMatchObject({ status: 422, body: { error_code: 42202 } });
  });

  it('refuses invalid schemas with 42201', async () => {
    expect(await register('bad', '{"type": "record", "name": "R"}')).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(await register('bad', 'not json')).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(await call('POST', '/subjects/bad/versions', {})).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(await register('bad', 'syntax = "proto3";', { schemaType: 'PROTOBUF' })).toMatchObject({ status: 422, body: { error_code: 42201 } });
    const malformed = await register('bad', JSON.stringify({ type: 'object', properties: { id: { type: 'text' } } }), { schemaType: 'JSON' });
    expect(malformed).toMatchObject({ status: 422, body: { error_code: 42201, message: expect.stringContaining('schema/properties/id/type') as string } });
    expect(
      (await register('draft-2020', JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' }), { schemaType: 'JSON' })).body,
    ).toEqual({ id: 1 });
  });

  it('refuses an incompatible schema with 409 and says which field', async () => {
    await register('payments-value', v1);
    const refused = await register('payments-value', incompatible);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error_code: 409,
      message: expect.stringContaining('Schema being registered is incompatible with an earlier schema for subject "payments-value"') as string,
    });
    expect((refused.body as { message: string }).message).toContain("'currency'");
    expect((await call('GET', '/subjects/payments-value/versions')).body).toEqual([1]);
  });

  it('answers unknown routes and malformed bodies with an error body', async () => {
    expect(await call('GET', '/nowhere')).toMatchObject({ status: 404, body: { error_code: 404 } });
    const response = await app.inject({ method: 'POST', url: '/subjects/x/versions', payload: '{not json', headers: { 'content-type': contentType } });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error_code: 400 });
  });

  it('accepts plain application/json', async () => {
    const response = await app.inject({ method: 'POST', url: '/subjects/x/versions', payload: { schema: v1 } });
    expect(JSON.parse(response.body)).toEqual({ id: 1 });
  });
});

describe('deleting', () => {
  it('soft-deletes a version, hides it, and deletes it permanently only after that', async () => {
    await register('payments-value', v1);
    await register('payments-value', v2);
    expect(await call('DELETE', '/subjects/payments-value/versions/2?permanent=true')).toMatchObject({ status: 404, body: { error_code: 40407 } });
    expect((await call('DELETE', '/subjects/payments-value/versions/2')).body).toBe(2);
    expect((await call('DELETE', '/subjects/payments-value/versions/2')).body).toEqual({
      error_code: 40406,
      message: "Subject 'payments-value' Version 2 was soft deleted.Set permanent=true to delete permanently",
    });
    expect((await call('GET', '/subjects/payments-value/versions')).body).toEqual([1]);
    expect((await call('GET', '/subjects/payments-value/versions?deleted=true')).body).toEqual([1, 2]);
    expect((await call('GET', '/subjects/payments-value/versions/2')).body).toMatchObject({ error_code: 40402 });
    expect((await call('GET', '/subjects/payments-value/versions/2?deleted=true')).body).toMatchObject({ version: 2, id: 2 });
    expect((await call('DELETE', '/subjects/payments-value/versions/2?permanent=true')).body).toBe(2);
    expect((await call('GET', '/subjects/payments-value/versions?deleted=true')).body).toEqual([1]);
    expect((await call('GET', '/schemas/ids/2')).body).toMatchObject({ error_code: 40403 });
  });

  it('soft-deletes a subject, then permanently, with 40404 and 40405 in between', async () => {
    await register('payments-value', v1);
    await register('payments-value', v2);
    expect(await call('DELETE', '/subjects/payments-value?permanent=true')).toMatchObject({ status: 404, body: { error_code: 40405 } });
    expect((await call('DELETE', '/subjects/payments-value')).body).toEqual([1, 2]);
    expect((await call('DELETE', '/subjects/payments-value')).body).toEqual({
      error_code: 40404,
      message: "Subject 'payments-value' was soft deleted.Set permanent=true to delete permanently",
    });
    expect((await call('GET', '/subjects')).body).toEqual([]);
    expect((await call('GET', '/subjects?deleted=true')).body).toEqual(['payments-value']);
    expect((await call('GET', '/subjects/payments-value/versions')).body).toMatchObject({ error_code: 40401 });
    expect((await call('DELETE', '/subjects/payments-value?permanent=true')).body).toEqual([1, 2]);
    expect((await call('GET', '/subjects?deleted=true')).body).toEqual([]);
    expect((await call('DELETE', '/subjects/payments-value')).body).toMatchObject({ error_code: 40401 });
  });

  it('numbers a re-registered schema after the soft-deleted versions and keeps its id', async () => {
    await register('payments-value', v1);
    await call('DELETE', '/subjects/payments-value');
    expect((await register('payments-value', v1)).body).toEqual({ id: 1 });
    expect((await call('GET', '/subjects/payments-value/versions')).body).toEqual([2]);
  });
});

describe('compatibility endpoint', () => {
  it('tests against the latest version, a given one, or all the level names, verbose on request', async () => {
    await register('payments-value', v1);
    expect((await call('POST', '/compatibility/subjects/payments-value/versions/latest', { schema: v2 })).body).toEqual({ is_compatible: true });
    const verbose = await call('POST', '/compatibility/subjects/payments-value/versions/1?verbose=true', { schema: incompatible });
    expect(verbose.body).toMatchObject({ is_compatible: false, messages: expect.arrayContaining([expect.stringContaining("'currency'")]) as string[] });
    expect((await call('POST', '/compatibility/subjects/payments-value/versions', { schema: v2 })).body).toEqual({ is_compatible: true });
    expect((await call('POST', '/compatibility/subjects/fresh/versions/latest', { schema: v2 })).body).toEqual({ is_compatible: true });
    expect((await call('POST', '/compatibility/subjects/payments-value/versions/9', { schema: v2 })).body).toMatchObject({ error_code: 40402 });
  });
});

describe('config and mode', () => {
  it('sets, reads and removes the global and subject compatibility levels', async () => {
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await call('PUT', '/config', { compatibility: 'FULL' })).body).toEqual({ compatibility: 'FULL' });
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await call('GET', '/config/payments-value')).body).toMatchObject({ error_code: 40408 });
    expect((await call('GET', '/config/payments-value?defaultToGlobal=true')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await call('PUT', '/config/payments-value', { compatibility: 'none' })).body).toEqual({ compatibility: 'NONE' });
    expect((await call('GET', '/config/payments-value')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect(await call('PUT', '/config', { compatibility: 'SIDEWAYS' })).toMatchObject({ status: 422, body: { error_code: 42203 } });
    expect((await call('DELETE', '/config/payments-value')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect((await call('GET', '/config/payments-value')).body).toMatchObject({ error_code: 40408 });
    expect(await call('DELETE', '/config/payments-value')).toMatchObject({ status: 404, body: { error_code: 40401 } });
  });

  it('lets a subject at NONE take any schema', async () => {
    await register('payments-value', v1);
    await call('PUT', '/config/payments-value', { compatibility: 'NONE' });
    expect((await register('payments-value', incompatible)).body).toEqual({ id: 2 });
  });

  it('refuses writes in READONLY mode with 42205 and invalid modes with 42204', async () => {
    expect((await call('GET', '/mode')).body).toEqual({ mode: 'READWRITE' });
    expect((await call('PUT', '/mode/payments-value', { mode: 'READONLY' })).body).toEqual({ mode: 'READONLY' });
    expect((await call('GET', '/mode/payments-value')).body).toEqual({ mode: 'READONLY' });
    expect(await register('payments-value', v1)).toMatchObject({ status: 422, body: { error_code: 42205 } });
    expect((await register('other-value', v1)).body).toEqual({ id: 1 });
    expect(await call('PUT', '/mode', { mode: 'SOMETIMES' })).toMatchObject({ status: 422, body: { error_code: 42204 } });
    expect((await call('DELETE', '/mode/payments-value')).body).toEqual({ mode: 'READONLY' });
    expect((await call('GET', '/mode/payments-value')).body).toMatchObject({ error_code: 40409 });
    expect(await call('PUT', '/mode', { mode: 'IMPORT' })).toMatchObject({ status: 422, body: { error_code: 42205 } });
  });
});

describe('IMPORT mode', () => {
  it('registers schemas under the ids and versions they had elsewhere, and only there', async () => {
    expect(await register('payments-value', v1, { id: 7 })).toMatchObject({ status: 422, body: { error_code: 42205 } });
    expect((await call('PUT', '/mode', { mode: 'IMPORT' })).body).toEqual({ mode: 'IMPORT' });
    expect((await register('payments-value', v1, { id: 7, version: 3 })).body).toEqual({ id: 7 });
    expect((await register('payments-value', incompatible, { id: 9, version: 4 })).body).toEqual({ id: 9 });
    expect((await register('other-value', v1, { id: 8 })).body).toMatchObject({
      error_code: 42207,
      message: 'Schema already registered with id 7 instead of input id 8',
    });
    expect((await register('other-value', v2, { id: 7 })).body).toMatchObject({
      error_code: 42207,
      message: 'Overwrite new schema with id 7 is not permitted.',
    });
    expect((await call('GET', '/subjects/payments-value/versions')).body).toEqual([3, 4]);
    await call('PUT', '/mode', { mode: 'READWRITE' });
    expect((await register('fresh-value', v2)).body).toEqual({ id: 10 });
  });
});

describe('the file store', () => {
  it('keeps everything across a restart', async () => {
    await register('payments-value', v1);
    await register('payments-value', v2);
    await call('DELETE', '/subjects/payments-value/versions/1');
    await call('PUT', '/config/payments-value', { compatibility: 'FULL' });
    await app.close();
    app = createRegistry({ store: new FileStore(directory) });
    await app.ready();
    expect((await call('GET', '/subjects/payments-value/versions?deleted=true')).body).toEqual([1, 2]);
    expect((await call('GET', '/subjects/payments-value/versions')).body).toEqual([2]);
    expect((await call('GET', '/config/payments-value')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await register('elsewhere', v2)).body).toEqual({ id: 2 });
    expect((await register('elsewhere', incompatible)).body).toMatchObject({ error_code: 409 });
  });
});
