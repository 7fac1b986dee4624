// A registry client's user and CA from its environment, and the Authorization header it sends.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basicAuthorization, RegistryAuthError, registryConnectionFromEnv } from './index.js';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('registryConnectionFromEnv', () => {
  it('takes the user, the password and the CA text, naming where they come from', () => {
    expect(
      registryConnectionFromEnv({ SLUICE_REGISTRY_USER: 'fraud', SLUICE_REGISTRY_PASSWORD: 'p:w', SLUICE_REGISTRY_CA: pem }, 'the Secret fraud-registry'),
    ).toEqual({ source: 'the Secret fraud-registry', username: 'fraud', password: 'p:w', ca: pem });
  });

  it('reads the CA from SLUICE_REGISTRY_CA_FILE, and says which file it cannot read', () => {
    const directory = mkdtempSync(join(tmpdir(), 'sluice-registry-ca-'));
    try {
      writeFileSync(join(directory, 'ca.pem'), pem);
      expect(registryConnectionFromEnv({ SLUICE_REGISTRY_CA_FILE: join(directory, 'ca.pem') }, 'flags').ca).toBe(pem);
      const missing = join(directory, 'nope.pem');
      expect(() => registryConnectionFromEnv({ SLUICE_REGISTRY_CA_FILE: missing }, 'flags')).toThrow(RegistryAuthError);
      expect(() => registryConnectionFromEnv({ SLUICE_REGISTRY_CA_FILE: missing }, 'flags')).toThrow(
        `cannot read the schema registry's CA file ${missing} (SLUICE_REGISTRY_CA_FILE)`,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('gives no user and no CA for an empty environment', () => {
    expect(registryConnectionFromEnv({ SLUICE_REGISTRY_USER: '' }, 'env')).toEqual({ source: 'env' });
  });
});

it('encodes the user and password as RFC 7617 basic credentials, UTF-8', () => {
  expect(basicAuthorization('Aladdin', 'open sesame')).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  expect(Buffer.from(basicAuthorization('zoë', 'pa:ss').slice(6), 'base64').toString('utf8')).toBe('zoë:pa:ss');
});
