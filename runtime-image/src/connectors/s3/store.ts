// The objects of one bucket the lake sink reads and writes (@aws-sdk/client-s3, bounded like the snapshots' requests); every failure names the key and what to check.
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SluiceError } from '@sluice/crds/errors';
import { messageOf } from '../../error-message.js';
import { S3_TIMEOUTS, type S3Settings } from '../../snapshot/s3-storage.js';

export class LakeError extends SluiceError {
  override readonly code = 'SLUICE_E_S3_SINK';
}

/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;

export class LakeStore {
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #endpoint: string;

  constructor(bucket: string, settings: S3Settings = {}) {
    this.bucket = bucket;
    this.#endpoint = settings.endpoint ?? 'AWS S3';
    const { connectMs, idleMs, requestMs, attempts } = { ...S3_TIMEOUTS, ...settings.timeouts };
    this.#client = new S3Client({
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      region: settings.region ?? process.env.AWS_REGION ?? 'us-east-1',
      forcePathStyle: settings.forcePathStyle ?? false,
      // A copy: the SDK marks the credentials object it is given.
      ...(settings.credentials === undefined ? {} : { credentials: { ...settings.credentials } }),
      requestHandler: { connectionTimeout: connectMs, socketTimeout: idleMs, requestTimeout: requestMs, throwOnRequestTimeout: true },
      maxAttempts: attempts,
    });
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.#attempt('writing', key, () =>
      this.#client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: Buffer.byteLength(body) })),
    );
  }

  async get(key: string): Promise<string> {
    return this.#attempt('reading', key, async () => {
      const { Body } = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await Body?.transformToString('utf8')) ?? '';
    });
  }

  /** Every key under the prefix, sorted. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#attempt('listing', prefix, () =>
        this.#client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const { Key } of page.Contents ?? []) if (Key !== undefined) keys.push(Key);
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const { Errors } = await this.#attempt('deleting', batch[0]!, () =>
        this.#client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
      const failed = Errors?.[0];
      if (failed !== undefined) throw this.#failure('deleting', failed.Key ?? batch[0]!, `${failed.Code ?? ''} ${failed.Message ?? ''}`.trim());
    }
  }

  close(): void {
    this.#client.destroy();
  }

  async #attempt<T>(action: string, key: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw this.#failure(action, key, messageOf(error), error);
    }
  }

  #failure(action: string, key: string, message: string, cause?: unknown): LakeError {
    return new LakeError(
      `S3 sink: ${action} s3://${this.bucket}/${key} at ${this.#endpoint} failed: ${message}; check that the bucket exists, the credentials may read, write and delete in it, and the S3 server answers`,
      { cause, retriable: true },
    );
  }
}
