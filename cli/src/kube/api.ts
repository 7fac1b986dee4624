// streamctl's Kubernetes API client: JSON requests and streamed pod logs over node:http(s), authenticated as the
// kubeconfig's user says (a bearer token or token file, a client certificate, basic auth, or an exec credential plugin).
// @kubernetes/client-node does this too, but loads every API group's models (~900 modules, about a second) before its
// first request; streamctl calls a handful of endpoints.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SluiceError } from '@sluice/crds/errors';
import { CommandError } from './io.js';
import type { Connection, ExecConfig } from './kubeconfig.js';

/** An answer of the API server with an error status; `body` is its Status object (or its text, if not JSON). */
export class KubeApiError extends SluiceError {
  override readonly code = 'SLUICE_E_KUBE_API';

  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`the API server answered HTTP ${status}: ${typeof body === 'object' && body !== null && 'message' in body ? String(body.message) : String(body)}`);
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestBody {
  body: unknown;
  /** application/json unless given: a merge patch is `application/merge-patch+json`. */
  contentType?: string;
}

/** What authenticates a request: headers, and for a client certificate the TLS options. */
interface Credentials {
  headers: Record<string, string>;
  cert?: Buffer | string;
  key?: Buffer | string;
}

const readData = (data: string | undefined, file: string | undefined): Buffer | undefined =>
  data !== undefined && data !== '' ? Buffer.from(data, 'base64') : file !== undefined && file !== '' ? readFileSync(file) : undefined;

/** The ExecCredential's status a credential plugin prints on stdout. */
interface ExecStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
}

/**
 * Runs a credential plugin as kubectl does: KUBERNETES_EXEC_INFO in its environment, an ExecCredential on its stdout.
 * Not interactive: streamctl is run by scripts too, so a plugin that must prompt says so rather than waiting.
 */
function runPlugin(exec: ExecConfig, connection: Connection): Promise<ExecStatus> {
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
  const cluster =
    exec.provideClusterInfo === true
      ? { cluster: { server: connection.cluster.server, 'certificate-authority-data': connection.cluster['certificate-authority-data'] } }
      : {};
  const env = {
    ...process.env,
    ...Object.fromEntries((exec.env ?? []).map(({ name, value }) => [name, value])),
    KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive: false, ...cluster } }),
  };
  return new Promise((resolve, reject) => {
    const child = execFile(exec.command, exec.args ?? [], { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) {
        const why =
          (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it is not installed or not on PATH' : `${error.message.trim()} ${stderr.trim()}`.trim();
        reject(new CommandError(`the kubeconfig's credential plugin ${exec.command} failed: ${why}; run it yourself, or log in again`));
        return;
      }
      try {
        resolve((JSON.parse(stdout) as { status?: ExecStatus }).status ?? {});
      } catch {
        reject(new CommandError(`the kubeconfig's credential plugin ${exec.command} printed no ExecCredential JSON; run it yourself to see why`));
      }
    });
    child.stdin?.end();
  });
}

async function credentials(connection: Connection): Promise<Credentials> {
  const { user } = connection;
  if (user['auth-provider'] !== undefined) {
    throw new CommandError(
      `the kubeconfig's user authenticates with the ${user['auth-provider'].name} auth-provider, which streamctl does not run; use a credential plugin (users[].user.exec, as kubelogin and the cloud CLIs install) or a token`,
    );
  }
  const cert = readData(user['client-certificate-data'], user['client-certificate']);
  const key = readData(user['client-key-data'], user['client-key']);
  const tls = cert !== undefined && key !== undefined ? { cert, key } : {};
  if (user.token !== undefined && user.token !== '') return { headers: { authorization: `Bearer ${user.token}` }, ...tls };
  if (user.tokenFile !== undefined && user.tokenFile !== '')
    return { headers: { authorization: `Bearer ${readFileSync(user.tokenFile, 'utf8').trim()}` }, ...tls };
  if (user.username !== undefined) {
    return { headers: { authorization: `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}` }, ...tls };
  }
  if (user.exec !== undefined && cert === undefined) {
    const status = await runPlugin(user.exec, connection);
    if (status.token !== undefined) return { headers: { authorization: `Bearer ${status.token}` } };
    if (status.clientCertificateData !== undefined && status.clientKeyData !== undefined) {
      return { headers: {}, cert: status.clientCertificateData, key: status.clientKeyData };
    }
    throw new CommandError(`the kubeconfig's credential plugin ${user.exec.command} gave neither a token nor a client certificate; run it yourself to see why`);
  }
  return { headers: {}, ...tls };
}

