import { messageOf } from '../error-message.js';
import { DATE_RANGE_MS, IsoDateTimeError, formatIsoTime, parseIsoDateTime } from './iso8601.js';

const ms = (utc: string): number => Date.parse(utc);

describe('parseIsoDateTime reads RFC 3339 date-times', () => {
  it.each([
    ['2025-12-05T10:23:15Z', '2025-12-05T10:23:15.000Z'],
    ['2025-12-05T10:23:15.250Z', '2025-12-05T10:23:15.250Z'],
    ['2025-12-05T10:23:15.2Z', '2025-12-05T10:23:15.200Z'],
    ['2025-12-05T10:23:15.25Z', '2025-12-05T10:23:15.250Z'],
    ['2025-12-05T10:23:15.123456789Z', '2025-12-05T10:23:15.123Z'],
    ['2025-12-05T11:23:15+01:00', '2025-12-05T10:23:15.000Z'],
    ['2025-12-05T05:08:15-05:15', '2025-12-05T10:23:15.000Z'],
    ['2025-12-06T00:23:15+14:00', '2025-12-05T10:23:15.000Z'],
    ['2025-12-05T10:23:15-00:00', '2025-12-05T10:23:15.000Z'],
    ['2025-12-05t10:23:15z', '2025-12-05T10:23:15.000Z'],
    ['2025-12-05 10:23:15Z', '2025-12-05T10:23:15.000Z'],
    ['2025-12-05T10:23Z', '2025-12-05T10:23:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['1969-12-31T23:59:59.999Z', '1969-12-31T23:59:59.999Z'],
    ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00.000Z'],
    ['0099-03-01T00:00:00Z', '0099-03-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ])('%s is %s', (text, utc) => {
    expect(parseIsoDateTime(text)).toBe(ms(utc));
  });

  it('reads a leap second as the last millisecond of its minute, so it stays in that minute', () => {
    expect(parseIsoDateTime('2016-12-31T23:59:60Z')).toBe(ms('2016-12-31T23:59:59.999Z'));
    expect(parseIsoDateTime('2016-12-31T23:59:60.5Z')).toBe(ms('2016-12-31T23:59:59.999Z'));
  });

  it('agrees with Date.parse on every valid date-time of a sweep over 400 years', () => {
    for (let t = ms('1800-01-01T00:00:00Z'); t < ms('2200-01-01T00:00:00Z'); t += 86_400_000 * 7 + 3_723_456) {
      const text = new Date(t).toISOString();
      expect(parseIsoDateTime(text)).toBe(t);
    }
  });
});

describe('parseIsoDateTime refuses what is not an RFC 3339 date-time, and says why', () => {
  it.each([
    ['1', /bare number, not a date .*epoch-millis or epoch-seconds/],
    ['99999', /bare number/],
    ['2025', /year alone/],
    ['Dec 5', /does not start with a four-digit year/],
    ['12/05/2025', /does not start with a four-digit year/],
    ['Fri, 05 Dec 2025 10:23:15 GMT', /does not start with a four-digit year/],
    ['2025-12-05 10:20:00', /no offset .* local time/],
    ['2025-12-05T10:20:00', /no offset .* local time/],
    ['2025-12-05T10:20:00.000', /no offset/],
    ['2025-12-05', /date without a time of day/],
    ['2025-12', /not YYYY-MM-DD/],
    ['2025-1-05T10:20:00Z', /not YYYY-MM-DD/],
    ['+275760-09-13T00:00:00.000Z', /signed year/],
    ['-000001-01-01T00:00:00Z', /signed year/],
    ['+002025-12-05T10:20:00Z', /signed year/],
    ['2025-13-01T00:00:00Z', /month 13 is not between 1 and 12/],
    ['2025-00-01T00:00:00Z', /month 0 is not between 1 and 12/],
    ['2025-02-29T00:00:00Z', /day 29 is not between 1 and 28/],
    ['1900-02-29T00:00:00Z', /day 29 is not between 1 and 28/],
    ['2025-04-31T00:00:00Z', /day 31 is not between 1 and 30/],
    ['2025-12-00T00:00:00Z', /day 0 is not between 1 and 31/],
    ['2025-12-05T24:00:00Z', /hour 24 is not between 0 and 23/],
    ['2025-12-05T10:60:00Z', /minute 60/],
    ['2025-12-05T10:20:61Z', /second 61/],
    ['2025-12-05T10:20:00+24:00', /offset hours 24/],
    ['2025-12-05T10:20:00+01:60', /offset minutes 60/],
    ['2025-12-05T10:20:00+0100', /offset is not ±hh:mm/],
    ['2025-12-05T10:20:00+01', /offset is not ±hh:mm/],
    ['2025-12-05T10:20:00 +01:00', /something other than an offset/],
    ['2025-12-05T10:20:00.Z', /decimal point has no digits/],
    ['2025-12-05T10:20:00,5Z', /something other than an offset/],
    ['2025-12-05T10:20:00.1234567890Z', /more than 9 digits/],
    ['2025-12-05T10:20:00ZZ', /goes on after its Z/],
    ['2025-12-05T10:20:00Z ', /goes on after its Z/],
    ['2025-12-05X10:20:00Z', /not followed by T/],
    ['2025-12-05T1:20:00Z', /not hh:mm:ss/],
    ['2025-12-05T10:20:0Z', /seconds are not two digits/],
    ['', /does not start with a four-digit year/],
    ['２０２５-12-05T10:20:00Z', /does not start with a four-digit year/],
  ])('%j: %s', (text, why) => {
    let thrown: unknown;
    try {
      parseIsoDateTime(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(IsoDateTimeError);
    expect((thrown as IsoDateTimeError).code).toBe('SLUICE_E_EVENT_TIME');
    expect(messageOf(thrown)).toMatch(why);
    expect(messageOf(thrown)).toMatch(/; write an RFC 3339 date-time with its offset, such as 2025-12-05T10:23:15Z/);
  });

  it('does not read past a tenth digit of a megabyte-long fraction', () => {
    expect(() => parseIsoDateTime(`2025-12-05T10:20:00.${'1'.repeat(1_000_000)}Z`)).toThrow(/more than 9 digits/);
  });
});

describe('formatIsoTime never throws', () => {
  it.each([0, 1_733_394_195_000, -1, -62_167_219_200_000, 253_402_300_799_999, DATE_RANGE_MS, -DATE_RANGE_MS, 1.5])('writes %d as toISOString does', (time) => {
    expect(formatIsoTime(time)).toBe(new Date(time).toISOString());
  });

  it.each([
    [DATE_RANGE_MS + 1, '+275760-09-13T00:00:00.001Z'],
    [DATE_RANGE_MS + 300_000, '+275760-09-13T00:05:00.000Z'],
    [-DATE_RANGE_MS - 1, '-271821-04-19T23:59:59.999Z'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
    [Number.NaN, 'NaN'],
    [1e300, '1e+300'],
  ])('writes %d, past the range of a Date, as %s', (time, text) => {
    expect(formatIsoTime(time)).toBe(text);
  });

  it('continues the Gregorian calendar past the end of Date: shifted by 400-year cycles (146,097 days), it matches toISOString', () => {
    const cycleMs = 146_097 * 86_400_000;
    for (const time of [DATE_RANGE_MS + 86_400_000, DATE_RANGE_MS + 200 * 86_400_000, 9e15 + 12_345_678, Number.MAX_SAFE_INTEGER, -9e15 - 1]) {
      const cycles = Math.sign(time) * 100;
      const shifted = new Date(time - cycles * cycleMs).toISOString();
      const year = Number(shifted.slice(0, 7)) + cycles * 400;
      expect(formatIsoTime(time)).toBe(`${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}${shifted.slice(7)}`);
    }
  });
});
