// The shared broker's SASL_SSL material: a CA, a broker and a client certificate made with openssl, and the SCRAM/PLAIN users' passwords, cached in the run dir.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The admin: a super user of the SASL_SSL listener, as ANONYMOUS is of the plaintext ones. */
export const kafkaAdminUser = 'sluice-admin';

/** Users without any ACL at start: a test grants each exactly what its job needs (`createAcls` over the plaintext listener). */
export const kafkaJobUsers = ['sluice-job-a', 'sluice-job-b', 'sluice-job-c'] as const;

export interface KafkaTlsFiles {
  dir: string;
  /** The CA that signed the broker's and the client's certificates, PEM. */
  ca: string;
  /** The broker's private key (PKCS#8, unencrypted) followed by its certificate: a PEM keystore for Kafka. */
  brokerKeystore: string;
  /** A client certificate and key signed by the CA, for mutual TLS. */
  clientCertificate: string;
  clientKey: string;
  /** Every user's password, the same for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. */
  passwords: Record<string, string>;
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failure = error as { stderr?: Buffer; message: string };
    throw new Error(
      `openssl ${args[0]} failed making the test broker's certificates in ${dir}: ${failure.stderr?.toString() || failure.message}; is openssl installed?`,
    );
  }
}

/** A key and a certificate for `subject`, signed by the CA in `dir`, valid for loopback. */
function signed(dir: string, name: string, subject: string): void {
  writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '3650',
    '-out',
    `${name}.pem`,
    '-extfile',
    `${name}.ext`,
  ]);
  rmSync(join(dir, `${name}.csr`));
}

/**
 * The material under `dir`, made once and reused: the passwords end up in server.properties (PLAIN's user list),
 * which must read the same on every start for a running broker to be kept.
 */
export function kafkaTls(dir: string): KafkaTlsFiles {
  const files = {
    dir,
    ca: join(dir, 'ca.pem'),
    brokerKeystore: join(dir, 'broker-keystore.pem'),
    clientCertificate: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
  };
  const passwordsFile = join(dir, 'passwords.json');
  if (!existsSync(passwordsFile)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', '/CN=Sluice test CA']);
    signed(dir, 'broker', '/CN=localhost');
    signed(dir, 'client', '/CN=sluice-mtls-client');
    writeFileSync(files.brokerKeystore, readFileSync(join(dir, 'broker.key'), 'utf8') + readFileSync(join(dir, 'broker.pem'), 'utf8'));
    const passwords = Object.fromEntries([kafkaAdminUser, ...kafkaJobUsers].map((user) => [user, randomBytes(12).toString('hex')]));
    // Written last: its presence says the rest is complete.
    writeFileSync(passwordsFile, `${JSON.stringify(passwords, null, 2)}\n`);
  }
  return { ...files, passwords: JSON.parse(readFileSync(passwordsFile, 'utf8')) as Record<string, string> };
}
