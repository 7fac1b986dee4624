// The whole test environment: start every server (reusing healthy ones), stop them, report them.
import { rmSync } from 'node:fs';
import { endpointsFile, writeEndpoints } from './endpoints.js';
import { kafka } from './kafka.js';
import { kube } from './kube.js';
import { postgres } from './postgres.js';
import { envPaths, type EnvPaths } from './proc.js';
import { redis } from './redis.js';
import { s3 } from './s3.js';
import type { Endpoints, Service } from './service.js';

const services = { kafka, kube, s3, redis, postgres } satisfies { [K in keyof Endpoints]: Service<Endpoints[K]> };

type Progress = (line: string) => void;

async function timed<E>(service: Service<E>, paths: EnvPaths, progress: Progress): Promise<E> {
  const started = Date.now();
  progress(`starting ${service.name} …`);
  const endpoint = await service.start(paths);
  progress(`${service.name} ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return endpoint;
}

/** Starts every server in parallel and writes the endpoints file; already running servers are reused. */
export async function up(progress: Progress = (line) => process.stderr.write(`${line}\n`)): Promise<Endpoints> {
  const paths = envPaths();
  const [k, kc, s, r, p] = await Promise.all([
    timed(services.kafka, paths, progress),
    timed(services.kube, paths, progress),
    timed(services.s3, paths, progress),
    timed(services.redis, paths, progress),
    timed(services.postgres, paths, progress),
  ]);
  const endpoints: Endpoints = { kafka: k, kube: kc, s3: s, redis: r, postgres: p };
  progress(`endpoints written to ${writeEndpoints(endpoints)}`);
  return endpoints;
}

export async function down(progress: Progress = (line) => process.stderr.write(`${line}\n`)): Promise<void> {
  const paths = envPaths();
  await Promise.all(
    Object.values(services).map(async (service: Service<unknown>) => {
      await service.stop(paths);
      progress(`${service.name} stopped`);
    }),
  );
  rmSync(endpointsFile(), { force: true });
}
