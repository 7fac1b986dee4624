import { DurationError, formatDuration, parseDuration, toMillis } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['0s', 0],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 86_400_000 + 7_200_000 + 180_000 + 4_000 + 5],
    ['90s', 90_000],
    ['1500ms', 1_500],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['five minutes', '', '5', 'm5', '5 m', '-5m', '1.5h', '5M', '30m1h', '5m5m', '1w', '99999999999999999d'])(
    'refuses %j and names it',
    (text: string) => {
      expect(() => parseDuration(text)).toThrow(new DurationError(`${JSON.stringify(text)} is not a duration such as 5m`));
    },
  );

  it('gives its errors a stable code', () => {
    let thrown: unknown;
    try {
      parseDuration('five minutes');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DurationError);
    expect((thrown as DurationError).code).toBe('SLUICE_E_DURATION');
  });
});

describe('toMillis', () => {
  it.each([
    ['5m', 300_000],
    [1_000, 1_000],
    [0, 0],
  ])('turns %j into %d ms', (value, ms) => {
    expect(toMillis(value)).toBe(ms);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses the number %d', (value) => {
    expect(() => toMillis(value)).toThrow(DurationError);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [1_000, '1s'],
    [1_500, '1500ms'],
    [30_000, '30s'],
    [60_000, '1m'],
    [90_000, '90s'],
    [300_000, '5m'],
    [3_600_000, '1h'],
    [5_400_000, '90m'],
    [86_400_000, '1d'],
    [90_000_000, '25h'],
    [86_400_000 + 60_000, '1d1m'],
    [86_400_001, '1d1ms'],
    // 9d9h (4 characters, 2 parts) against 225h (4 characters, 1 part): fewer parts wins.
    [810_000_000, '225h'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([-1, 0.5, Number.NaN])('refuses %d ms', (ms) => {
    expect(() => formatDuration(ms)).toThrow(DurationError);
  });
});
