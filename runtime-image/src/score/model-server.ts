// A small deterministic fraud model served over HTTP (node:http), for the score step's tests, the example and the bench.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Row = Record<string, unknown>;

/** The model: a score in [0, 1] that grows with the amount, so a test can compute every expected answer. */
export function fraudScore(amount: number): number {
  return Math.round(Math.min(1, Math.max(0, amount) / 5000) * 10_000) / 10_000;
}

export const MODEL_VERSION = 'velocity-v1';

/** A failure the server answers instead of a score. */
export interface ModelFailure {
  status: number;
  body: string;
}

export interface ModelServerOptions {
  /** Milliseconds to wait before answering a call (its body: one record, or an array of them). */
  delay?(body: unknown): number;
  /** An error answer for a call, or undefined to score it. */
  fail?(body: unknown): ModelFailure | undefined;
  /** A call that never answers (a hung model): the client's timeout is what ends it. */
  hang?(body: unknown): boolean;
}

export interface ModelServer {
  /** http://127.0.0.1:<port>/score */
  url: string;
  /** Bodies received, in arrival order. */
  calls: unknown[];
  /** Calls being answered now, and the most there were at once. */
  inFlight: number;
  maxInFlight: number;
  /** Calls wait until the gate opens (it starts open); closing it again holds the next ones. */
  closeGate(): void;
  openGate(): void;
  /** Resolves once `count` calls have arrived. */
  received(count: number): Promise<void>;
  close(): Promise<void>;
}

function answer(record: unknown): Row {
  const amount = typeof record === 'object' && record !== null ? (record as Row).amount : undefined;
  return { score: fraudScore(typeof amount === 'number' ? amount : 0), model: { version: MODEL_VERSION } };
}

/** Starts the model on port 0 of 127.0.0.1. POST a record → { score, model: { version } }; an array → an array of them. */
export async function startModelServer(options: ModelServerOptions = {}): Promise<ModelServer> {
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  const arrivals: { count: number; resolve: () => void }[] = [];
  const hung = new Set<ServerResponse>();
  const state = {
    calls: [] as unknown[],
    inFlight: 0,
    maxInFlight: 0,
  };
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    state.calls.push(body);
    for (const waiter of arrivals.filter(({ count }) => state.calls.length >= count)) waiter.resolve();
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      if (options.hang?.(body) === true) {
        hung.add(response);
        return;
      }
      await gate;
      const delay = options.delay?.(body) ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const failure = options.fail?.(body);
      if (failure !== undefined) {
        response.writeHead(failure.status, { 'content-type': 'text/plain' }).end(failure.body);
        return;
      }
      const scored = Array.isArray(body) ? body.map(answer) : answer(body);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(scored));
    } finally {
      state.inFlight -= 1;
    }
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => response.writeHead(500).end(error.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/score`,
    get calls() {
      return state.calls;
    },
    get inFlight() {
      return state.inFlight;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    closeGate() {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    openGate() {
      open();
    },
    received(count) {
      if (state.calls.length >= count) return Promise.resolve();
      return new Promise<void>((resolve) => arrivals.push({ count, resolve }));
    },
    async close() {
      open();
      for (const response of hung) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