function queryString(query: Query | undefined): string {
  const entries = Object.entries(query ?? {}).filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined);
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([key, value]): [string, string] => [key, String(value)])).toString()}`;
}

async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parsedBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** One API server, as one kubeconfig context reaches it. */
export class KubeApi {
  private credentials?: Promise<Credentials>;

  constructor(readonly connection: Connection) {
    if (connection.cluster['proxy-url'] !== undefined) {
      throw new CommandError(
        `the kubeconfig's cluster goes through the proxy ${connection.cluster['proxy-url']}, which streamctl does not support; use a context without proxy-url`,
      );
    }
  }

  get server(): string {
    return this.connection.cluster.server;
  }

  /** Sends a request and answers the response, its status checked: a KubeApiError for a status of 400 or more. */
  private async send(method: string, path: string, query: Query | undefined, body: RequestBody | undefined): Promise<IncomingMessage> {
    this.credentials ??= credentials(this.connection);
    const { headers, cert, key } = await this.credentials;
    const { cluster } = this.connection;
    const url = new URL(this.server);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body.body));
    const options: RequestOptions & { ca?: Buffer; cert?: Buffer | string; key?: Buffer | string; rejectUnauthorized?: boolean; servername?: string } = {
      method,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port,
      // A server URL may carry a path (a proxy in front of several clusters): requests go beneath it.
      path: `${url.pathname.replace(/\/$/, '')}${path}${queryString(query)}`,
      headers: {
        accept: 'application/json',
        'user-agent': 'streamctl',
        ...headers,
        ...(payload === undefined ? {} : { 'content-type': body?.contentType ?? 'application/json', 'content-length': String(payload.length) }),
      },
      // One connection per request: streamctl makes a few, and an idle keep-alive socket would hold the process open.
      agent: false,
    };
    if (url.protocol === 'https:') {
      const ca = readData(cluster['certificate-authority-data'], cluster['certificate-authority']);
      Object.assign(options, {
        ...(ca === undefined ? {} : { ca }),
        ...(cert === undefined ? {} : { cert, key }),
        rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
        ...(cluster['tls-server-name'] === undefined ? {} : { servername: cluster['tls-server-name'] }),
      });
    }
    // node:http loads Node's fetch (undici) with it: only a plain-HTTP server (kubectl proxy) needs it.
    const request = url.protocol === 'https:' ? httpsRequest : (await import('node:http')).request;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const sent = request(options, resolve);
      sent.on('error', reject);
      sent.end(payload);
    });
    const status = response.statusCode ?? 0;
    if (status >= 400) throw new KubeApiError(status, parsedBody(await readAll(response)));
    return response;
  }

  /** A JSON request: `GET` without a body, else the body sent as JSON (or as its contentType). */
  async request<T>(method: string, path: string, query?: Query, body?: RequestBody): Promise<T> {
    const text = await readAll(await this.send(method, path, query, body));
    return parsedBody(text) as T;
  }

  /** A GET whose body is written to `into` as it arrives (a log, followed), until the server ends it. */
  async stream(path: string, query: Query, into: Writable): Promise<void> {
    await pipeline(await this.send('GET', path, query, undefined), into);
  }
}

/** The path of a custom resource collection or object: `/apis/group/version[/namespaces/ns]/plural[/name[/subresource]]`. */
export function resourcePath(target: { group: string; version: string; plural: string; namespace?: string; name?: string; subresource?: string }): string {
  const { group, version, plural, namespace, name, subresource } = target;
  const parts = [group === '' ? '/api' : '/apis', ...(group === '' ? [] : [group]), version];
  if (namespace !== undefined) parts.push('namespaces', namespace);
  parts.push(plural);
  if (name !== undefined) parts.push(name);
  if (subresource !== undefined) parts.push(subresource);
  return parts.map((part, index) => (index === 0 ? part : encodeURIComponent(part))).join('/');
}
