// Durations as users write them in jobs (250ms, 30s, 5m, 1h, 1d, 1h30m) and their values in milliseconds.
import { SluiceError } from '@sluice/crds/errors';

/** A duration as the TypeScript API takes it: a string such as `5m`, or a number of milliseconds. */
export type DurationLike = string | number;

/** Thrown when a value is not a duration; the job compiler prefixes the field path. */
export class DurationError extends SluiceError {
  override readonly code = 'SLUICE_E_DURATION';
}

const UNITS: readonly (readonly [unit: string, ms: number])[] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

const UNIT_RANK = new Map(UNITS.map(([unit], rank) => [unit, rank]));
const UNIT_MS = new Map(UNITS);
const WHOLE = /^(?:\d+(?:ms|d|h|m|s))+$/;
const PART = /(\d+)(ms|d|h|m|s)/g;

function notADuration(value: unknown): DurationError {
  return new DurationError(`${JSON.stringify(value) ?? String(value)} is not a duration such as 5m`);
}

/**
 * Parses `250ms`, `30s`, `5m`, `1h`, `1d` and combinations from the largest unit down (`1h30m`) to
 * milliseconds. Each unit appears at most once, so `30m1h` and `5m5m` are refused as likely typos.
 */
export function parseDuration(text: string): number {
  if (!WHOLE.test(text)) throw notADuration(text);
  let total = 0;
  let lastRank = -1;
  for (const [, digits, unit] of text.matchAll(PART)) {
    const rank = UNIT_RANK.get(unit!)!;
    if (rank <= lastRank) throw notADuration(text);
    lastRank = rank;
    total += Number(digits) * UNIT_MS.get(unit!)!;
  }
  if (!Number.isSafeInteger(total)) throw notADuration(text);
  return total;
}

/** A duration from the TypeScript API: strings are parsed, numbers are milliseconds already. */
export function toMillis(value: DurationLike): number {
  if (typeof value === 'string') return parseDuration(value);
  if (Number.isSafeInteger(value) && value >= 0) return value;
  throw notADuration(value);
}

/** Writes `ms` with exactly these units (largest first), or undefined when they cannot express it. */
function writeWith(ms: number, units: readonly (readonly [string, number])[]): string | undefined {
  let rest = ms;
  let text = '';
  for (const [unit, unitMs] of units) {
    const count = Math.floor(rest / unitMs);
    if (count === 0) return undefined;
    text += `${count}${unit}`;
    rest -= count * unitMs;
  }
  return rest === 0 ? text : undefined;
}

/**
 * The shortest string `parseDuration` reads back as `ms` (`90000` → `90s`, `86400000` → `1d`,
 * `1500` → `1500ms`); among equally short ones, the one with fewer parts, then larger units.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new DurationError(`${ms} ms is not a whole, non-negative number of milliseconds, so it has no duration form`);
  }
  if (ms === 0) return '0s';
  const candidates: { text: string; parts: number }[] = [];
  for (let mask = 1; mask < 1 << UNITS.length; mask++) {
    const units = UNITS.filter((_, index) => (mask & (1 << index)) !== 0);
    const text = writeWith(ms, units);
    if (text !== undefined) candidates.push({ text, parts: units.length });
  }
  // A stable sort keeps the mask order, which tries the larger units first.
  candidates.sort((a, b) => a.text.length - b.text.length || a.parts - b.parts);
  return candidates[0]!.text;
}
