// Which sink keys hold a subject's derived features: a key template's rendering for the subject, when it depends on the key field alone.
import type { KeyTemplate } from '../connectors/key-template.js';
import type { KeyValue } from '../dataflow/keys.js';
import { subjectForms } from './subject.js';

/**
 * The keys `template` renders for `subject` in `field` (one per form of the subject: "42" and 42 render alike), or
 * undefined when the template uses another field too (`{customer_id}:{window_start}`): those keys cannot be named
 * from the subject alone, so an erasure leaves them to the sink's TTL (docs/security.md says so).
 */
export function subjectSinkKeys(template: KeyTemplate, field: string, subject: KeyValue): string[] | undefined {
  if (template.fields.length === 0 || template.fields.some((used) => used !== field)) return undefined;
  const keys = new Set<string>();
  for (const form of subjectForms(subject)) {
    const rendered = template.render({ [field]: form });
    if (rendered.ok) keys.add(rendered.key);
  }
  return [...keys];
}
