// A small seeded PRNG (sfc32, seeded through cyrb128): the same seed and stream name give the same numbers on every platform.

/** Hashes a string to 128 bits (cyrb128), the seed material of a generator. */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

const TWO_32 = 4294967296;
const BYTE_HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Independent streams of one seed have different names, so drawing more from one never shifts another. */
  constructor(seed: number | string, stream: string) {
    [this.a, this.b, this.c, this.d] = cyrb128(`${typeof seed}:${String(seed)}/${stream}`);
    for (let i = 0; i < 15; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / TWO_32;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Standard normal (Box–Muller); V8's Math.log, sqrt and cos are fdlibm ports, so results are the same everywhere. */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** `digits` (even) lowercase hex digits, one draw per 8. */
  hex(digits: number): string {
    let out = '';
    let word = 0;
    for (let i = 0; i < digits / 2; i++) {
      if (i % 4 === 0) word = this.uint32();
      out += BYTE_HEX[word & 0xff]!;
      word >>>= 8;
    }
    return out;
  }
}

/** A picker over weighted choices: cumulative weights, searched linearly (the lists here are short). */
export class Weighted<T> {
  private readonly items: readonly T[];
  private readonly cumulative: number[];

  constructor(choices: readonly (readonly [T, number])[]) {
    this.items = choices.map(([item]) => item);
    let total = 0;
    this.cumulative = choices.map(([, weight]) => (total += weight));
    this.cumulative = this.cumulative.map((c) => c / total);
  }

  pick(rng: Prng): T {
    const u = rng.next();
    for (let i = 0; i < this.cumulative.length - 1; i++) if (u < this.cumulative[i]!) return this.items[i]!;
    return this.items[this.items.length - 1]!;
  }
}
