import type { FetchedMessage } from './client.js';
import { DEAD_LETTER_HEADERS, deadLetterMessage, decodeJson } from './records.js';

const message = (value: string | null): FetchedMessage => ({ topic: 'transactions', partition: 2, offset: 41, key: null, value: value === null ? null : Buffer.from(value), headers: {}, timestamp: 0 });

describe('Kafka messages as engine records', () => {
  it('decodes a JSON object with its partition and offset', () => {
    expect(decodeJson(message('{"customer_id":"c1","amount":3}'))).toEqual({ ok: true, record: { value: { customer_id: 'c1', amount: 3 }, partition: 2, offset: 41 } });
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
      expect(decoded.rejected.raw).toBe(value ?? '');
    }
  });

  it('puts the reason and the origin of a dead letter in its headers', () => {
    expect(deadLetterMessage('dlq', 'the value is not JSON', '{x', { topic: 'transactions', partition: 2, offset: 41 })).toEqual({
      topic: 'dlq',
      key: null,
      value: '{x',
      headers: { [DEAD_LETTER_HEADERS.reason]: 'the value is not JSON', [DEAD_LETTER_HEADERS.topic]: 'transactions', [DEAD_LETTER_HEADERS.partition]: '2', [DEAD_LETTER_HEADERS.offset]: '41' },
    });
  });
});
