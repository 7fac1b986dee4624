// spec.erasure compiled: the erasure topic, where a record names its subject, and the result field the subject fills.
import { showValue } from '../error-message.js';
import type { Problems } from '../compiler/problems.js';
import { isObject } from '../compiler/values.js';

/** How a job learns of GDPR erasures (spec.erasure): see docs/security.md, "Erasure (GDPR)". */
export interface JobErasure {
  /** The Kafka topic whose records each name one subject to erase. */
  topic: string;
  /** The field of the record's JSON object that holds the subject; absent, the record's Kafka key is the subject. */
  keyField?: string;
  /** The result field the job's key fills (its keyBy field, or an expression key's name): sinks erase by it. */
  resultField: string;
}

/** spec.erasure, or undefined (none, or after recording a problem). It needs a keyBy: the subject is a key value. */
export function compileErasure(problems: Problems, erasure: unknown, pipeline: unknown): JobErasure | undefined {
  if (erasure === undefined) return undefined;
  const path = 'spec.erasure';
  if (!isObject(erasure) || typeof erasure.topic !== 'string' || erasure.topic === '') {
    problems.add(
      path,
      `${showValue(erasure)} is not an erasure source; write { topic: customer-erasures } (and keyField when the subject is a field of the record)`,
    );
    return undefined;
  }
  if (erasure.keyField !== undefined && (typeof erasure.keyField !== 'string' || erasure.keyField === '')) {
    problems.add(
      `${path}.keyField`,
      `${showValue(erasure.keyField)} is not a field name; name the field of the erasure record that holds the subject, or leave keyField out to use the record's key`,
    );
    return undefined;
  }
  const resultField = keyField(pipeline);
  if (resultField === undefined) {
    problems.add(
      path,
      'erases a subject from keyed state, but the pipeline has no keyBy step: add one (e.g. { keyBy: { field: customer_id } }) or remove spec.erasure',
    );
    return undefined;
  }
  return { topic: erasure.topic, ...(erasure.keyField === undefined ? {} : { keyField: erasure.keyField }), resultField };
}

/** The result field of the pipeline's first keyBy: its field, or its expression's name. */
function keyField(pipeline: unknown): string | undefined {
  if (!Array.isArray(pipeline)) return undefined;
  for (const step of pipeline as unknown[]) {
    if (!isObject(step) || !isObject(step.keyBy)) continue;
    if (typeof step.keyBy.field === 'string') return step.keyBy.field;
    return typeof step.keyBy.name === 'string' ? step.keyBy.name : 'key';
  }
  return undefined;
}
