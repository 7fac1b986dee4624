// Snapshot storage under an S3 prefix (@aws-sdk/client-s3 v3): any S3-compatible server, path-style where it needs it.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { messageOf } from '../error-message.js';
import { SnapshotError } from './errors.js';
import { formatLocation } from './location.js';
import type { SnapshotStorage, StoredObject } from './storage.js';

/** How to reach S3; what is absent comes from the SDK's defaults (AWS_* environment, instance roles). */
export interface S3Settings {
  endpoint?: string;
  region?: string;
  /** Address buckets as endpoint/bucket, which most S3-compatible servers need. */
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** How long an S3 request may wait, and how often it is tried; S3_TIMEOUTS where absent. */
  timeouts?: Partial<S3Timeouts>;
}

/**
 * Bounds on every S3 request, so a hung server fails a snapshot instead of holding it for ever. A frozen server
 * (a stopped process, a black-holed route) still accepts TCP connections and then says nothing: the idle bound is
 * what ends such a request, the total bound ends one that trickles.
 */
export interface S3Timeouts {
  /** Until the TCP connection is open. */
  connectMs: number;
  /** Without a byte sent or received on the connection. */
  idleMs: number;
  /** For the whole request, body included: generous, since a part is up to 16 MiB. */
  requestMs: number;
  /** Tries of one request, the first included, with the SDK's jittered backoff in between. */
  attempts: number;
}

export const S3_TIMEOUTS: S3Timeouts = { connectMs: 5_000, idleMs: 30_000, requestMs: 300_000, attempts: 3 };

/** Parts of a multipart upload: S3's minimum is 5 MiB; larger parts mean fewer requests for big state files. */
const PART_BYTES = 16 * 1024 * 1024;
/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;

export class S3SnapshotStorage implements SnapshotStorage {
  readonly location: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #endpoint: string;
  readonly #timeouts: S3Timeouts;

