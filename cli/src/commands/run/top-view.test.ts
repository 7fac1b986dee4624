// streamctl run --top: the table of a window's top keys, redrawn in place on a terminal at most 4 times a second, a log line otherwise, and the summary.
import { Writable } from 'node:stream';
import type { SinkRecord } from '@sluice/runtime';
import { frame, KeptDeadLetters, summaryLines, topColumnsOf, TopView, WindowLeaders, type Progress } from './top-view.js';

const columns = { key: 'customer_id', rankBy: 'txn_count', aggregates: ['txn_count', 'txn_sum'] };

function result(customer: string, count: number, start = '2026-12-07T10:00:00.000Z', end = '2026-12-07T10:05:00.000Z'): SinkRecord {
  return { value: { customer_id: customer, window_start: start, window_end: end, txn_count: count, txn_sum: count * 10 }, timestamp: Date.parse(end) - 1 };
}

/** Ten ordinary customers with 10–14 payments, and C99 with 90. */
function windowWithOneFraudster(leaders: WindowLeaders, start?: string, end?: string): void {
  for (let i = 0; i < 10; i++) leaders.write(result(`C${i}`, 10 + (i % 5), start, end));
  leaders.write(result('C99', 90, start, end));
}

const progress: Progress = {
  job: 'fraud-velocity',
  counts: { recordsIn: 123_456, resultsOut: 11, late: 2, deadLettered: 1 },
  eventsPerSecond: 2000,
  watermark: Date.parse('2026-12-07T10:05:30.000Z'),
};

class Screen extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

test('the columns come from the spec: the keyBy field, the window aggregates, ranked by the count', () => {
  const spec = {
    pipeline: [
      { keyBy: { field: 'customer_id' } },
      {
        window: { type: 'tumbling', size: '5m' },
        aggregate: [
          { name: 'txn_sum', fn: 'sum', field: 'amount' },
          { name: 'txn_count', fn: 'count' },
        ],
      },
    ],
  };
  expect(topColumnsOf(spec)).toEqual({ key: 'customer_id', rankBy: 'txn_count', aggregates: ['txn_sum', 'txn_count'] });
  expect(topColumnsOf({ pipeline: [{ filter: 'true' }] })).toBeUndefined();
});

test('the table ranks the newest window by count and marks a count 5× the median as suspicious', () => {
  const leaders = new WindowLeaders(columns);
  windowWithOneFraudster(leaders);
  const lines = frame(leaders, progress, 3);
  expect(lines[0]).toBe('fraud-velocity · 2,000 events/s · 123,456 events · watermark 2026-12-07 10:05:30Z · 2 late · 1 dead-lettered');
  expect(lines[1]).toBe('window 2026-12-07 10:00–10:05 (newest of 1 closed) · 11 customer_id values · median txn_count 12');
  expect(lines.slice(2)).toEqual([
    '#  customer_id  txn_count  txn_sum  × median',
    '1  C99                 90   900.00  7.5  ◀ suspicious',
    '2  C4                  14   140.00  1.2',
    '3  C9                  14   140.00  1.2',
  ]);
});

test('before any window closes, the table says why it is empty', () => {
  expect(frame(new WindowLeaders(columns), progress, 5)[1]).toBe('no window has closed yet: a window closes once the watermark passes its end');
});

test('on a terminal the table is redrawn in place, at most every 250 ms', () => {
  let now = 0;
  const screen = new Screen(true);
  const leaders = new WindowLeaders(columns);
  const view = new TopView(screen, leaders, 3, () => now);
  view.show(progress);
  const first = screen.text;
  // The first frame moves nothing back; each line clears what an earlier, longer line left.
  expect(first).toBe(`${frame(leaders, progress, 3).join('\x1b[K\n')}\x1b[K\n`);
  now = 100;
  view.show(progress);
  expect(screen.text).toBe(first);
  now = 260;
  windowWithOneFraudster(leaders);
  view.show(progress);
  // Back up over the 2 lines drawn, clear to the end of the screen, draw the 6 lines of the new frame.
  expect(screen.text.slice(first.length).startsWith('\x1b[2F\x1b[J')).toBe(true);
  expect(screen.text).toContain('C99');
});

test('on a narrow terminal each line is cut to its width, so a redraw backs up over exactly the rows it drew', () => {
  const screen = Object.assign(new Screen(true), { columns: 40 });
  const leaders = new WindowLeaders(columns);
  windowWithOneFraudster(leaders);
  new TopView(screen, leaders, 3, () => 0).show(progress);
  const rows = screen.text
    .split('\n')
    .slice(0, -1)
    .map((row) => row.replace('\x1b[K', ''));
  expect(rows).toHaveLength(6);
  for (const row of rows) expect(row.length).toBeLessThan(40);
  expect(rows[0]).toBe('fraud-velocity · 2,000 events/s · 123,4');
});

