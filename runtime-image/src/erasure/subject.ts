// A GDPR erasure's subject (the value of the job's key field, e.g. a customer_id) and the keyed-state keys that hold it.
import { createHash } from 'node:crypto';
import type { KeyValue } from '../dataflow/keys.js';
import type { KeyedState } from '../state/keyed.js';

/**
 * The keys of `state` whose key (the JSON array of the keyBy values, `["c42"]`, followed by anything, like a window's
 * `|start|end`) has `subject` as its first value. A subject read as text ("42") also matches the number 42, since a
 * Kafka key is text while the record's field may be a number.
 */
export function keysOfSubject<V>(state: KeyedState<V>, subject: KeyValue): string[] {
  const keys = new Set<string>();
  for (const form of subjectForms(subject)) {
    const prefix = `[${JSON.stringify(form)}`;
    const held = state.keysWithPrefix?.(prefix) ?? [...state.entries()].map(([key]) => key).filter((key) => key.startsWith(prefix));
    for (const key of held) {
      const next = key[prefix.length];
      if (next === ']' || next === ',') keys.add(key);
    }
  }
  return [...keys];
}

/** The subject, and its twin of the other type when it is a number or text that reads as one. */
export function subjectForms(subject: KeyValue): KeyValue[] {
  if (typeof subject === 'number') return [subject, String(subject)];
  if (typeof subject === 'string' && subject.trim() !== '' && Number.isFinite(Number(subject)) && String(Number(subject)) === subject) {
    return [subject, Number(subject)];
  }
  return [subject];
}

/** What a log line says of a subject instead of its value: the first 16 hex digits of its SHA-256. */
export function subjectHash(subject: KeyValue): string {
  return createHash('sha256').update(String(subject)).digest('hex').slice(0, 16);
}
