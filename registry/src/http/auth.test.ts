// The registry's basic auth through app.inject(): who gets in, what a refused client reads, what a read-only user may do, and the users file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { basicAuthorization } from '@sluice/crds/registry-connection';
import { FileStore } from '../store/file.js';
import { contentType, createRegistry } from './app.js';
import { parseUsers } from './auth.js';

let directory: string;
let app: FastifyInstance;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'sluice-registry-auth-'));
  app = createRegistry({ store: new FileStore(directory), users: parseUsers('writer: w-secret\nreader: r:secret,read-only\n', 'the test users') });
  await app.ready();
});

afterEach(async () => {
  await app.close();
  rmSync(directory, { recursive: true, force: true });
});

async function call(method: 'GET' | 'POST', url: string, authorization?: string) {
  const response = await app.inject({
    method,
    url,
    headers: { 'content-type': contentType, ...(authorization === undefined ? {} : { authorization }) },
    ...(method === 'POST' ? { payload: JSON.stringify({ schema: '"string"' }) } : {}),
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as unknown, challenge: response.headers['www-authenticate'] };
}

describe('a registry with users', () => {
  it('answers a client without a user 401 with a Basic challenge and a Confluent error body', async () => {
    expect(await call('GET', '/subjects')).toEqual({
      status: 401,
      challenge: 'Basic realm="sluice-registry", charset="UTF-8"',
      body: { error_code: 40101, message: 'Unauthorized: this registry asks for a user and password (HTTP basic auth)' },
    });
  });

  it('answers a wrong password and an unknown user alike, 401', async () => {
    const wrong = await call('GET', '/subjects', basicAuthorization('writer', 'nope'));
    expect(wrong).toMatchObject({ status: 401, body: { error_code: 40101, message: 'Unauthorized: user writer is unknown or its password is wrong' } });
    expect((await call('GET', '/subjects', basicAuthorization('mallory', 'w-secret'))).status).toBe(401);
    expect((await call('GET', '/subjects', 'Bearer w-secret')).status).toBe(401);
  });

  it('serves a user with the right password', async () => {
    expect(await call('POST', '/subjects/payments-value/versions', basicAuthorization('writer', 'w-secret'))).toMatchObject({ status: 200, body: { id: 1 } });
    expect(await call('GET', '/subjects', basicAuthorization('writer', 'w-secret'))).toMatchObject({ status: 200, body: ['payments-value'] });
  });

  it('lets a read-only user read but not register (403)', async () => {
    await call('POST', '/subjects/payments-value/versions', basicAuthorization('writer', 'w-secret'));
    expect(await call('GET', '/subjects/payments-value/versions/latest', basicAuthorization('reader', 'r:secret'))).toMatchObject({
      status: 200,
      body: { id: 1, version: 1 },
    });
    expect(await call('POST', '/subjects/orders-value/versions', basicAuthorization('reader', 'r:secret'))).toMatchObject({
      status: 403,
      body: { error_code: 40301, message: 'Forbidden: user reader may only read (GET); POST /subjects/orders-value/versions needs a user that may write' },
    });
    expect(await call('GET', '/subjects', basicAuthorization('writer', 'w-secret'))).toMatchObject({ body: ['payments-value'] });
  });

  it('leaves the probes’ path open', async () => {
    expect(await call('GET', '/')).toEqual({ status: 200, body: {}, challenge: undefined });
  });
});

describe('the users file', () => {
  it('reads NAME: PASSWORD lines, a password with colons, and the read-only role', () => {
    expect(parseUsers('# the registry’s users\n\nci: a:b:c\nviewer:  v ,read-only\n', 'f')).toEqual([
      { name: 'ci', password: 'a:b:c', readOnly: false },
      { name: 'viewer', password: 'v ', readOnly: true },
    ]);
  });

  it('names the line at fault without showing it, a user named twice, and a file without users', () => {
    expect(() => parseUsers('ci: x\nno password here\n', 'the users file /etc/users')).toThrow(
      'the users file /etc/users line 2 is not NAME: PASSWORD or NAME: PASSWORD,read-only (the line is not shown: it holds a password)',
    );
    expect(() => parseUsers('ci: x\nci: y\n', 'f')).toThrow('f line 2 names user ci a second time');
    expect(() => parseUsers('# nobody\n', 'f')).toThrow('f holds no users');
  });
});
