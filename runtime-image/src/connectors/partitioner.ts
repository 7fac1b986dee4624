// Kafka's default partitioner (murmur2 of the key's UTF-8 bytes), so generated keys land where a Kafka producer would put them.

const M = 0x5bd1e995;
const SEED = 0x9747b28c;

/** Kafka's murmur2 (Java `Utils.murmur2`) of the first `length` bytes, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array, length = data.length): number {
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest >= 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[whole]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();
/** Reused for every key: encoding into it avoids an allocation per key on the generator's hot path. */
let scratch = new Uint8Array(256);

/** The partition Kafka's default partitioner gives a message with this key. */
export function partitionOf(key: string, partitions: number): number {
  if (scratch.length < key.length * 3) scratch = new Uint8Array(key.length * 3);
  const { written } = encoder.encodeInto(key, scratch);
  return (murmur2(scratch, written) & 0x7fffffff) % partitions;
}
