import { BoundedOutOfOrdernessWatermark, WATERMARK_END, WATERMARK_START, WatermarkCombiner } from './watermark.js';

describe('BoundedOutOfOrdernessWatermark', () => {
  it('is −∞ before any record', () => {
    expect(new BoundedOutOfOrdernessWatermark(30_000).current).toBe(WATERMARK_START);
  });

  // maxOutOfOrderness 30 s: watermark = max event time − 30 000 − 1.
  it.each([
    { name: 'in order', timestamps: [100_000, 160_000], watermarks: [69_999, 129_999] },
    { name: 'an older record holds it still', timestamps: [100_000, 90_000, 100_001], watermarks: [69_999, 69_999, 70_000] },
    { name: 'equal timestamps', timestamps: [5, 5], watermarks: [-29_996, -29_996] },
    { name: 'negative event time', timestamps: [-1_000], watermarks: [-31_001] },
  ])('advances after every record: $name', ({ timestamps, watermarks }) => {
    const generator = new BoundedOutOfOrdernessWatermark(30_000);
    expect(timestamps.map((timestamp) => generator.onRecord(timestamp))).toEqual(watermarks);
  });

  it('moves to +∞ at the end of input and stays there', () => {
    const generator = new BoundedOutOfOrdernessWatermark(0);
    generator.onRecord(10);
    expect(generator.current).toBe(9);
    expect(generator.endOfInput()).toBe(WATERMARK_END);
    expect(generator.onRecord(20)).toBe(WATERMARK_END);
  });

  it.each([
    { watermark: 69_999, next: 100_000, after: 69_999 },
    { watermark: 69_999, next: 100_001, after: 70_000 },
    { watermark: WATERMARK_START, next: 0, after: -30_001 },
    { watermark: WATERMARK_END, next: 0, after: WATERMARK_END },
  ])('continues from the restored watermark $watermark', ({ watermark, next, after }) => {
    const generator = new BoundedOutOfOrdernessWatermark(30_000);
    generator.restore(watermark);
    expect(generator.current).toBe(watermark);
    expect(generator.onRecord(next)).toBe(after);
  });

  it.each([-1, 0.5])('refuses maxOutOfOrderness %d', (value) => {
    expect(() => new BoundedOutOfOrdernessWatermark(value)).toThrow('maxOutOfOrderness must be a whole, non-negative number');
  });
});

describe('WatermarkCombiner', () => {
  type Step = { at: number; update?: [input: number, watermark: number]; expected: number };

  // Inputs are partitions 0 and 3; the processing-time clock starts at 1 000.
  it.each<{ name: string; idleTimeout?: number; steps: Step[] }>([
    {
      name: 'the minimum over inputs, −∞ until every input has a watermark',
      steps: [
        { at: 1_000, update: [0, 50], expected: WATERMARK_START },
        { at: 1_000, update: [3, 80], expected: 50 },
        { at: 1_000, update: [0, 100], expected: 80 },
      ],
    },
    {
      name: 'no idle timeout: a silent input holds the minimum back for ever',
      steps: [
        { at: 1_000, update: [0, 50], expected: WATERMARK_START },
        { at: 1_000_000, update: [0, 70], expected: WATERMARK_START },
      ],
    },
    {
      name: 'an input without any data goes idle idleTimeout after the start',
      idleTimeout: 500,
      steps: [
        { at: 1_000, update: [0, 50], expected: WATERMARK_START },
        { at: 1_499, expected: WATERMARK_START },
        // input 3 had no data since 1 000: idle at 1 500; input 0 (data at 1 000) too, so the maximum counts.
        { at: 1_500, expected: 50 },
        { at: 1_600, update: [0, 60], expected: 60 },
      ],
    },
    {
      name: 'an idle input holds the minimum back again once it has data, and the watermark never goes back',
      idleTimeout: 500,
      steps: [
        { at: 1_000, update: [3, 10], expected: WATERMARK_START },
        { at: 1_100, update: [0, 40], expected: 10 },
        { at: 1_400, update: [0, 50], expected: 10 },
        // input 3 last had data at 1 000: idle from 1 500 on; input 0 is active (1 400).
        { at: 1_500, expected: 50 },
        { at: 1_600, update: [3, 20], expected: 50 },
        { at: 1_700, update: [0, 90], expected: 50 },
        { at: 1_800, update: [3, 70], expected: 70 },
      ],
    },
    {
      name: 'an ended input (+∞) never holds the minimum back',
      steps: [
        { at: 1_000, update: [0, WATERMARK_END], expected: WATERMARK_START },
        { at: 1_000, update: [3, 5], expected: 5 },
        { at: 1_000, update: [3, WATERMARK_END], expected: WATERMARK_END },
      ],
    },
  ])('$name', ({ idleTimeout, steps }) => {
    let now = 1_000;
    const combiner = new WatermarkCombiner([0, 3], { clock: () => now, ...(idleTimeout === undefined ? {} : { idleTimeout }) });
    const seen = steps.map(({ at, update }) => {
      now = at;
      if (update !== undefined) combiner.update(...update);
      return combiner.current();
    });
    expect(seen).toEqual(steps.map((step) => step.expected));
  });

  it('refuses an input it does not have and names the ones it has', () => {
    const combiner = new WatermarkCombiner([0, 3], { clock: () => 0 });
    expect(() => combiner.update(1, 5)).toThrow("input 1 is not one of this combiner's inputs (0, 3)");
  });
});