  constructor(bucket: string, prefix: string, settings: S3Settings = {}) {
    this.#bucket = bucket;
    this.#prefix = prefix;
    this.location = formatLocation({ scheme: 's3', bucket, prefix });
    this.#endpoint = settings.endpoint ?? 'AWS S3';
    this.#timeouts = { ...S3_TIMEOUTS, ...settings.timeouts };
    const { connectMs, idleMs, requestMs, attempts } = this.#timeouts;
    this.#client = new S3Client({
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      region: settings.region ?? process.env.AWS_REGION ?? 'us-east-1',
      forcePathStyle: settings.forcePathStyle ?? false,
      // A copy: the SDK marks the credentials object it is given.
      ...(settings.credentials === undefined ? {} : { credentials: { ...settings.credentials } }),
      // Without these the SDK waits for an answer for ever; the SDK retries a timed-out request like a throttled one.
      requestHandler: { connectionTimeout: connectMs, socketTimeout: idleMs, requestTimeout: requestMs, throwOnRequestTimeout: true },
      maxAttempts: attempts,
    });
  }

  #key(path: string): string {
    const clean = path
      .split('/')
      .filter((part) => part !== '')
      .join('/');
    return this.#prefix === '' ? clean : clean === '' ? this.#prefix : `${this.#prefix}/${clean}`;
  }

  /** The key prefix of a folder: its key and a slash, or '' for the bucket's root. */
  #folder(path: string): string {
    const key = this.#key(path);
    return key === '' ? '' : `${key}/`;
  }

  #failure(action: string, path: string, err: unknown): SnapshotError {
    const message = messageOf(err);
    if (isTimeout(err)) {
      const { connectMs, idleMs, attempts } = this.#timeouts;
      return new SnapshotError(
        'SLUICE_E_SNAPSHOT_S3_TIMEOUT',
        `${action} s3://${this.#bucket}/${this.#key(path)} at ${this.#endpoint} timed out ${attempts} times (no connection within ${connectMs} ms or no answer within ${idleMs} ms: ${message}); check that the S3 server answers and the network path to it is open`,
        { cause: err },
      );
    }
    return new SnapshotError(
      'SLUICE_E_SNAPSHOT_S3',
      `${action} s3://${this.#bucket}/${this.#key(path)} at ${this.#endpoint} failed: ${message}; check the bucket exists and the credentials may read and write it`,
      { cause: err },
    );
  }

  async write(path: string, body: Buffer): Promise<void> {
    try {
      await this.#client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: this.#key(path), Body: body, ContentLength: body.length }));
    } catch (err) {
      throw this.#failure('writing', path, err);
    }
  }

  async upload(path: string, file: string): Promise<void> {
    try {
      // One PutObject below a part's size, a multipart upload above: a state file can exceed PutObject's 5 GiB.
      await new Upload({
        client: this.#client,
        params: { Bucket: this.#bucket, Key: this.#key(path), Body: createReadStream(file) },
        partSize: PART_BYTES,
        queueSize: 2,
      }).done();
    } catch (err) {
      throw this.#failure('uploading', path, err);
    }
  }

  async read(path: string): Promise<Buffer | undefined> {
    try {
      const { Body } = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(path) }));
      return Body === undefined ? Buffer.alloc(0) : Buffer.from(await Body.transformToByteArray());
    } catch (err) {
      if (err instanceof NoSuchKey) return undefined;
      throw this.#failure('reading', path, err);
    }
  }

  async stream(path: string): Promise<AsyncIterable<Buffer>> {
    try {
      const { Body } = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(path) }));
      if (Body === undefined) throw new Error('the response has no body');
      // In Node.js the SDK's body is a Readable (an http.IncomingMessage).
      return Body as Readable;
    } catch (err) {
      throw this.#failure('reading', path, err);
    }
  }

  async #pages(prefix: string, delimiter: boolean, path: string): Promise<ListObjectsV2CommandOutput[]> {
    const pages: ListObjectsV2CommandOutput[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.#client.send(
          new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, ContinuationToken: token, ...(delimiter ? { Delimiter: '/' } : {}) }),
        );
        pages.push(page);
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (err) {
      throw this.#failure('listing', path, err);
    }
    return pages;
  }

  async folders(path: string): Promise<string[]> {
    const prefix = this.#folder(path);
    const pages = await this.#pages(prefix, true, path);
    return pages
      .flatMap((page) => (page.CommonPrefixes ?? []).map(({ Prefix }) => (Prefix ?? '').slice(prefix.length).replace(/\/$/, '')))
      .filter((name) => name !== '');
  }

  async list(path: string): Promise<StoredObject[]> {
    const root = this.#folder('');
    const pages = await this.#pages(this.#folder(path), false, path);
    return pages.flatMap((page) =>
      (page.Contents ?? []).map(({ Key, Size, LastModified }) => ({
        path: (Key ?? '').slice(root.length),
        bytes: Size ?? 0,
        modifiedAt: LastModified ?? new Date(0),
      })),
    );
  }

  async delete(path: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(path) }));
    } catch (err) {
      throw this.#failure('deleting', path, err);
    }
  }

  async deleteAll(path: string): Promise<void> {
    const keys = (await this.list(path)).map((object) => this.#key(object.path));
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const chunk = keys.slice(i, i + DELETE_BATCH);
      try {
        const { Errors } = await this.#client.send(
          new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
        );
        const first = Errors?.[0];
        if (first !== undefined) throw new Error(`${Errors?.length} objects were not deleted, the first ${first.Key}: ${first.Code} ${first.Message}`);
      } catch (err) {
        throw this.#failure('deleting under', path, err);
      }
    }
  }

  close(): void {
    this.#client.destroy();
  }
}

/** A request that got no answer in time: the handler's connect, idle or total bound ran out. */
function isTimeout(err: unknown): boolean {
  const { name, code } = err as { name?: string; code?: string };
  return name === 'TimeoutError' || code === 'ETIMEDOUT';
}
