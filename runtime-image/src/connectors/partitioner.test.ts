// Kafka's partitioner: the Java test vectors and kafkajs's own default partitioner agree with ours.
import { Partitioners } from 'kafkajs';
import { murmur2, partitionOf } from './partitioner.js';

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

test('murmur2 matches the vectors of Kafka’s UtilsTest', () => {
  expect(murmur2(encode('21'))).toBe(-973932308);
  expect(murmur2(encode('foobar'))).toBe(-790332482);
  expect(murmur2(encode('a-little-bit-long-string'))).toBe(-985981536);
  expect(murmur2(encode('a-little-bit-longer-string'))).toBe(-1486304829);
  expect(murmur2(encode('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
  expect(murmur2(encode('abc'))).toBe(479470107);
});

test('partitionOf agrees with kafkajs’s DefaultPartitioner', () => {
  const kafkajs = Partitioners.DefaultPartitioner();
  for (const partitions of [1, 3, 6, 32]) {
    const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      partitionErrorCode: 0,
      leader: 0,
      replicas: [0],
      isr: [0],
      offlineReplicas: [],
    }));
    for (let i = 0; i < 500; i++) {
      const key = i % 7 === 0 ? `ünïcode-${i}` : `C${i}`;
      const expected = kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } });
      expect(partitionOf(key, partitions)).toBe(expected);
    }
  }
});
