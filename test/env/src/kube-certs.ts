// The test control plane's certificates (one CA, apiserver serving, admin client, service-account keys), made with openssl.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface KubeCerts {
  /** Signs the serving certificate and the client certificates; trusted by clients and by the apiserver. */
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  /** CN=admin, O=system:masters: everything is allowed under RBAC. */
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
}

export function kubeCertPaths(dir: string): KubeCerts {
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    saKey: join(dir, 'sa-signer.key'),
    saPub: join(dir, 'sa-signer.pub'),
  };
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const days = ['-days', '3650'];

/** Creates the certificates in `dir` unless they are all there already (a running apiserver keeps using them). */
export function ensureKubeCerts(dir: string): KubeCerts {
  const certs = kubeCertPaths(dir);
  if ((Object.values(certs) as string[]).every((file) => existsSync(file))) return certs;
  mkdirSync(dir, { recursive: true });
  openssl(['req', '-x509', ...ecKey, ...days, '-keyout', certs.caKey, '-out', certs.caCert, '-subj', '/CN=sluice-test-ca']);
  const signedBy = ['-CA', certs.caCert, '-CAkey', certs.caKey, '-addext', 'basicConstraints=critical,CA:FALSE'];
  openssl([
    'req',
    '-x509',
    ...ecKey,
    ...days,
    ...signedBy,
    '-keyout',
    certs.apiserverKey,
    '-out',
    certs.apiserverCert,
    '-subj',
    '/CN=kube-apiserver',
    // 10.0.0.1 is the `kubernetes` Service's address in --service-cluster-ip-range.
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ]);
  openssl([
    'req',
    '-x509',
    ...ecKey,
    ...days,
    ...signedBy,
    '-keyout',
    certs.adminKey,
    '-out',
    certs.adminCert,
    '-subj',
    '/O=system:masters/CN=admin',
    '-addext',
    'extendedKeyUsage=clientAuth',
  ]);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', certs.saKey]);
  openssl(['pkey', '-in', certs.saKey, '-pubout', '-out', certs.saPub]);
  return certs;
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    throw new Error(`openssl ${args[0]} failed (is OpenSSL >= 3.0 installed? apt-get install openssl): ${stderr}`);
  }
}
