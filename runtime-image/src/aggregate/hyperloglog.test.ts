import { HyperLogLog, murmur3 } from './hyperloglog.js';

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (value: string) => new Uint8Array(Buffer.from(value, 'utf8'));

describe('murmur3', () => {
  // The published MurmurHash3_x86_32 test vectors.
  it.each([
    [bytes(), 0, 0x00000000],
    [bytes(), 1, 0x514e28b7],
    [bytes(), 0xffffffff, 0x81f16f39],
    [bytes(0xff, 0xff, 0xff, 0xff), 0, 0x76293b50],
    [bytes(0x21, 0x43, 0x65, 0x87), 0, 0xf55b516b],
    [bytes(0x21, 0x43, 0x65, 0x87), 0x5082edee, 0x2362f9de],
    [bytes(0x21, 0x43, 0x65), 0, 0x7e4a8634],
    [bytes(0x21, 0x43), 0, 0xa0f7b07a],
    [bytes(0x21), 0, 0x72661cf4],
    [bytes(0, 0, 0, 0), 0, 0x2362f9de],
    [bytes(0, 0, 0), 0, 0x85f0b427],
    [bytes(0, 0), 0, 0x30f4c306],
    [bytes(0), 0, 0x514e28b7],
    [text('aaaa'), 0x9747b28c, 0x5a97808a],
    [text('Hello, world!'), 0x9747b28c, 0x24884cba],
    [text('The quick brown fox jumps over the lazy dog'), 0x9747b28c, 0x2fa826cd],
  ])('hashes %j with seed %d to %d', (input, seed, expected) => {
    expect(murmur3(input, seed)).toBe(expected);
  });
});

describe('HyperLogLog', () => {
  const filled = (from: number, to: number) => {
    const sketch = new HyperLogLog();
    for (let i = from; i < to; i++) sketch.add(`customer-${i}`);
    return sketch;
  };

  it('is 0 when empty', () => {
    expect(new HyperLogLog().estimate()).toBe(0);
  });

  it('does not count a value twice', () => {
    const sketch = filled(0, 1);
    sketch.add('customer-0');
    expect(Math.round(sketch.estimate())).toBe(1);
  });

  // The standard error with 2^14 registers is 1.04 / √16384 ≈ 0.81 %; the bound is three of them.
  it.each([1_000, 20_000, 200_000])('estimates %d distinct values within 2.5 %', (n) => {
    expect(Math.abs(filled(0, n).estimate() - n) / n).toBeLessThan(0.025);
  });

  it('merges into the union', () => {
    const a = filled(0, 15_000);
    a.merge(filled(10_000, 25_000));
    expect(Math.abs(a.estimate() - 25_000) / 25_000).toBeLessThan(0.025);
  });

  it('survives base64 unchanged', () => {
    const sketch = filled(0, 5_000);
    expect(HyperLogLog.fromBase64(sketch.toBase64()).registers).toEqual(sketch.registers);
  });
});
