// Reading spec values the compiler cannot take on trust: durations, nested field paths, and plain objects.
import { parseDuration } from '../time/duration.js';
import type { Problems } from './problems.js';

export type Spec = Record<string, unknown>;

export function isObject(value: unknown): value is Spec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A duration in milliseconds, `fallback` when absent, or undefined after recording the problem at `path`. */
export function duration(problems: Problems, path: string, value: unknown, fallback?: number): number | undefined {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') {
    problems.add(path, `${JSON.stringify(value)} is not a duration such as 5m`);
    return undefined;
  }
  return problems.attempt(path, () => parseDuration(value));
}

/** Like duration, but 0 is refused too: a window of no length, a TTL that expires at once. */
export function positiveDuration(problems: Problems, path: string, value: unknown): number | undefined {
  const ms = duration(problems, path, value);
  if (ms === 0) {
    problems.add(path, `${JSON.stringify(value)} must be longer than 0; use a duration such as 5m`);
    return undefined;
  }
  return ms;
}

/** A reader of a dotted field path (`payment.amount`) in a record; undefined where any step is missing. */
export function fieldReader(path: string): (record: Record<string, unknown>) => unknown {
  const steps = path.split('.');
  if (steps.length === 1) return (record) => record[path];
  return (record) => {
    let current: unknown = record;
    for (const step of steps) {
      if (!isObject(current)) return undefined;
      current = current[step];
    }
    return current;
  };
}

/** The keys set on `spec` among `names`, in the order given. */
export function setKeys(spec: Spec, names: readonly string[]): string[] {
  return names.filter((name) => spec[name] !== undefined && spec[name] !== null);
}
