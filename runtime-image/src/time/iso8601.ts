// ISO-8601 event times: a strict RFC 3339 reader (an explicit offset, never local time) and a writer that never throws.
import { SluiceError } from '@sluice/crds/errors';

/** The largest distance from the epoch a JavaScript Date can hold, in ms (±100,000,000 days): toISOString throws past it. */
export const DATE_RANGE_MS = 8.64e15;

const DAY_MS = 86_400_000;
/** Fraction digits beyond milliseconds are read and truncated; more than nanoseconds is not a clock, it is junk. */
const MAX_FRACTION_DIGITS = 9;
const EXAMPLE = 'such as 2025-12-05T10:23:15Z or 2025-12-05T11:23:15.250+01:00';

/** Thrown by parseIsoDateTime; the message says what is wrong with the text, not the text itself. */
export class IsoDateTimeError extends SluiceError {
  override readonly code = 'SLUICE_E_EVENT_TIME';
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). Date.UTC
 * is not used: it reads years 0–99 as 1900–1999.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The inverse of daysFromCivil (Hinnant's civil_from_days). */
function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shifted = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
  const month = shifted < 10 ? shifted + 3 : shifted - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The decimal number in text[start, start + length), or -1 when any of those characters is not a digit. */
function digits(text: string, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const digit = text.charCodeAt(i) - 48;
    // NaN (past the end) and non-digits both fail this test.
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function refuse(why: string): IsoDateTimeError {
  return new IsoDateTimeError(`${why}; write an RFC 3339 date-time with its offset, ${EXAMPLE}`);
}

function inRange(what: string, value: number, low: number, high: number): void {
  if (value < low || value > high) throw refuse(`its ${what} ${value} is not between ${low} and ${high}`);
}

/**
 * Epoch milliseconds of an RFC 3339 date-time (ISO 8601's profile for timestamps):
 * `YYYY-MM-DDThh:mm[:ss[.fraction]]` then `Z` or `±hh:mm`. `T` may be `t` or a space and `Z` may be `z`,
 * as RFC 3339 allows; the offset is required, so no record is ever read in the machine's local time.
 * Years are four digits (0000–9999). A leap second (`:60`) is read as `:59.999` of the same minute, so
 * it stays in its minute's windows. Fraction digits past milliseconds are truncated.
 *
 * Written with charCodeAt, not a regular expression or Date.parse: it runs once per record and
 * allocates nothing unless it throws. Throws an IsoDateTimeError saying what is wrong.
 */
export function parseIsoDateTime(text: string): number {
  const year = digits(text, 0, 4);
  if (year < 0 || text.charCodeAt(4) !== 45 /* - */) throw refuse(notADateWhy(text));
  const month = digits(text, 5, 2);
  if (month < 0 || text.charCodeAt(7) !== 45) throw refuse('its date is not YYYY-MM-DD');
  const day = digits(text, 8, 2);
  if (day < 0) throw refuse('its date is not YYYY-MM-DD');
  if (text.length === 10) throw refuse('it is a date without a time of day');
  const separator = text.charCodeAt(10);
  if (separator !== 84 /* T */ && separator !== 116 /* t */ && separator !== 32 /* space */) {
    throw refuse('its date is not followed by T and the time of day');
  }
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  if (hour < 0 || text.charCodeAt(13) !== 58 /* : */ || minute < 0) throw refuse('its time of day is not hh:mm:ss');
  let at = 16;
  let second = 0;
  let millis = 0;
  if (text.charCodeAt(at) === 58) {
    second = digits(text, at + 1, 2);
    if (second < 0) throw refuse('its seconds are not two digits');
    at += 3;
    if (text.charCodeAt(at) === 46 /* . */) {
      const first = ++at;
      // Stops one digit past the limit, so a megabyte of digits costs no more than ten.
      for (let digit = text.charCodeAt(at) - 48; digit >= 0 && digit <= 9 && at - first <= MAX_FRACTION_DIGITS; digit = text.charCodeAt(at) - 48) {
        if (at - first < 3) millis = millis * 10 + digit;
        at++;
      }
      const count = at - first;
      if (count === 0) throw refuse('its decimal point has no digits after it');
      if (count > MAX_FRACTION_DIGITS) throw refuse(`its fraction of a second has more than ${MAX_FRACTION_DIGITS} digits`);
      if (count < 3) millis *= count === 1 ? 100 : 10;
    }
  }
  const offsetMinutes = readOffset(text, at);
  inRange('month', month, 1, 12);
  inRange('day', day, 1, daysInMonth(year, month));
  inRange('hour', hour, 0, 23);
  inRange('minute', minute, 0, 59);
  inRange('second', second, 0, 60);
  if (second === 60) {
    second = 59;
    millis = 999;
  }
  return daysFromCivil(year, month, day) * DAY_MS + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis - offsetMinutes * 60_000;
}

/** The offset at text[at] in minutes east of UTC; it must end the text. */
function readOffset(text: string, at: number): number {
  const sign = text.charCodeAt(at);
  if (sign === 90 /* Z */ || sign === 122 /* z */) {
    if (text.length !== at + 1) throw refuse('it goes on after its Z');
    return 0;
  }
  if (sign !== 43 /* + */ && sign !== 45 /* - */) {
    throw refuse(
      at === text.length
        ? 'it has no offset (Z or ±hh:mm), and a time without one would be read in local time'
        : 'its time of day is followed by something other than an offset (Z or ±hh:mm)',
    );
  }
  const hours = digits(text, at + 1, 2);
  const minutes = digits(text, at + 4, 2);
  if (hours < 0 || text.charCodeAt(at + 3) !== 58 || minutes < 0 || text.length !== at + 6) throw refuse('its offset is not ±hh:mm');
  inRange('offset hours', hours, 0, 23);
  inRange('offset minutes', minutes, 0, 59);
  const total = hours * 60 + minutes;
  return sign === 45 ? -total : total;
}

/** Why text that does not start with YYYY- is not a date-time: the usual near misses, named. */
function notADateWhy(text: string): string {
  if (text.charCodeAt(0) === 43 || text.charCodeAt(0) === 45) return 'it has a signed year; only four-digit years 0000–9999 are event times';
  if (text.length === 4 && digits(text, 0, 4) >= 0) return 'it is a year alone, not a date and time of day';
  if (digits(text, 0, text.length) >= 0 && text.length > 0)
    return 'it is a bare number, not a date (for epoch numbers use format epoch-millis or epoch-seconds)';
  return 'it does not start with a four-digit year and a date, YYYY-MM-DD';
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/**
 * The time as toISOString writes it (`2025-12-05T10:23:15.000Z`, years past 9999 as `+275760-09-13…`),
 * but for any number, without throwing: past the Date range (±8.64e15 ms) the same expanded-year form
 * is computed here, and what has no calendar form at all (±Infinity, NaN, beyond 2^53 ms) is written as
 * its number of epoch milliseconds. Window bounds and watermarks are formatted with it, so a time the
 * parser let through can never stop a job when its window fires.
 */
export function formatIsoTime(ms: number): string {
  if (ms >= -DATE_RANGE_MS && ms <= DATE_RANGE_MS) return new Date(ms).toISOString();
  if (!Number.isSafeInteger(ms)) return String(ms);
  const days = Math.floor(ms / DAY_MS);
  const { year, month, day } = civilFromDays(days);
  const inDay = ms - days * DAY_MS;
  const time = `${pad(Math.floor(inDay / 3_600_000), 2)}:${pad(Math.floor(inDay / 60_000) % 60, 2)}:${pad(Math.floor(inDay / 1000) % 60, 2)}.${pad(inDay % 1000, 3)}`;
  return `${year < 0 ? '-' : '+'}${pad(Math.abs(year), 6)}-${pad(month, 2)}-${pad(day, 2)}T${time}Z`;
}
