import { type TimeWindow, intersects, maxTimestamp, mergeWindows, session, sliding, tumbling, windowStart } from './assigners.js';

const w = (start: number, end: number): TimeWindow => ({ start, end });

describe('windowStart (Flink getWindowStartWithOffset, offset 0)', () => {
  it.each([
    [0, 300_000, 0],
    [299_999, 300_000, 0],
    [300_000, 300_000, 300_000],
    [-1, 300_000, -300_000],
    [-300_000, 300_000, -300_000],
    [-300_001, 300_000, -600_000],
    // 2024-01-01T00:07:30Z lies in the window from 2024-01-01T00:05:00Z (1 704 067 500 000).
    [1_704_067_650_000, 300_000, 1_704_067_500_000],
  ])('ts %d with size %d starts at %d', (timestamp, size, start) => {
    expect(windowStart(timestamp, size)).toBe(start);
  });
});

describe('tumbling', () => {
  it.each([
    [0, [w(0, 300_000)]],
    [299_999, [w(0, 300_000)]],
    [300_000, [w(300_000, 600_000)]],
    [-1, [w(-300_000, 0)]],
  ])('5m puts ts %d into %j', (timestamp, windows) => {
    expect(tumbling('5m').assign(timestamp)).toEqual(windows);
  });

  it('fires at end − 1', () => {
    expect(maxTimestamp(w(0, 300_000))).toBe(299_999);
  });
});

describe('sliding', () => {
  it.each([
    // size 10, slide 4: starts ≡ 0 (mod 4) with start ≤ ts < start + 10, latest start first.
    [9, [w(8, 18), w(4, 14), w(0, 10)]],
    [10, [w(8, 18), w(4, 14)]],
    [0, [w(0, 10), w(-4, 6), w(-8, 2)]],
    [-1, [w(-4, 6), w(-8, 2)]],
  ])('size 10 ms, slide 4 ms puts ts %d into %j', (timestamp, windows) => {
    expect(sliding(10, 4).assign(timestamp)).toEqual(windows);
  });

  it('10m every 1m gives 10 windows, from 5m down to −4m for ts 5m30s', () => {
    const windows = sliding('10m', '1m').assign(330_000);
    expect(windows.map((window) => window.start)).toEqual([300_000, 240_000, 180_000, 120_000, 60_000, 0, -60_000, -120_000, -180_000, -240_000]);
    expect(windows.every((window) => window.end - window.start === 600_000)).toBe(true);
  });
});

describe('session', () => {
  it('opens [ts, ts + gap)', () => {
    expect(session('30m').assign(1_000)).toEqual([w(1_000, 1_801_000)]);
  });
});

describe('intersects and mergeWindows (Flink TimeWindow)', () => {
  it.each([
    [w(0, 10), w(10, 20), true],
    [w(0, 10), w(11, 20), false],
    [w(5, 15), w(0, 10), true],
    [w(0, 100), w(20, 30), true],
  ])('%j and %j intersect: %s', (a, b, expected) => {
    expect(intersects(a, b)).toBe(expected);
    expect(intersects(b, a)).toBe(expected);
  });

  it.each([
    { windows: [w(0, 10), w(10, 20)], merges: [{ window: w(0, 20), merged: [w(0, 10), w(10, 20)] }] },
    { windows: [w(0, 10), w(11, 20)], merges: [] },
    {
      windows: [w(5, 15), w(30, 40), w(0, 10), w(12, 25)],
      merges: [{ window: w(0, 25), merged: [w(0, 10), w(5, 15), w(12, 25)] }],
    },
    {
      windows: [w(0, 10), w(5, 8), w(20, 30), w(29, 35)],
      merges: [
        { window: w(0, 10), merged: [w(0, 10), w(5, 8)] },
        { window: w(20, 35), merged: [w(20, 30), w(29, 35)] },
      ],
    },
  ])('merges $windows into $merges', ({ windows, merges }) => {
    expect(mergeWindows(windows)).toEqual(merges);
  });
});

describe('validation', () => {
  it.each([
    [() => tumbling('0s'), 'a window size must be longer than 0, not "0s"'],
    [() => sliding('10m', 0), 'a window slide must be longer than 0, not 0'],
    [() => session('five minutes'), '"five minutes" is not a duration such as 5m'],
  ])('refuses %p', (make, message) => {
    expect(make).toThrow(message);
  });
});
