// How Sluice's schema registry clients (runtime, controller, streamctl) reach a registry that asks for a user (HTTP basic auth) or serves TLS: one set of options, one request, one message for a refusal.
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { messageOf, SluiceError } from '../errors.js';
import { RUNTIME_ENV } from '../runtime-env.js';

/** The environment a registry client reads its credentials and CA from (the controller sets them on runtime pods from the job's Secrets). */
export const REGISTRY_ENV = {
  user: RUNTIME_ENV.registryUser,
  password: RUNTIME_ENV.registryPassword,
  ca: RUNTIME_ENV.registryCa,
  /** A file holding the CA's PEM certificates, for clients that mount them rather than take them as text (the controller, streamctl). */
  caFile: 'SLUICE_REGISTRY_CA_FILE',
} as const;

/** The keys of the Secrets named by connections.schemaRegistry.basicAuthSecretRef and caSecretRef. */
export const REGISTRY_SECRET_KEYS = { username: 'username', password: 'password', ca: 'ca.crt' } as const;

/** How a client signs in to and trusts a registry; empty: no user, the system's CAs. */
export interface RegistryConnection {
  username?: string;
  password?: string;
  /** PEM certificates of the CAs that sign the registry's certificate. */
  ca?: string;
  /** Where the user and password come from, named in messages (a Secret, a flag), so a refusal says what to fix. */
  source?: string;
}

/** The registry refused the client's user (401, 403), or the options do not add up. */
export class RegistryAuthError extends SluiceError {
  readonly code = 'SLUICE_E_REGISTRY_AUTH';

  /** `status`: the registry's answer, 401 or 403; undefined when the client's own options are at fault. */
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * The connection described by `env` (SLUICE_REGISTRY_USER, _PASSWORD, _CA or _CA_FILE); `source` names where the user
 * comes from in a refusal's message. A user without a password is sent with an empty one and refused by name; a
 * password without a user is not sent.
 */
export function registryConnectionFromEnv(env: NodeJS.ProcessEnv, source: string): RegistryConnection {
  const text = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const username = text(REGISTRY_ENV.user);
  const password = text(REGISTRY_ENV.password);
  const caFile = text(REGISTRY_ENV.caFile);
  let ca = text(REGISTRY_ENV.ca);
  if (ca === undefined && caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw new RegistryAuthError(`cannot read the schema registry's CA file ${caFile} (${REGISTRY_ENV.caFile}): ${messageOf(error)}`);
    }
  }
  return {
    source,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(ca === undefined ? {} : { ca }),
  };
}

export interface RegistryRequest {
  method: string;
  /** The path and query after the registry's URL, such as /subjects/payments-value/versions/latest. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface RegistryResponse {
  status: number;
  text: string;
}

/**
 * Sends one request to the registry at `url` with the connection's user and CA. Node's fetch cannot take a CA, so
 * this is node:http(s). A 401 or 403 throws RegistryAuthError with what to fix; any other answer is returned.
 * Throws the transport's error when the registry does not answer.
 */
export async function registryRequest(url: string, connection: RegistryConnection, request: RegistryRequest): Promise<RegistryResponse> {
  const target = new URL(`${url.replace(/\/+$/, '')}${request.path}`);
  const headers: Record<string, string> = { ...request.headers };
  if (connection.username !== undefined) headers.authorization = basicAuthorization(connection.username, connection.password ?? '');
  if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
  const options: RequestOptions & { ca?: string } = { method: request.method, headers, signal: request.signal };
  if (connection.ca !== undefined) options.ca = connection.ca;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const response = await new Promise<RegistryResponse>((resolve, reject) => {
    const outgoing = send(target, options, (incoming: IncomingMessage) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
  if (response.status === 401 || response.status === 403) throw new RegistryAuthError(refusal(url, connection, request, response.status), response.status);
  return response;
}

/** `Basic base64(user:password)`, RFC 7617. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

function refusal(url: string, connection: RegistryConnection, request: RegistryRequest, status: number): string {
  const registry = `the schema registry at ${url.replace(/\/+$/, '')}`;
  const where = connection.source ?? 'the client’s settings';
  if (connection.username === undefined) return `${registry} asks for a user and password (${status}) and none is set: set them in ${where}`;
  if (status === 403)
    return `${registry} does not let user ${connection.username} ${request.method} ${request.path} (403): the user may only read; use a user that may write, from ${where}`;
  return `${registry} refused user ${connection.username} (401): check the user and password in ${where}`;
}
