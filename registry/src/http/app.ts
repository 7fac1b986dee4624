// The REST surface: Confluent Schema Registry's routes, content types and error bodies on fastify.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { messageOf } from '@sluice/crds/errors';
import { badRequest, RegistryHttpError, requestTooLarge, schemaNotFound } from '../errors.js';
import { schemaTypes, type SchemaVersion } from '../model.js';
import { SchemaRegistry, type SchemaRequest } from '../registry.js';
import { maxNestingDepth, nestsDeeperThan } from '../schema/limits.js';
import { requireUsers, type RegistryUser } from './auth.js';
import type { Store } from '../store/store.js';

export const contentType = 'application/vnd.schemaregistry.v1+json';

/** 1 MiB, fastify's default and about what one record of a Kafka-stored log may hold (the broker's default `max.message.bytes`). */
export const defaultMaxRequestBytes = 1024 * 1024;

export interface RegistryOptions {
  store: Store;
  /** fastify's logger option; off by default so tests stay quiet. */
  logger?: FastifyServerOptions['logger'];
  /** The largest request body, in bytes, the registry reads; a larger one is refused with 413. */
  maxRequestBytes?: number;
  /** The users who may call the registry (HTTP basic auth); without any, the registry is open to every client that reaches it. */
  users?: readonly RegistryUser[];
  /** A PEM certificate and its key: the registry serves HTTPS only. */
  tls?: { cert: string; key: string };
}

type Query = Record<string, string | undefined>;
type SubjectParams = { subject: string };
type VersionParams = { subject: string; version: string };
type IdParams = { id: string };

const flag = (query: Query, name: string) => query[name] === 'true';

