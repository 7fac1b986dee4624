// A HyperLogLog distinct-count sketch (2^14 registers, about 0.8 % standard error) over MurmurHash3.

/** MurmurHash3 x86 32-bit of `bytes` (Austin Appleby's reference algorithm). */
export function murmur3(bytes: Uint8Array, seed: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let hash = seed >>> 0;
  const blocks = bytes.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    hash ^= k;
    hash = (hash << 13) | (hash >>> 19);
    hash = (Math.imul(hash, 5) + 0xe6546b64) | 0;
  }
  const tail = bytes.length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2]! << 16;
    if (tail >= 2) k ^= bytes[blocks + 1]! << 8;
    k ^= bytes[blocks]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    hash ^= k;
  }
  hash ^= bytes.length;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

const PRECISION = 14;
const REGISTERS = 1 << PRECISION;
const ALPHA = 0.7213 / (1 + 1.079 / REGISTERS);
// Two differently seeded 32-bit hashes stand in for one 64-bit hash: one picks the register, the
// other gives the rank, so ranks do not run out before about 2^46 distinct values.
const INDEX_SEED = 0;
const RANK_SEED = 0x9747b28c;

export class HyperLogLog {
  readonly registers: Uint8Array;

  constructor(registers: Uint8Array = new Uint8Array(REGISTERS)) {
    if (registers.length !== REGISTERS) throw new RangeError(`a HyperLogLog has ${REGISTERS} registers, not ${registers.length}`);
    this.registers = registers;
  }

  add(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    const index = murmur3(bytes, INDEX_SEED) >>> (32 - PRECISION);
    const rank = Math.clz32(murmur3(bytes, RANK_SEED)) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  merge(other: HyperLogLog): void {
    for (let i = 0; i < REGISTERS; i++) {
      if (other.registers[i]! > this.registers[i]!) this.registers[i] = other.registers[i]!;
    }
  }

  /** The estimate, with linear counting while registers are still empty (Flajolet et al. 2007). */
  estimate(): number {
    let harmonic = 0;
    let empty = 0;
    for (const register of this.registers) {
      harmonic += 2 ** -register;
      if (register === 0) empty += 1;
    }
    const raw = (ALPHA * REGISTERS * REGISTERS) / harmonic;
    if (raw <= 2.5 * REGISTERS && empty > 0) return REGISTERS * Math.log(REGISTERS / empty);
    return raw;
  }

  toBase64(): string {
    return Buffer.from(this.registers).toString('base64');
  }

  static fromBase64(text: string): HyperLogLog {
    return new HyperLogLog(new Uint8Array(Buffer.from(text, 'base64')));
  }
}
