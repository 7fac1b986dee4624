// The file one partition's state is dumped to: a magic line, then length-prefixed (operator, key, value) frames.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { StoreEntry } from '../state/store.js';
import { SnapshotError } from './errors.js';

/*
 * Layout: "SLUICE-STATE/1\n", then per entry
 *   [operatorId length: uint32 BE][operatorId UTF-8][key length: uint32 BE][key UTF-8][value length: uint32 BE][value]
 * The value is the stored bytes as they are (value-format.ts), so a dump and a restore never decode state.
 */
const MAGIC = Buffer.from('SLUICE-STATE/1\n', 'utf8');
const LENGTH = 4;
const CHUNK = 1 << 20;

/** What the manifest records of a state file, so a reader can tell a whole file from a damaged one. */
export interface StateFileSummary {
  bytes: number;
  sha256: string;
  entries: number;
}

/** Writes the entries to `file` in chunks; the (pinned) entries may be read while the job goes on. */
export async function writeStateFile(file: string, entries: Iterable<StoreEntry>): Promise<StateFileSummary> {
  const handle = await open(file, 'w');
  const hash = createHash('sha256');
  let bytes = 0;
  let count = 0;
  let chunk = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  const put = async (data: Buffer): Promise<void> => {
    hash.update(data);
    bytes += data.length;
    await handle.write(data);
  };
  try {
    await put(MAGIC);
    for (const { operatorId, key, value } of entries) {
      const size = 3 * LENGTH + Buffer.byteLength(operatorId, 'utf8') + Buffer.byteLength(key, 'utf8') + value.length;
      if (used + size > chunk.length) {
        await put(chunk.subarray(0, used));
        used = 0;
        if (size > chunk.length) chunk = Buffer.allocUnsafe(size);
      }
      for (const text of [operatorId, key]) {
        const length = chunk.write(text, used + LENGTH, 'utf8');
        chunk.writeUInt32BE(length, used);
        used += LENGTH + length;
      }
      chunk.writeUInt32BE(value.length, used);
      value.copy(chunk, used + LENGTH);
      used += LENGTH + value.length;
      count++;
    }
    await put(chunk.subarray(0, used));
  } finally {
    await handle.close();
  }
  return { bytes, sha256: hash.digest('hex'), entries: count };
}

function damaged(where: string, what: string): SnapshotError {
  return new SnapshotError('SLUICE_E_SNAPSHOT_DAMAGED', `the state file ${where} is damaged (${what}); restore from another snapshot`);
}

/**
 * Reads the entries of a state file as its bytes arrive, and checks it against its summary at the
 * end: a damaged file fails after some entries were yielded, so a caller undoes what it applied.
 */
export async function* readStateFile(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, expected: StateFileSummary, where: string): AsyncGenerator<StoreEntry> {
  const hash = createHash('sha256');
  let bytes = 0;
  let count = 0;
  // Chunks wait in a queue until the next frame is complete, so a large value is joined once, not once per chunk.
  let queue: Buffer[] = [];
  let queued = 0;
  let needed = MAGIC.length;
  let magicSeen = false;
  for await (const chunk of chunks) {
    hash.update(chunk);
    bytes += chunk.length;
    queue.push(chunk);
    queued += chunk.length;
    if (queued < needed) continue;
    let data = queue.length === 1 ? (queue[0] as Buffer) : Buffer.concat(queue, queued);
    if (!magicSeen) {
      if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw damaged(where, 'it does not start with the state file header');
      magicSeen = true;
      data = data.subarray(MAGIC.length);
    }
    let at = 0;
    for (;;) {
      const frame = parseFrame(data, at);
      if ('needed' in frame) {
        needed = frame.needed;
        break;
      }
      at = frame.end;
      count++;
      yield frame.entry;
    }
    const rest = data.subarray(at);
    queue = rest.length === 0 ? [] : [rest];
    queued = rest.length;
  }
  if (!magicSeen || queued > 0) throw damaged(where, 'it ends in the middle of an entry');
  const sha256 = hash.digest('hex');
  if (bytes !== expected.bytes || sha256 !== expected.sha256 || count !== expected.entries) {
    throw damaged(
      where,
      `${bytes} bytes, ${count} entries, sha256 ${sha256}; the manifest says ${expected.bytes} bytes, ${expected.entries} entries, sha256 ${expected.sha256}`,
    );
  }
}

/** The frame starting at `at`, or how many bytes from `at` must be there before it can be read further. */
function parseFrame(data: Buffer, at: number): { entry: StoreEntry; end: number } | { needed: number } {
  const parts: Buffer[] = [];
  let position = at;
  for (let field = 0; field < 3; field++) {
    if (position + LENGTH > data.length) return { needed: position + LENGTH - at };
    const length = data.readUInt32BE(position);
    if (position + LENGTH + length > data.length) return { needed: position + LENGTH + length - at };
    parts.push(data.subarray(position + LENGTH, position + LENGTH + length));
    position += LENGTH + length;
  }
  const [operatorId, key, value] = parts as [Buffer, Buffer, Buffer];
  // A copy: the chunk it came from may be large and is otherwise garbage once parsed.
  return { entry: { operatorId: operatorId.toString('utf8'), key: key.toString('utf8'), value: Buffer.from(value) }, end: position };
}
