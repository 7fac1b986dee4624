// The servers the bench needs — Kafka, and Redis for the feature-store sink — from the running test environment, started when it is not up.
import { existsSync } from 'node:fs';
import { endpointsFile, readEndpoints } from '../../test/env/src/endpoints.js';
import { up } from '../../test/env/src/env.js';
import { tcpOpen } from '../../test/env/src/proc.js';
import type { Endpoints } from '../../test/env/src/service.js';

async function reachable(endpoints: Endpoints): Promise<boolean> {
  const [host, port] = endpoints.kafka.brokers[0]!.split(':');
  const redis = new URL(endpoints.redis.url);
  return (await tcpOpen(host!, Number(port))) && (await tcpOpen(redis.hostname, Number(redis.port)));
}

/** The endpoints of the test environment; `npm run env:up`'s `up()` starts it (or the servers that are down) first when needed. */
export async function benchEnvironment(log: (line: string) => void): Promise<Endpoints> {
  if (existsSync(endpointsFile())) {
    const endpoints = readEndpoints();
    if (await reachable(endpoints)) return endpoints;
    log('the test environment is not answering: starting it');
  } else {
    log('no test environment is running: starting it (npm run env:up)');
  }
  return up(log);
}
