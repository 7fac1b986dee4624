/*
 * The fraud-velocity feature, written with the DataStream API: per customer, the count and the sum of
 * transaction amounts in 5-minute tumbling event-time windows. Records may arrive up to 30 s out of
 * order; a window still takes late records for 1 minute after it fired, and fires again for each.
 *
 *   const job = DataStream.fromSource<Txn>({ maxOutOfOrderness: '30s' })
 *     .keyBy('customer_id')
 *     .window(tumbling('5m'), { allowedLateness: '1m' })
 *     .aggregate([{ name: 'txn_count', fn: 'count' }, { name: 'txn_sum', fn: 'sum', field: 'amount' }]);
 *   const task = new Task(job.build(), { state, outputs: { result, late, deadLetter } });
 *   task.processRecord(txn, Date.parse(txn.timestamp));   // for each record of the partition
 *   task.endOfInput();                                    // a bounded input: every window fires
 *
 * The timeline below, all on 2024-01-01 (UTC); "wm" is the watermark after the record
 * (largest event time − 30 s − 1 ms). Window W0 = [00:00, 00:05) fires when wm reaches 00:04:59.999 and
 * is dropped when wm reaches 00:05:59.999; W1 = [00:05, 00:10) fires at 00:09:59.999 and is dropped at
 * 00:10:59.999; W2 = [00:10, 00:15).
 *
 *   #  customer  event time   amount  wm after      what happens
 *   1  c1        00:00:10     20      −00:00:20.001
 *   2  c2        00:01:00     50      00:00:29.999
 *   3  c1        00:02:30     30      00:01:59.999
 *   4  c1        00:02:00     5       00:01:59.999  out of order, within 30 s: counted in W0
 *   5  c2        00:04:50     100     00:04:19.999
 *   6  c1        00:05:10     40      00:04:39.999  W1
 *   7  c1        00:04:40     10      00:04:39.999  out of order, W0 has not fired: counted
 *   8  c3        00:05:35     60      00:05:04.999  W0 fires: c1 4 / 65, c2 2 / 150
 *   9  c2        00:04:30     25      00:05:04.999  late but allowed: W0 of c2 fires again, 3 / 175
 *  10  c1        00:07:00     15      00:06:29.999  W0 is dropped
 *  11  c2        00:06:00     "n/a"   00:06:29.999  amount is not a number: dead letter
 *  12  c1        00:03:00     999     00:06:29.999  too late for W0: late output, not counted
 *  13  c3        00:09:59.999 1       00:09:29.998  W1, its last millisecond
 *  14  c2        00:10:20     70      00:09:49.999  W2
 *  15  c3        00:10:30     5       00:09:59.999  W1 fires: c1 2 / 55, c3 2 / 61
 *  16  c1        00:09:00     2       00:09:59.999  late but allowed: W1 of c1 fires again, 3 / 57
 *      end of input                   +∞            W2 fires: c2 1 / 70, c3 1 / 5
 */
import { MemoryKeyedState } from '../state/keyed.js';
import { tumbling } from '../window/assigners.js';
import { DataStream } from './datastream.js';
import { Task } from './task.js';

interface Txn extends Record<string, unknown> {
  customer_id: string;
  amount: number | string;
  timestamp: string;
}

const day = '2024-01-01T';
const txn = (customer_id: string, time: string, amount: number | string): Txn => ({ customer_id, amount, timestamp: `${day}${time}Z` });

const transactions: Txn[] = [
  txn('c1', '00:00:10.000', 20),
  txn('c2', '00:01:00.000', 50),
  txn('c1', '00:02:30.000', 30),
  txn('c1', '00:02:00.000', 5),
  txn('c2', '00:04:50.000', 100),
  txn('c1', '00:05:10.000', 40),
  txn('c1', '00:04:40.000', 10),
  txn('c3', '00:05:35.000', 60),
  txn('c2', '00:04:30.000', 25),
  txn('c1', '00:07:00.000', 15),
  txn('c2', '00:06:00.000', 'n/a'),
  txn('c1', '00:03:00.000', 999),
  txn('c3', '00:09:59.999', 1),
  txn('c2', '00:10:20.000', 70),
  txn('c3', '00:10:30.000', 5),
  txn('c1', '00:09:00.000', 2),
];

const feature = (customer_id: string, start: string, end: string, txn_count: number, txn_sum: number) => ({
  result: {
    value: { customer_id, window_start: `${day}${start}Z`, window_end: `${day}${end}Z`, txn_count, txn_sum },
    timestamp: Date.parse(`${day}${end}Z`) - 1,
  },
});

describe('the fraud-velocity feature on the DataStream API', () => {
  it('emits each window on time, re-fires for late-but-allowed records, and sends the rest aside', () => {
    const job = DataStream.fromSource<Txn>({ maxOutOfOrderness: '30s' })
      .keyBy('customer_id')
      .window(tumbling('5m'), { allowedLateness: '1m' })
      .aggregate([
        { name: 'txn_count', fn: 'count' },
        { name: 'txn_sum', fn: 'sum', field: 'amount' },
      ]);

    const emitted: unknown[] = [];
    const task = new Task(job.build(), {
      state: () => new MemoryKeyedState(),
      outputs: {
        result: (record) => emitted.push({ result: record }),
        late: (record) => emitted.push({ late: record.value }),
        deadLetter: ({ reason, record }) => emitted.push({ deadLetter: reason, value: record.value }),
      },
    });
    for (const record of transactions) task.processRecord(record, Date.parse(record.timestamp));
    task.endOfInput();

    expect(emitted).toEqual([
      feature('c1', '00:00:00.000', '00:05:00.000', 4, 65),
      feature('c2', '00:00:00.000', '00:05:00.000', 2, 150),
      feature('c2', '00:00:00.000', '00:05:00.000', 3, 175),
      { deadLetter: 'window-1: aggregate txn_sum: amount is "n/a", not a number', value: transactions[10] },
      { late: transactions[11] },
      feature('c1', '00:05:00.000', '00:10:00.000', 2, 55),
      feature('c3', '00:05:00.000', '00:10:00.000', 2, 61),
      feature('c1', '00:05:00.000', '00:10:00.000', 3, 57),
      feature('c2', '00:10:00.000', '00:15:00.000', 1, 70),
      feature('c3', '00:10:00.000', '00:15:00.000', 1, 5),
    ]);
    expect(task.counts).toEqual({ recordsIn: 16, resultsOut: 8, late: 1, deadLettered: 1 });
    expect(task.watermark).toBe(Number.POSITIVE_INFINITY);
  });
});
