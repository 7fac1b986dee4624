// `streamctl validate`'s schema check: each StreamJob whose source names a subject, checked against that subject's schema —
// from --registry, else a SchemaSubject among the inputs, else the registry the job names; unreachable → a note, not a problem.
import { validateManifest } from '@sluice/crds';
import { checkJobSchema, compileJob, schemaShape, sourceSubject, type SourceSchema } from '@sluice/runtime/compiler';
import { describeManifest, type Document, type Problem } from './index.js';

export interface SchemaVerdict {
  problems: Problem[];
  /** Why a job's schema check was skipped: one line per job, printed without changing the exit code. */
  notes: string[];
}

interface SubjectManifest {
  where: string;
  schemaType: string;
  schema: string;
}

/** The SchemaSubject manifests among the inputs, by subject. */
function subjectsOf(documents: Document[]): Map<string, SubjectManifest> {
  const subjects = new Map<string, SubjectManifest>();
  for (const { where, manifest } of documents) {
    const { kind, spec } = (manifest ?? {}) as { kind?: unknown; spec?: { subject?: unknown; schemaType?: unknown; schema?: unknown } };
    if (kind !== 'SchemaSubject' || typeof spec?.subject !== 'string' || typeof spec.schema !== 'string') continue;
    subjects.set(spec.subject, { where, schemaType: typeof spec.schemaType === 'string' ? spec.schemaType : 'AVRO', schema: spec.schema });
  }
  return subjects;
}

/** The schema problems of the documents' StreamJobs that have no other problem (a job that does not compile is not checked). */
export async function schemaVerdict(documents: Document[], registryUrl: string | undefined, local: Problem[]): Promise<SchemaVerdict> {
  const verdict: SchemaVerdict = { problems: [], notes: [] };
  const subjects = subjectsOf(documents);
  for (const { where, manifest } of documents) {
    if ((manifest as { kind?: unknown } | undefined)?.kind !== 'StreamJob' || local.some((problem) => problem.where === where)) continue;
    const name = describeManifest(manifest);
    const compiled = compileJob(validateManifest(manifest).manifest);
    if (!compiled.ok) continue;
    const subject = sourceSubject(compiled.job);
    if (subject === undefined) continue;
    const spec = (manifest as { spec?: unknown }).spec;
    const declared = (wanted: string): SourceSchema | undefined => {
      const found = subjects.get(wanted);
      if (found === undefined) return undefined;
      return { subject: wanted, origin: `the SchemaSubject in ${found.where}`, record: schemaShape(found.schemaType, found.schema) };
    };
    // --registry is asked instead of the files' SchemaSubjects: the user named the registry to check against.
    const result = await checkJobSchema(spec, compiled.job, registryUrl === undefined ? { declared } : { registryUrl });
    if (!result.checked && result.problems.length === 0) verdict.notes.push(`${where} ${name}: the schema check was skipped: ${result.reason}`);
    verdict.problems.push(...result.problems.map((problem) => ({ where, name, ...problem })));
  }
  return verdict;
}