test('a terminal that reports no width (0 columns, as some pseudo-terminals do) gets whole lines', () => {
  const screen = Object.assign(new Screen(true), { columns: 0 });
  const leaders = new WindowLeaders(columns);
  windowWithOneFraudster(leaders);
  new TopView(screen, leaders, 3, () => 0).show(progress);
  expect(screen.text).toBe(`${frame(leaders, progress, 3).join('\x1b[K\n')}\x1b[K\n`);
});

test('when stdout is not a terminal: a plain line every 5 s, no escape codes', () => {
  let now = 0;
  const log = new Screen(false);
  const leaders = new WindowLeaders(columns);
  windowWithOneFraudster(leaders);
  const view = new TopView(log, leaders, 10, () => now);
  view.show(progress);
  expect(log.text).toBe('');
  now = 5_000;
  view.show(progress);
  now = 6_000;
  view.show(progress);
  expect(log.text).toBe(
    'fraud-velocity: window 2026-12-07 10:00–10:05 top txn_count C99=90 C4=14 C9=14 (median 12) · 2,000 events/s · watermark 2026-12-07 10:05:30Z · 2 late · 1 dead-lettered\n',
  );
  expect(log.text).not.toContain('\x1b');
});

test('the summary names every key that stood out in any window, most extreme first, and the dead letters', async () => {
  const leaders = new WindowLeaders(columns);
  windowWithOneFraudster(leaders, '2026-12-07T10:00:00.000Z', '2026-12-07T10:05:00.000Z');
  for (let minute = 5; minute <= 20; minute += 5) {
    const start = `2026-12-07T10:${String(minute).padStart(2, '0')}:00.000Z`;
    const end = `2026-12-07T10:${String(minute + 5).padStart(2, '0')}:00.000Z`;
    for (let i = 0; i < 10; i++) leaders.write(result(`C${i}`, 12, start, end));
    leaders.write(result('C77', minute === 15 ? 120 : 12, start, end));
  }
  const deadLetters = new KeptDeadLetters(2);
  for (const reason of ['amount is not a number', 'no timestamp', 'no customer_id']) deadLetters.write({ value: { reason }, timestamp: 0 });
  await leaders.close();
  expect(summaryLines(leaders, { count: 3, reasons: deadLetters.reasons })).toEqual([
    'windows: 5 closed, the first at 2026-12-07T10:00:00.000Z',
    "suspicious customer_ids (a 5-minute txn_count at least 5× the window's median and at least 20):",
    '  C77: 120 in 2026-12-07 10:15–10:20 (10.0× the median 12); stood out in 1 window',
    '  C99: 90 in 2026-12-07 10:00–10:05 (7.5× the median 12); stood out in 1 window',
    'dead letters: 3; the first reasons: amount is not a number | no timestamp',
  ]);
});

test('a window the run covers for only seconds (median 1) flags nobody by chance: a key stands out at 5× the median and 20', async () => {
  const leaders = new WindowLeaders(columns);
  for (let i = 0; i < 50; i++) leaders.write(result(`C${i}`, 1));
  leaders.write(result('C98', 6));
  leaders.write(result('C99', 19));
  await leaders.close();
  expect(leaders.suspects()).toEqual([]);
  expect(frame(leaders, progress, 2).join('\n')).not.toContain('suspicious');
});

test('the first and the last window of a run, which the run covers only in part, are shown but not judged', async () => {
  const leaders = new WindowLeaders(columns);
  const at = (minute: number): string => `2026-12-07T10:${String(minute).padStart(2, '0')}:00.000Z`;
  // A minute of the first window: medians of 4, where a heavy but honest customer reaches 27 (6.8× and over 20).
  for (let i = 0; i < 40; i++) leaders.write(result(`C${i}`, 4, at(0), at(5)));
  leaders.write(result('C206', 27, at(0), at(5)));
  // Two whole windows: the honest customers at 20–29, the fraudster C99 at 200 in the second.
  for (const start of [5, 10]) {
    for (let i = 0; i < 40; i++) leaders.write(result(`C${i}`, 20 + (i % 10), at(start), at(start + 5)));
    leaders.write(result('C206', 60, at(start), at(start + 5)));
    leaders.write(result('C99', start === 10 ? 200 : 25, at(start), at(start + 5)));
  }
  // The run stops a minute into the last window: C450 at 22 beside medians of 4.
  for (let i = 0; i < 40; i++) leaders.write(result(`C${i}`, 4, at(15), at(20)));
  leaders.write(result('C450', 22, at(15), at(20)));
  await leaders.close();
  expect(leaders.suspects().map((suspect) => suspect.key)).toEqual(['C99']);
});
