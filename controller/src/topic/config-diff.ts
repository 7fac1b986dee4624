// What converging a topic's configuration to the spec changes: the keys to set and the overrides to reset to their defaults.
import type { TopicConfigEntry } from './kafka-topics.js';

export interface ConfigDiff {
  /** Keys whose value in Kafka differs from the spec's. */
  set: string[];
  /** Keys the topic overrides that the spec no longer has. */
  reset: string[];
}

export function diffConfig(spec: Record<string, string>, current: ReadonlyMap<string, TopicConfigEntry>): ConfigDiff {
  const set = Object.keys(spec)
    .filter((key) => current.get(key)?.value !== spec[key])
    .sort();
  const reset = [...current.entries()]
    .filter(([key, entry]) => entry.override && !(key in spec))
    .map(([key]) => key)
    .sort();
  return { set, reset };
}

export function isEmpty(diff: ConfigDiff): boolean {
  return diff.set.length === 0 && diff.reset.length === 0;
}

export function describeDiff(diff: ConfigDiff): string {
  const parts = [];
  if (diff.set.length > 0) parts.push(`set ${diff.set.join(', ')}`);
  if (diff.reset.length > 0) parts.push(`reset to default ${diff.reset.join(', ')}`);
  return parts.join('; ');
}
