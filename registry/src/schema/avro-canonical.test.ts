// Avro's printed form: the same schema written in any key order or spacing prints alike, and nothing it says is lost.
import { avroCanonical } from './avro-canonical.js';

const print = (schema: unknown) => JSON.stringify(avroCanonical(schema as Parameters<typeof avroCanonical>[0]));

describe('the Avro printed form', () => {
  it('prints a bare primitive as its name and keeps one that carries a logical type', () => {
    expect(print({ type: 'string' })).toBe('"string"');
    expect(print({ logicalType: 'timestamp-millis', type: 'long' })).toBe('{"type":"long","logicalType":"timestamp-millis"}');
  });

  it('orders records, fields, enums and fixed as Avro does, custom attributes after, aliases last', () => {
    const written = {
      fields: [
        { default: 0, type: { type: 'int' }, name: 'count', aliases: ['n'], doc: 'how many' },
        { type: { symbols: ['A', 'B'], name: 'Tier', type: 'enum', default: 'A' }, name: 'tier' },
        { name: 'iban', type: { size: 34, type: 'fixed', name: 'Iban' } },
        { name: 'tags', type: { items: 'string', type: 'array' } },
      ],
      'x-owner': 'payments',
      aliases: ['Old'],
      name: 'Payment',
      type: 'record',
      namespace: 'bank',
    };
    expect(print(written)).toBe(
      '{"type":"record","name":"Payment","namespace":"bank","fields":[' +
        '{"name":"count","type":"int","doc":"how many","default":0,"aliases":["n"]},' +
        '{"name":"tier","type":{"type":"enum","name":"Tier","symbols":["A","B"],"default":"A"}},' +
        '{"name":"iban","type":{"type":"fixed","name":"Iban","size":34}},' +
        '{"name":"tags","type":{"type":"array","items":"string"}}],' +
        '"x-owner":"payments","aliases":["Old"]}',
    );
  });

  it('prints unions branch by branch', () => {
    expect(print(['null', { type: 'string' }])).toBe('["null","string"]');
  });
});
