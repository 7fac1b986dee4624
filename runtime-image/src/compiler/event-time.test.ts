import { messageOf } from '../error-message.js';
import { compileCel, CelEvaluationError } from './cel.js';
import type { EventTime } from './job.js';
import { Problems } from './problems.js';
import { DEFAULT_MAX_FUTURE_SKEW, compileEventTime } from './source.js';

const NOW = Date.parse('2025-12-05T12:00:00Z');

/** Compiles spec.sources[0].eventTime against a wall clock the test moves by hand. */
function eventTime(spec: Record<string, unknown>, clock: { now: number } = { now: NOW }): EventTime {
  const problems = new Problems();
  const compiled = compileEventTime(problems, 'spec.sources[0].eventTime', spec, () => clock.now);
  expect(problems.list).toEqual([]);
  return compiled!;
}

/** The extract function of that event time, as the runners call it. */
function extractor(spec: Record<string, unknown>, clock?: { now: number }): (record: Record<string, unknown>) => number {
  const compiled = eventTime(spec, clock);
  return (record) => compiled.extract(record);
}

function reasonOf(extract: () => number): string {
  try {
    extract();
  } catch (error) {
    return messageOf(error);
  }
  throw new Error('the record was accepted');
}

describe('format iso8601', () => {
  const extract = extractor({ field: 'timestamp' });

  it.each(['1', '99999', '2025', 'Dec 5', '12/05/2025', '2025-12-05 10:20:00', '+275760-09-13T00:00:00.000Z'])(
    'refuses %j with a reason that names the field and the fix',
    (timestamp) => {
      expect(reasonOf(() => extract({ timestamp }))).toMatch(
        new RegExp(
          `^the event time field timestamp is ${JSON.stringify(JSON.stringify(timestamp)).slice(1, -1).replace(/[+.]/g, '\\$&')}, not an ISO-8601 time: .*; write an RFC 3339 date-time with its offset`,
        ),
      );
    },
  );
});

describe('eventTime.maxFutureSkew', () => {
  it('is one hour unless the spec says otherwise', () => {
    expect(eventTime({ field: 'timestamp' }).maxFutureSkew).toBe(DEFAULT_MAX_FUTURE_SKEW);
    expect(DEFAULT_MAX_FUTURE_SKEW).toBe(3_600_000);
    expect(eventTime({ field: 'timestamp', maxFutureSkew: '5m' }).maxFutureSkew).toBe(300_000);
  });

  it('takes an event time up to the skew past the wall clock, and refuses one a millisecond beyond it, saying so; old times pass (they are only late)', () => {
    const extract = extractor({ field: 'timestamp', maxFutureSkew: '1h' });
    expect(extract({ timestamp: '0001-01-01T00:00:00Z' })).toBe(Date.parse('0001-01-01T00:00:00Z'));
    expect(extract({ timestamp: '2025-12-05T13:00:00Z' })).toBe(NOW + 3_600_000);
    expect(reasonOf(() => extract({ timestamp: '2025-12-05T13:00:00.001Z' }))).toBe(
      "the event time 2025-12-05T13:00:00.001Z is more than spec.sources[0].eventTime.maxFutureSkew (1h) past the wall clock (2025-12-05T12:00:00.000Z); fix the clock of the record's producer, or raise maxFutureSkew if such times are expected",
    );
  });

  it('takes a time it refused once the wall clock has caught up with it', () => {
    const clock = { now: NOW };
    const extract = extractor({ field: 'timestamp', maxFutureSkew: '0s' }, clock);
    expect(() => extract({ timestamp: '2025-12-05T12:00:01Z' })).toThrow(/past the wall clock/);
    clock.now += 1000;
    expect(extract({ timestamp: '2025-12-05T12:00:01Z' })).toBe(NOW + 1000);
  });

  it('refuses year 9999 and the epoch-millis a seconds field would give', () => {
    expect(() => eventTime({ field: 'timestamp' }).extract({ timestamp: '9999-12-31T23:59:59Z' })).toThrow(/past the wall clock/);
    expect(() => eventTime({ field: 'ts', format: 'epoch-seconds' }).extract({ ts: NOW })).toThrow(/past the wall clock/);
  });

  it('is a duration', () => {
    const problems = new Problems();
    expect(compileEventTime(problems, 'spec.sources[0].eventTime', { field: 'timestamp', maxFutureSkew: 'an hour' })).toBeUndefined();
    expect(problems.list).toEqual([{ path: 'spec.sources[0].eventTime.maxFutureSkew', message: '"an hour" is not a duration such as 5m' }]);
  });
});

describe('epoch formats', () => {
  const millis = extractor({ field: 'ts', format: 'epoch-millis' });
  const seconds = extractor({ field: 'ts', format: 'epoch-seconds' });

  it('take epoch numbers as far back as a date can go, fractions rounded down, and refuse one a millisecond further', () => {
    expect(millis({ ts: 1_764_936_000_000.9 })).toBe(1_764_936_000_000);
    expect(seconds({ ts: 1_764_936_000.5 })).toBe(1_764_936_000_500);
    expect(millis({ ts: -8.64e15 })).toBe(-8.64e15);
    expect(() => millis({ ts: -8.64e15 - 1 })).toThrow(/not a number of epoch milliseconds within ±8640000000000000/);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1e300, -8.64e15 - 1, '1764936000000', true, null, [1]])(
    'refuse %p: not a number of epoch milliseconds a date can hold',
    (ts) => {
      expect(() => millis({ ts })).toThrow(
        /^the event time field ts is .*, not a number of epoch milliseconds within ±8640000000000000 \(the range of a date\)$/,
      );
    },
  );

  it.each([-8.64e12 - 1, -1e20, Number.NaN])('refuse %p seconds', (ts) => {
    expect(() => seconds({ ts })).toThrow(/not a number of epoch seconds within ±8640000000000 \(the range of a date\)$/);
  });
});

describe('CEL timestamps', () => {
  it('past the range of a date are an evaluation error with a reason, not a bare RangeError', () => {
    const expression = compileCel('timestamp("9999-12-31T23:59:59Z") + duration("2500000000h")');
    expect(() => expression.evaluate({})).toThrow(CelEvaluationError);
    expect(() => expression.evaluate({})).toThrow(/gave a timestamp beyond the range of dates/);
  });
});
