// A table topic's messages as table changes: a JSON object is a row, no value is a tombstone, anything else is refused with the reason.
import type { FetchedMessage } from './client.js';
import { tableChangeOf } from './table-reader.js';

const message = (key: string | null, value: string | null): FetchedMessage => ({
  topic: 'customers',
  partition: 2,
  offset: 7,
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  headers: {},
  rawHeaders: {},
  timestamp: 0,
});

describe('a table message', () => {
  it.each<[string, FetchedMessage, unknown]>([
    ['a JSON object is the row under the message key', message('C1', '{"tier":"gold"}'), { partition: 2, offset: 7, key: 'C1', value: { tier: 'gold' } }],
    ['no value is a tombstone', message('C1', null), { partition: 2, offset: 7, key: 'C1', value: null }],
    [
      'no key is kept as null (the join refuses it unless rightKey keys the row)',
      message(null, '{"id":1}'),
      { partition: 2, offset: 7, key: null, value: { id: 1 } },
    ],
    [
      'a JSON array is refused',
      message('C1', '[1]'),
      { reason: 'table customers: [1] is not a JSON object; a table message is a JSON object, or no value (a tombstone) to delete its key' },
    ],
    [
      'text that is not JSON is refused',
      message('C1', 'gold'),
      {
        reason: expect.stringMatching(
          /^table customers: not valid JSON \(.*\); a table message is a JSON object, or no value \(a tombstone\) to delete its key$/,
        ) as unknown,
      },
    ],
  ])('%s', (_name, fetched, expected) => {
    expect(tableChangeOf(fetched)).toEqual(expected);
  });
});
