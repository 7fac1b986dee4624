// HTTP basic auth for the registry: its users (read-write or read-only) from a file, a constant-time password check, and Confluent-style 401 and 403 answers.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SluiceError } from '@sluice/crds/errors';
import { RegistryHttpError } from '../errors.js';

export const realm = 'sluice-registry';

/** A user of the registry; a read-only one may only GET (and HEAD). */
export interface RegistryUser {
  name: string;
  password: string;
  readOnly: boolean;
}

/** A users file that cannot be read as users; the message names the line. */
export class RegistryUsersError extends SluiceError {
  readonly code = 'SLUICE_E_REGISTRY_USERS';
}

/** The paths open without a user: the probes' (GET / answers {} and reveals nothing). */
const openPaths = new Set(['/']);

/**
 * The users of a users file (`source` names it in errors): one `NAME: PASSWORD` a line, `NAME: PASSWORD,read-only` for a
 * user that may only read (Jetty's and so Confluent's property-file format). Blank lines and `#` comments are skipped.
 * The password is everything after the first `: ` up to a final `,read-only` or `,read-write`.
 */
export function parseUsers(text: string, source: string): RegistryUser[] {
  const users: RegistryUser[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([^:\s]+)\s*:\s*(.+?)(?:,(read-only|read-write))?$/.exec(line);
    if (match === null)
      throw new RegistryUsersError(
        `${source} line ${index + 1} is not NAME: PASSWORD or NAME: PASSWORD,read-only (the line is not shown: it holds a password)`,
      );
    const [, name, password, role] = match;
    if (users.some((user) => user.name === name))
      throw new RegistryUsersError(`${source} line ${index + 1} names user ${name} a second time: keep one line per user`);
    users.push({ name: name!, password: password!, readOnly: role === 'read-only' });
  }
  if (users.length === 0) throw new RegistryUsersError(`${source} holds no users: add NAME: PASSWORD lines, or start the registry without users`);
  return users;
}

/** Compares digests, not the passwords, so the time taken says nothing about the password's length or its first wrong byte. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** A password no user has, compared when the user is unknown so an unknown user takes as long as a wrong password. */
const nobody = { password: `\u0000${createHash('sha256').update(String(Math.random())).digest('hex')}`, readOnly: true };

/** The user and password of an `Authorization: Basic` header; undefined when there is none or it is not basic. */
function credentials(header: string | undefined): { name: string; password: string } | undefined {
  const match = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const unauthorized = (message: string) => new RegistryHttpError(401, 40101, message);
const forbidden = (message: string) => new RegistryHttpError(403, 40301, message);

/** Refuses, before any route runs, a request without a known user and password, and a read-only user's writes. */
export function requireUsers(app: FastifyInstance, users: readonly RegistryUser[]): void {
  const byName = new Map(users.map((user) => [user.name, user]));
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (openPaths.has(request.url.split('?')[0]!)) return;
    const given = credentials(request.headers.authorization);
    const user = given === undefined ? undefined : byName.get(given.name);
    const matches = given !== undefined && sameSecret(given.password, (user ?? nobody).password);
    if (user === undefined || !matches) {
      void reply.header('www-authenticate', `Basic realm="${realm}", charset="UTF-8"`);
      throw unauthorized(
        given === undefined
          ? 'Unauthorized: this registry asks for a user and password (HTTP basic auth)'
          : `Unauthorized: user ${given.name} is unknown or its password is wrong`,
      );
    }
    if (user.readOnly && request.method !== 'GET' && request.method !== 'HEAD')
      throw forbidden(`Forbidden: user ${user.name} may only read (GET); ${request.method} ${request.url} needs a user that may write`);
  });
}
