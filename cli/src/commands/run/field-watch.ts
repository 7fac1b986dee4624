// `streamctl run` on a job without a schema: warns of each field the pipeline reads that no record of the first 1000 holds, and fails a run whose every record was dead-lettered.
import { fieldsReadFromSource, type CompiledJob, type RunSummary, type Source, type SourceBatch } from '@sluice/runtime';

/** How many records the watch looks at: enough to see every field a real input has, few enough to cost nothing. */
export const RECORDS_WATCHED = 1000;

/** The fields the pipeline reads that no record seen so far holds, each with the steps that read it. */
export class FieldWatch {
  readonly #unseen = new Map<string, { field: string[]; steps: string[] }>();
  #records = 0;

  constructor(spec: unknown) {
    const { uses, added } = fieldsReadFromSource(spec);
    // A field some expression guards with has() is expected to be missing from some records.
    const guarded = new Set(uses.filter((use) => use.guarded === true).map((use) => use.field.join('.')));
    for (const use of uses) {
      if (added.has(use.field[0]!) || guarded.has(use.field.join('.'))) continue;
      const name = use.field.join('.');
      const entry = this.#unseen.get(name) ?? { field: use.field, steps: [] };
      if (!entry.steps.includes(use.at)) entry.steps.push(use.at);
      this.#unseen.set(name, entry);
    }
  }

  /** True for a job whose source names a subject: the schema check (streamctl validate) judges its fields instead. */
  static needed(job: CompiledJob): boolean {
    return !(job.source.kind === 'kafka' && job.source.format !== undefined && job.source.format.name !== 'json');
  }

  /** The source, with its first records looked at as they pass. */
  watch(source: Source): Source {
    const observe = (batch: SourceBatch): void => {
      if (this.#done()) return;
      for (const record of batch.records) this.observe(record.value);
    };
    return {
      bounded: source.bounded,
      partitions: () => source.partitions(),
      close: () => source.close(),
      read: (options) => ({
        async *[Symbol.asyncIterator]() {
          for await (const batch of source.read(options)) {
            observe(batch);
            yield batch;
          }
        },
      }),
    };
  }

  /** Past the records watched, or every field seen: nothing left to look at. */
  #done(): boolean {
    return this.#records >= RECORDS_WATCHED || this.#unseen.size === 0;
  }

  observe(record: Record<string, unknown>): void {
    if (this.#done()) return;
    this.#records++;
    for (const [name, { field }] of this.#unseen) if (holds(record, field)) this.#unseen.delete(name);
  }

  /** One line per field no record held, naming the steps that read it; none before any record was read. */
  warnings(): string[] {
    if (this.#records === 0) return [];
    const read = this.#records === 1 ? 'the one record read' : `the first ${this.#records} records read`;
    return [...this.#unseen].map(
      ([name, { field, steps }]) =>
        `warning: field ${name}, read by ${steps.join(', ')}, is in none of ${read}; check its name against the input, or guard it with has(self.${field.join('.')})`,
    );
  }
}

/** Whether the record has the field's path; a list or scalar on the way ends the look (the rest is the step's business). */
function holds(record: Record<string, unknown>, field: readonly string[]): boolean {
  let current: unknown = record;
  for (const name of field) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return true;
    if (!Object.hasOwn(current, name)) return false;
    current = (current as Record<string, unknown>)[name];
  }
  return true;
}

/** Why the run failed although it ran to its end: every record it read was dead-lettered; undefined otherwise. */
export function everyRecordDeadLettered(summary: RunSummary, deadLetterFile: string | undefined): string | undefined {
  if (summary.deadLettered === 0 || summary.resultsOut > 0 || summary.deadLettered < summary.recordsIn) return undefined;
  const where = deadLetterFile === undefined ? 'the reasons above' : `the reasons in ${deadLetterFile}`;
  return `every record read (${summary.recordsIn}) was dead-lettered and no result came out: read ${where}, then fix the job's fields or the input and run again`;
}
