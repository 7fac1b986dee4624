// One request to one Kafka broker over a socket of our own (plain or TLS), signed in with SASL PLAIN or SCRAM first when the Kafka Secret says so: for the APIs kafkajs does not speak.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { SluiceError } from '../errors.js';
import type { KafkaConnectionOptions, KafkaSasl } from './index.js';

const saslHandshakeKey = 17;
const saslAuthenticateKey = 36;
const clientId = Buffer.from('sluice');

/** A sign-in the broker refused; explainKafkaError turns it, as kafkajs's own, into one naming the user and listener. */
export class BrokerSaslError extends SluiceError {
  readonly code = 'SLUICE_E_KAFKA_SASL';
}

/** A request with header v1 (api key, version, correlation id, client id), as SaslHandshake and SaslAuthenticate v1 take. */
function requestV1(apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(10);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  const all = Buffer.concat([header, clientId, body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(all.length);
  return Buffer.concat([size, all]);
}

function kafkaString(text: string): Buffer {
  const bytes = Buffer.from(text);
  const length = Buffer.alloc(2);
  length.writeInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function kafkaBytes(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** A connection that sends framed requests and hands back each response (after its size prefix) in order. */
class BrokerConnection {
  #pending = Buffer.alloc(0);
  readonly #waiting: { resolve: (response: Buffer) => void; reject: (error: Error) => void }[] = [];
  #failed: Error | undefined;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#pending = Buffer.concat([this.#pending, chunk]);
      while (this.#pending.length >= 4 && this.#pending.length >= 4 + this.#pending.readInt32BE(0)) {
        const size = this.#pending.readInt32BE(0);
        const response = this.#pending.subarray(4, 4 + size);
        this.#pending = this.#pending.subarray(4 + size);
        this.#waiting.shift()?.resolve(response);
      }
    });
    const fail = (error: Error): void => {
      this.#failed = error;
      for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
    };
    socket.once('error', fail);
    socket.once('close', () => fail(new Error('the broker closed the connection')));
  }

  send(request: Buffer): Promise<Buffer> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function open(broker: string, connection: KafkaConnectionOptions, timeoutMs: number): Promise<BrokerConnection> {
  const colon = broker.lastIndexOf(':');
  const host = broker.slice(0, colon);
  const port = Number(broker.slice(colon + 1));
  return new Promise((resolve, reject) => {
    const ssl = connection.ssl === true ? {} : connection.ssl;
    const socket: Socket =
      ssl === undefined
        ? new Socket().connect(port, host, () => resolve(new BrokerConnection(socket)))
        : tlsConnect({ host, port, ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }), ...ssl }, () => resolve(new BrokerConnection(socket)));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`a request to ${broker} timed out after ${timeoutMs} ms`)));
    socket.once('error', reject);
  });
}

/** SaslAuthenticate v1's answer: error code, error message, the server's bytes. */
function authenticateAnswer(response: Buffer): { error: number; message: string | null; bytes: Buffer } {
  let offset = 4; // correlation id
  const error = response.readInt16BE(offset);
  offset += 2;
  const messageLength = response.readInt16BE(offset);
  offset += 2;
  const message = messageLength < 0 ? null : response.toString('utf8', offset, offset + messageLength);
  offset += Math.max(0, messageLength);
  const length = response.readInt32BE(offset);
  offset += 4;
  return { error, message, bytes: response.subarray(offset, offset + Math.max(0, length)) };
}

/** The `saslname` of RFC 5802: ',' and '=' escaped. */
const scramName = (name: string): string => name.replace(/=/g, '=3D').replace(/,/g, '=2C');

/** The SCRAM exchange of RFC 5802 as the broker runs it: client-first, server-first, client-final with the proof, server-final. */
async function scram(sasl: KafkaSasl, digest: 'sha256' | 'sha512', authenticate: (bytes: Buffer) => Promise<Buffer>): Promise<void> {
  const nonce = randomBytes(24).toString('base64');
  const clientFirstBare = `n=${scramName(sasl.username)},r=${nonce}`;
  const serverFirst = (await authenticate(Buffer.from(`n,,${clientFirstBare}`))).toString('utf8');
  const fields = new Map(serverFirst.split(',').map((field) => [field.slice(0, 1), field.slice(2)]));
  const serverNonce = fields.get('r') ?? '';
  if (!serverNonce.startsWith(nonce)) throw new BrokerSaslError(`the broker's SCRAM nonce does not extend ours`);
  const salted = pbkdf2Sync(sasl.password, Buffer.from(fields.get('s') ?? '', 'base64'), Number(fields.get('i')), digest === 'sha256' ? 32 : 64, digest);
  const clientKey = createHmac(digest, salted).update('Client Key').digest();
  const storedKey = createHash(digest).update(clientKey).digest();
  const clientFinalWithoutProof = `c=biws,r=${serverNonce}`;
  const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
  const signature = createHmac(digest, storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((byte, index) => byte ^ signature[index]!));
  await authenticate(Buffer.from(`${clientFinalWithoutProof},p=${proof.toString('base64')}`));
}

async function signIn(socket: BrokerConnection, sasl: KafkaSasl, nextId: () => number): Promise<void> {
  const mechanism = sasl.mechanism.toUpperCase();
  const handshake = await socket.send(requestV1(saslHandshakeKey, 1, nextId(), kafkaString(mechanism)));
  if (handshake.readInt16BE(4) !== 0) throw new BrokerSaslError(`the broker does not take SASL ${mechanism} on this listener`);
  const authenticate = async (bytes: Buffer): Promise<Buffer> => {
    const answer = authenticateAnswer(await socket.send(requestV1(saslAuthenticateKey, 1, nextId(), kafkaBytes(bytes))));
    if (answer.error !== 0) throw new BrokerSaslError(answer.message ?? `SASL ${mechanism} sign-in refused (error ${answer.error})`);
    return answer.bytes;
  };
  if (sasl.mechanism === 'plain') await authenticate(Buffer.from(`\u0000${sasl.username}\u0000${sasl.password}`));
  else await scram(sasl, sasl.mechanism === 'scram-sha-256' ? 'sha256' : 'sha512', authenticate);
}

/** Sends `request(correlationId)` to `broker` on a connection of its own (signed in first when SASL is set) and returns the response after its size prefix. */
export async function brokerRequest(
  broker: string,
  connection: KafkaConnectionOptions,
  timeoutMs: number,
  request: (correlationId: number) => Buffer,
): Promise<Buffer> {
  let correlationId = 0;
  const nextId = (): number => ++correlationId;
  const socket = await open(broker, connection, timeoutMs);
  try {
    if (connection.sasl !== undefined) await signIn(socket, connection.sasl, nextId);
    return await socket.send(request(nextId()));
  } finally {
    socket.close();
  }
}
