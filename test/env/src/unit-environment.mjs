// The unit project's jest environment: Node's, with connections to the test environment's servers refused at once and the test failed.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { TestEnvironment } from 'jest-environment-node';

// The ports env:up gives each server (kafka.ts, kube.ts, s3.ts, redis.ts, postgres.ts: the same variables and defaults).
const defaultPorts = {
  SLUICE_KAFKA_PORT: ['Kafka', 19092],
  SLUICE_APISERVER_PORT: ['the Kubernetes API server', 16443],
  SLUICE_S3_PORT: ['S3', 17070],
  SLUICE_REDIS_PORT: ['Redis', 16379],
  SLUICE_PG_PORT: ['PostgreSQL', 15432],
};
const loopback = new Set([undefined, '', 'localhost', '127.0.0.1', '::1', '0.0.0.0', '::']);

/** Port → server name: the defaults, their variables, and the ports a running environment's endpoints file names. */
function serverPorts() {
  const ports = new Map();
  for (const [variable, [name, port]] of Object.entries(defaultPorts)) ports.set(Number(process.env[variable] ?? port), name);
  const cache = process.env.SLUICE_CACHE ?? join(homedir(), '.cache', 'sluice');
  const file = process.env.SLUICE_ENDPOINTS ?? join(process.env.SLUICE_RUN ?? join(cache, 'run'), 'endpoints.json');
  if (existsSync(file)) {
    for (const [name, endpoint] of Object.entries(JSON.parse(readFileSync(file, 'utf8')))) {
      for (const address of [endpoint.server, endpoint.endpoint, endpoint.url, ...(endpoint.brokers ?? [])]) {
        const port = address && /:(\d+)(?:\/|$)/.exec(address.replace(/^[a-z]+:\/\/[^@/]*@/, ''))?.[1];
        if (port) ports.set(Number(port), name);
      }
    }
  }
  return ports;
}

/** Where `socket.connect(...)` goes, whichever of its call forms (net.connect passes its normalized arguments as one array). */
function target(args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first !== null && typeof first === 'object') return { port: Number(first.port), host: first.host };
  return { port: Number(first), host: typeof args[1] === 'string' ? args[1] : undefined };
}

export default class UnitEnvironment extends TestEnvironment {
  violations = [];
  reported = 0;

  async setup() {
    await super.setup();
    const ports = serverPorts();
    const violations = this.violations;
    const connect = net.Socket.prototype.connect;
    this.restore = () => {
      net.Socket.prototype.connect = connect;
    };
    net.Socket.prototype.connect = function connectUnlessServer(...args) {
      const { port, host } = target(args);
      if (!ports.has(port) || !loopback.has(host)) return connect.apply(this, args);
      const error = Object.assign(
        new Error(
          `a unit test tried to connect to ${ports.get(port)} (${host ?? 'localhost'}:${port}): unit tests (npm run test:unit) run without ` +
            'the servers. If this test needs them, import what it uses from test/env so test/classify-tests.mjs classes it as a server test',
        ),
        { code: 'ECONNREFUSED' },
      );
      violations.push(error);
      process.nextTick(() => this.destroy(error));
      return this;
    };
  }

  /** Fails the test during which a connection was refused, whatever the client made of the refusal. */
  handleTestEvent(event) {
    if (event.name === 'test_done' && this.violations.length > this.reported) {
      event.test.errors.push(...this.violations.slice(this.reported));
      this.reported = this.violations.length;
    }
  }

  async teardown() {
    this.restore?.();
    await super.teardown();
    // A connection outside any test (at import, in beforeAll) fails the file.
    if (this.violations.length > this.reported) throw this.violations[this.reported];
  }
}
