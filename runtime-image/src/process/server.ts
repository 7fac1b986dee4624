// The pod's HTTP surface (fastify): health, readiness, Prometheus metrics and the token-protected control API.
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  RUNTIME_ENV,
  controlApi,
  controlErrorSchema,
  runtimeStatusSchema,
  savepointRequestSchema,
  savepointResponseSchema,
  stopQuerySchema,
  stopResponseSchema,
} from '@sluice/crds';
import type { ControlError as ControlErrorBody, RuntimeStatus, SavepointRequest, SavepointResponse, StopRequest, StopResponse } from '@sluice/crds';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** What the control API acts on: the runtime, or a stand-in where a test needs one. */
export interface ControlTarget {
  readonly ready: boolean;
  status(): RuntimeStatus;
  savepoint(request: SavepointRequest): Promise<SavepointResponse>;
  /** Stops processing for good; the same request again gets the same answer. */
  stop(request: StopRequest): Promise<StopResponse>;
}

export interface ServerOptions {
  target: ControlTarget;
  registry: Registry;
  /** The bearer token of the control API; without one it answers 503. */
  controlToken: string | undefined;
  /** The pod's log: fastify's own lines (at warn and above) go to it; none without. */
  log?: Logger;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Compares digests, not the tokens: timingSafeEqual needs equal lengths, and a length check first would tell a caller the token's length. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/.exec(header ?? '')?.[1];
  return given !== undefined && timingSafeEqual(sha256(given), sha256(token));
}

const errorBody = (code: string, message: string): ControlErrorBody => ({ code, message });

/** fastify's lines at warn or above (a request per probe and scrape at info would drown the job's events), or the pod's level if higher. */
function httpLog(log: Logger): FastifyBaseLogger {
  return log.child({ component: 'http' }, { level: log.levelVal > log.levels.values.warn! ? log.level : 'warn' });
}

export function buildServer(options: ServerOptions): FastifyInstance {
  const { target, registry, controlToken } = options;
  const app = Fastify(options.log === undefined ? { logger: false } : { loggerInstance: httpLog(options.log) });
  const errors = { 400: controlErrorSchema, 401: controlErrorSchema, 409: controlErrorSchema, 500: controlErrorSchema, 503: controlErrorSchema };

  app.setErrorHandler((error: Error & { statusCode?: number; status?: number; code?: string; validation?: unknown }, _request, reply) => {
    const status = error.validation !== undefined ? 400 : (error.status ?? error.statusCode ?? 500);
    // Only Sluice's own codes go out; fastify's (FST_ERR_…) become the stable code for their kind of failure.
    const code = error.code?.startsWith('SLUICE_E_') === true ? error.code : status < 500 ? 'SLUICE_E_BAD_REQUEST' : 'SLUICE_E_INTERNAL';
    void reply.code(status).send(errorBody(code, error.message));
  });

  // Liveness: a task set that failed has stopped processing for good, so the kubelet should restart the pod (it resumes from its last commit).
  app.get('/healthz', (_request, reply) => (target.status().phase === 'failed' ? reply.code(503).send({ ok: false, phase: 'failed' }) : { ok: true }));
  // Readiness is about processing: a stuck or failing checkpoint is reported in the body (and /status, and the
  // metrics) but keeps the pod ready, as Flink keeps a job running through failed checkpoints; the changelog restores without one.
  app.get('/readyz', (_request, reply) => {
    const { checkpoint } = target.status();
    return target.ready ? { ready: true, checkpoint } : reply.code(503).send({ ready: false, checkpoint });
  });
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  const authorize = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (controlToken === undefined) {
      await reply
        .code(503)
        .send(errorBody('SLUICE_E_CONTROL_DISABLED', `the control API is disabled: set ${RUNTIME_ENV.controlToken} on the pod (the job’s control Secret)`));
    } else if (!tokenMatches(request.headers.authorization, controlToken)) {
      await reply.code(401).send(errorBody('SLUICE_E_UNAUTHORIZED', 'send the job’s control token as Authorization: Bearer <token>'));
    }
  };

  app.route({
    method: controlApi.status.method,
    url: controlApi.status.path,
    onRequest: authorize,
    schema: { response: { 200: runtimeStatusSchema, ...errors } },
    handler: () => target.status(),
  });
  app.route<{ Body: SavepointRequest | undefined }>({
    method: controlApi.savepoint.method,
    url: controlApi.savepoint.path,
    onRequest: authorize,
    schema: { body: savepointRequestSchema, response: { 201: savepointResponseSchema, ...errors } },
    handler: async (request, reply) => reply.code(201).send(await target.savepoint(request.body ?? {})),
  });
  // The process stays up after a stop (the StatefulSet would restart an exited container on the old spec); only a signal ends it.
  app.route<{ Querystring: StopRequest }>({
    method: controlApi.stop.method,
    url: controlApi.stop.path,
    onRequest: authorize,
    schema: { querystring: stopQuerySchema, response: { 200: stopResponseSchema, ...errors } },
    handler: async (request, reply) => {
      const { savepoint, id } = request.query;
      if (id !== undefined && !savepoint) {
        return reply
          .code(400)
          .send(
            errorBody('SLUICE_E_BAD_REQUEST', `id=${id} names a savepoint, and savepoint is not true: send savepoint=true with the id, or leave the id out`),
          );
      }
      return reply.send(await target.stop({ savepoint, ...(id === undefined ? {} : { id }) }));
    },
  });
  return app;
}
