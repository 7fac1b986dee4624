// first and last: the value with the earliest or latest event time, ties going to the earlier or later arrival.
import type { Json } from '../state/keyed.js';
import { type Accumulator, type AggregateKind, isFiniteNumber, isJson, unreadableState } from './accumulator.js';

interface Timed {
  value: Json;
  timestamp: number;
}

class PickAccumulator implements Accumulator<Json> {
  constructor(
    /** Whether a candidate with this event time replaces the held one, which arrived earlier. */
    private readonly replaces: (candidate: number, held: number) => boolean,
    private held: Timed | null = null,
  ) {}
  add(input: Json, timestamp: number): void {
    if (this.held === null || this.replaces(timestamp, this.held.timestamp)) this.held = { value: input, timestamp };
  }
  merge(other: PickAccumulator): void {
    if (other.held !== null) this.add(other.held.value, other.held.timestamp);
  }
  result(): Json {
    return this.held === null ? null : this.held.value;
  }
  toJSON(): Json {
    return this.held === null ? null : { value: this.held.value, timestamp: this.held.timestamp };
  }
}

function pick(fn: string, replaces: (candidate: number, held: number) => boolean): AggregateKind<Json> {
  return {
    expects: 'any value',
    accepts: isJson,
    create: () => new PickAccumulator(replaces),
    restore: (json) => {
      if (json === null) return new PickAccumulator(replaces);
      if (typeof json !== 'object' || Array.isArray(json) || !('value' in json) || !isFiniteNumber(json.timestamp)) {
        throw unreadableState(fn, json);
      }
      return new PickAccumulator(replaces, { value: json.value!, timestamp: json.timestamp });
    },
  };
}

export const first = pick('first', (candidate, held) => candidate < held);
export const last = pick('last', (candidate, held) => candidate >= held);