/** A fastify app serving the registry; the store opens when the app gets ready and closes with it. */
export function createRegistry(options: RegistryOptions): FastifyInstance {
  const maxRequestBytes = options.maxRequestBytes ?? defaultMaxRequestBytes;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: maxRequestBytes,
    ...(options.tls === undefined ? {} : { https: options.tls }),
  }) as unknown as FastifyInstance;
  const registry = new SchemaRegistry(options.store);
  app.decorate('registry', registry);
  app.addHook('onReady', () => registry.open());
  app.addHook('onClose', () => registry.close());

  // Clients send Confluent's media types, plain JSON, or nothing useful; all of them carry JSON. Confluent's Java client
  // sends its content type on every request, a bodyless DELETE too, so an empty body is no body rather than bad JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body: string, done) => {
    try {
      done(null, parseBody(body));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.type(contentType);
    done();
  });
  if (options.users !== undefined && options.users.length > 0) requireUsers(app, options.users);
  // fastify appends a charset to JSON types; Confluent answers the bare media type, and so do we.
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('content-type', contentType);
    done(null, payload);
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    if (error instanceof RegistryHttpError) return reply.status(error.status).send(error.toBody());
    if ((error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send(requestTooLarge(maxRequestBytes).toBody());
    const status = error.statusCode ?? 500;
    if (status >= 500) app.log.error({ err: error }, 'request failed');
    return reply
      .status(status)
      .send({ error_code: status >= 500 ? 50001 : status, message: status >= 500 ? `Error in the backend data store: ${error.message}` : error.message });
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ error_code: 404, message: 'HTTP 404 Not Found' }));

  app.get('/', () => ({}));

  app.get<{ Querystring: Query }>('/subjects', (request) => registry.listSubjects(flag(request.query, 'deleted'), request.query.subjectPrefix ?? ''));
  app.get<{ Params: SubjectParams; Querystring: Query }>('/subjects/:subject/versions', (request) =>
    registry.listVersions(request.params.subject, flag(request.query, 'deleted')),
  );
  app.post<{ Params: SubjectParams; Body: SchemaRequest }>('/subjects/:subject/versions', async (request) => ({
    id: await registry.register(request.params.subject, request.body ?? {}),
  }));
  app.post<{ Params: SubjectParams; Body: SchemaRequest; Querystring: Query }>('/subjects/:subject', (request) =>
    versionBody(registry.lookup(request.params.subject, request.body ?? {}, flag(request.query, 'deleted'))),
  );
  app.get<{ Params: VersionParams; Querystring: Query }>('/subjects/:subject/versions/:version', (request) =>
    versionBody(registry.getVersion(request.params.subject, request.params.version, flag(request.query, 'deleted'))),
  );
  app.get<{ Params: VersionParams; Querystring: Query }>('/subjects/:subject/versions/:version/schema', (request, reply) =>
    rawSchema(reply, registry.getVersion(request.params.subject, request.params.version, flag(request.query, 'deleted')).schema),
  );
  app.get<{ Params: VersionParams }>('/subjects/:subject/versions/:version/referencedby', (request) => {
    const found = registry.getVersion(request.params.subject, request.params.version, true);
    return registry.referencedBy(found.subject, found.version);
  });
  app.delete<{ Params: SubjectParams; Querystring: Query }>('/subjects/:subject', (request) =>
    registry.deleteSubject(request.params.subject, flag(request.query, 'permanent')),
  );
  app.delete<{ Params: VersionParams; Querystring: Query }>('/subjects/:subject/versions/:version', (request) =>
    registry.deleteVersion(request.params.subject, request.params.version, flag(request.query, 'permanent')),
  );

  app.get('/schemas/types', () => schemaTypes);
  app.get<{ Querystring: Query }>('/schemas', (request) =>
    registry.listSchemas(request.query.subjectPrefix ?? '', flag(request.query, 'deleted'), flag(request.query, 'latestOnly')).map(versionBody),
  );
  app.get<{ Params: IdParams }>('/schemas/ids/:id', (request) => {
    const content = registry.getById(schemaId(request.params.id));
    return {
      ...(content.schemaType === 'AVRO' ? {} : { schemaType: content.schemaType }),
      schema: content.schema,
      ...(content.references.length > 0 ? { references: content.references } : {}),
    };
  });
  app.get<{ Params: IdParams }>('/schemas/ids/:id/schema', (request, reply) => rawSchema(reply, registry.getById(schemaId(request.params.id)).schema));
  app.get<{ Params: IdParams; Querystring: Query }>('/schemas/ids/:id/versions', (request) => {
    const id = schemaId(request.params.id);
    registry.getById(id);
    return registry.usesOf(id, flag(request.query, 'deleted'));
  });
  app.get<{ Params: IdParams; Querystring: Query }>('/schemas/ids/:id/subjects', (request) => {
    const id = schemaId(request.params.id);
    registry.getById(id);
    return [...new Set(registry.usesOf(id, flag(request.query, 'deleted')).map((use) => use.subject))];
  });

  app.post<{ Params: VersionParams; Body: SchemaRequest; Querystring: Query }>('/compatibility/subjects/:subject/versions/:version', (request) =>
    compatibilityBody(registry.testCompatibility(request.params.subject, request.params.version, request.body ?? {}), flag(request.query, 'verbose')),
  );
  app.post<{ Params: SubjectParams; Body: SchemaRequest; Querystring: Query }>('/compatibility/subjects/:subject/versions', (request) =>
    compatibilityBody(registry.testCompatibility(request.params.subject, undefined, request.body ?? {}), flag(request.query, 'verbose')),
  );

  app.get('/config', () => ({ compatibilityLevel: registry.globalCompatibility() }));
  app.put<{ Body: { compatibility?: unknown } }>('/config', async (request) => ({
    compatibility: await registry.setCompatibility(null, request.body?.compatibility),
  }));
  app.delete('/config', async () => ({ compatibilityLevel: await registry.deleteCompatibility(null) }));
  app.get<{ Params: SubjectParams; Querystring: Query }>('/config/:subject', (request) => ({
    compatibilityLevel: registry.subjectCompatibility(request.params.subject, flag(request.query, 'defaultToGlobal')),
  }));
  app.put<{ Params: SubjectParams; Body: { compatibility?: unknown } }>('/config/:subject', async (request) => ({
    compatibility: await registry.setCompatibility(request.params.subject, request.body?.compatibility),
  }));
  app.delete<{ Params: SubjectParams }>('/config/:subject', async (request) => ({
    compatibilityLevel: await registry.deleteCompatibility(request.params.subject),
  }));

  app.get('/mode', () => ({ mode: registry.globalMode() }));
  app.put<{ Body: { mode?: unknown }; Querystring: Query }>('/mode', async (request) => ({
    mode: await registry.setMode(null, request.body?.mode, flag(request.query, 'force')),
  }));
  app.get<{ Params: SubjectParams; Querystring: Query }>('/mode/:subject', (request) => ({
    mode: registry.subjectMode(request.params.subject, flag(request.query, 'defaultToGlobal')),
  }));
  app.put<{ Params: SubjectParams; Body: { mode?: unknown }; Querystring: Query }>('/mode/:subject', async (request) => ({
    mode: await registry.setMode(request.params.subject, request.body?.mode, flag(request.query, 'force')),
  }));
  app.delete<{ Params: SubjectParams }>('/mode/:subject', async (request) => ({ mode: await registry.deleteMode(request.params.subject) }));

  return app;
}

/** A request body's JSON; undefined when there is none. Refused before any handler recurses into it when it nests too deep. */
function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`The request body is not valid JSON: ${messageOf(error)}`);
  }
  // The registry's own bodies nest three levels ({"references": [{…}]}); a schema travels as a string inside.
  if (nestsDeeperThan(body, maxNestingDepth))
    throw badRequest(`The request body nests more than ${maxNestingDepth} levels of JSON arrays and objects; send the schema as a string in "schema"`);
  return body;
}

/** A version as Confluent answers it: no `deleted`, no schemaType for Avro, no empty references. */
function versionBody(version: SchemaVersion): Omit<SchemaVersion, 'deleted'> {
  return {
    subject: version.subject,
    version: version.version,
    id: version.id,
    ...(version.schemaType ? { schemaType: version.schemaType } : {}),
    ...(version.references ? { references: version.references } : {}),
    schema: version.schema,
  };
}

function compatibilityBody(result: { is_compatible: boolean; messages?: string[] }, verbose: boolean) {
  return verbose ? { is_compatible: result.is_compatible, messages: result.messages ?? [] } : { is_compatible: result.is_compatible };
}

function rawSchema(reply: FastifyReply, schema: string): FastifyReply {
  return reply.type(contentType).send(schema);
}

function schemaId(text: string): number {
  const id = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw schemaNotFound();
  return id;
}

declare module 'fastify' {
  interface FastifyInstance {
    registry: SchemaRegistry;
  }
}
