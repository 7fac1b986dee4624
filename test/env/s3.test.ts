// The test environment's S3 server: what checkpoints and the data-lake sink need, through @aws-sdk/client-s3 as the engine uses it.
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { readEndpoints } from './src/endpoints.js';

const { endpoint, region, accessKeyId, secretAccessKey, forcePathStyle } = readEndpoints().s3;
// The SDK's default flexible checksums (CRC32, sent as aws-chunked trailers) stay on: the server must accept what the engine sends.
const client = new S3Client({ endpoint, region, forcePathStyle, credentials: { accessKeyId, secretAccessKey } });
const bucket = `s3-test-${randomBytes(4).toString('hex')}`;
const MiB = 1024 * 1024;

async function get(key: string): Promise<Buffer> {
  const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (Body === undefined) throw new Error(`GetObject ${key} returned no body`);
  return Buffer.from(await Body.transformToByteArray());
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function keys(prefix: string): Promise<string[]> {
  const { Contents } = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (Contents ?? []).map(({ Key }) => Key ?? '').sort();
}

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  // Empties the bucket even when a test failed half way, so the server's folder does not fill up between runs.
  const { Uploads } = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  for (const { Key, UploadId } of Uploads ?? []) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId }));
  for (const key of await keys('')) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  client.destroy();
});

describe('the S3 server', () => {
  test('puts an object, gets it back byte for byte and lists it', async () => {
    const data = randomBytes(64 * 1024 + 7);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'small/one.bin', Body: data }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'small/two.json', Body: '{"a":1}', ContentType: 'application/json' }));

    expect(sha256(await get('small/one.bin'))).toBe(sha256(data));
    expect((await get('small/two.json')).toString()).toBe('{"a":1}');
    expect(await keys('small/')).toEqual(['small/one.bin', 'small/two.json']);
  });

  test('assembles a multipart upload of more than 5 MiB', async () => {
    const key = 'large/checkpoint.bin';
    const data = randomBytes(6 * MiB + 123);
    // Every part but the last must be at least 5 MiB.
    const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB)];
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const uploaded = [];
    for (const [index, body] of parts.entries()) {
      const PartNumber = index + 1;
      const { ETag } = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body: body }));
      uploaded.push({ PartNumber, ETag });
    }
    await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: uploaded } }));

    const received = await get(key);
    expect(received.length).toBe(data.length);
    expect(sha256(received)).toBe(sha256(data));
  });

  test('deletes objects and the bucket', async () => {
    const other = `${bucket}-gone`;
    await client.send(new CreateBucketCommand({ Bucket: other }));
    await client.send(new PutObjectCommand({ Bucket: other, Key: 'x', Body: 'x' }));
    await client.send(new DeleteObjectCommand({ Bucket: other, Key: 'x' }));
    await client.send(new DeleteBucketCommand({ Bucket: other }));

    await expect(client.send(new HeadBucketCommand({ Bucket: other }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });
});
