import { MAX_REASON_BYTES } from '../connectors/sink.js';
import type { FetchedMessage } from './client.js';
import { messageBytes } from './message-size.js';
import { DEAD_LETTER_HEADERS, deadLetterMessage, decodeJson } from './records.js';

const message = (value: string | Buffer | null, rawHeaders: FetchedMessage['rawHeaders'] = {}): FetchedMessage => ({
  topic: 'transactions',
  partition: 2,
  offset: 41,
  key: Buffer.from([0xff, 0x00, 0x80]),
  value: typeof value === 'string' ? Buffer.from(value) : value,
  headers: {},
  rawHeaders,
  timestamp: 1_764_892_800_000,
});

const nested = (depth: number): string => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

describe('Kafka messages as engine records', () => {
  it('decodes a JSON object with its partition, offset and the message as it arrived', () => {
    const input = message('{"customer_id":"c1","amount":3}');
    expect(decodeJson(input)).toEqual({ ok: true, record: { value: { customer_id: 'c1', amount: 3 }, partition: 2, offset: 41, arrived: input } });
  });

  it.each([
    ['{"customer_id":', /transactions partition 2 offset 41: the value is not JSON/],
    ['[1]', /the value is an array, not a JSON object/],
    ['"text"', /the value is a string, not a JSON object/],
    ['null', /the value is null, not a JSON object/],
    [null, /has no value \(a tombstone\)/],
  ])('rejects %j with the reason', (value, reason) => {
    const decoded = decodeJson(message(value));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.rejected.reason).toMatch(reason);
      expect(decoded.rejected.raw.toString()).toBe(value ?? '');
    }
  });

  it('reads 64 levels of nesting and rejects 65, before parsing', () => {
    expect(decodeJson(message(nested(64))).ok).toBe(true);
    const deeper = decodeJson(message(nested(65)));
    expect(deeper.ok).toBe(false);
    if (!deeper.ok) expect(deeper.rejected.reason).toMatch(/more than 64 levels deep/);
    // Brackets inside strings, escaped quotes included, are text, not nesting.
    expect(decodeJson(message(JSON.stringify({ text: `\\"${'['.repeat(500)}` }))).ok).toBe(true);
  });

  it('rejects a record nested 6,000 deep with a reason, not a stack overflow', () => {
    const decoded = decodeJson(message(nested(6000)));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.rejected.reason).toMatch(/nests objects and arrays more than 64 levels/);
  });

  it('keeps a rejected binary message byte for byte', () => {
    const binary = Buffer.from([0x00, 0xc3, 0x28, 0xff, 0xfe, 0x7b]);
    const decoded = decodeJson(message(binary));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.rejected.raw.equals(binary)).toBe(true);
  });

  it('makes a dead letter of the input as it arrived: key, value and headers bytes, with the reason and origin in headers', () => {
    const binary = Buffer.from([0x00, 0xc3, 0x28, 0xff]);
    const trace = [Buffer.from([0xde, 0xad]), Buffer.from([0xbe, 0xef])];
    const letter = deadLetterMessage(
      'dlq',
      'the value is not JSON',
      { key: Buffer.from([0xff, 0x00]), value: binary, headers: { trace, [DEAD_LETTER_HEADERS.reason]: Buffer.from('forged') } },
      { topic: 'transactions', partition: 2, offset: 41, timestamp: 1_764_892_800_000 },
    );
    expect(letter).toEqual({
      topic: 'dlq',
      key: Buffer.from([0xff, 0x00]),
      value: binary,
      headers: {
        trace,
        [DEAD_LETTER_HEADERS.reason]: 'the value is not JSON',
        [DEAD_LETTER_HEADERS.topic]: 'transactions',
        [DEAD_LETTER_HEADERS.partition]: '2',
        [DEAD_LETTER_HEADERS.offset]: '41',
        [DEAD_LETTER_HEADERS.timestamp]: '1764892800000',
      },
    });
  });

  it('bounds the reason: a 1 MB value quoted in it leaves at most 1 KiB', () => {
    const letter = deadLetterMessage(
      'dlq',
      `the timestamp "${'9'.repeat(1 << 20)}" is not ISO-8601`,
      { key: null, value: '{}' },
      { topic: 'transactions', partition: 0 },
    );
    const reason = letter.headers![DEAD_LETTER_HEADERS.reason] as string;
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(reason).toMatch(/^the timestamp "9999.*reason cut at 1024 bytes\)$/);
  });

  it('cuts the value of a dead letter too large for its topic, and says so with the original sizes and the origin kept', () => {
    const limit = 100_000;
    const value = Buffer.alloc(600_000, 0x61);
    const letter = deadLetterMessage('dlq', 'too big', { key: Buffer.from('k1'), value }, { topic: 'transactions', partition: 1, offset: 7 }, limit);
    expect(messageBytes(letter)).toBeLessThanOrEqual(limit - 128);
    expect(messageBytes(letter)).toBeGreaterThan(limit - 512);
    expect((letter.value as Buffer).equals(value.subarray(0, (letter.value as Buffer).length))).toBe(true);
    expect(letter.key).toEqual(Buffer.from('k1'));
    expect(letter.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.truncated]: 'value',
      [DEAD_LETTER_HEADERS.valueBytes]: '600000',
      [DEAD_LETTER_HEADERS.keyBytes]: '2',
      [DEAD_LETTER_HEADERS.offset]: '7',
    });
  });
});
