// `streamctl validate <file|folder|-…>`: the API server's schema and CEL rules, then the job compiler, checked locally on
// every Sluice manifest in the files, folders or stdin, every error naming its field; other kinds are skipped and listed.
// With --server, also the real API server's verdict on a dry-run create (server.ts, loaded only then).
import { basename } from 'node:path';
import { type FieldError, group, validateManifest } from '@sluice/crds';
import { compileJob } from '@sluice/runtime/compiler';
import { parseAllDocuments } from 'yaml';
import { guarded, type CommandIo } from '../../kube/io.js';
import type { ClusterArgs } from '../../kube/options.js';
import { readInputs, type Input } from './inputs.js';

export interface ValidateArgs extends ClusterArgs {
  files: string[];
  server?: boolean;
  /** The schema registry to check StreamJobs' source subjects against, instead of the one the job names. */
  registry?: string;
}

/** One YAML document of an input. */
export interface Document {
  /** `file`, or `file#n` in a file of several documents. */
  where: string;
  manifest?: unknown;
  yamlErrors: string[];
}

/** A problem of one manifest, on one field. */
export interface Problem {
  where: string;
  /** `Kind/name`. */
  name: string;
  path: string;
  message: string;
}

export const formatProblem = ({ where, name, path, message }: Problem): string => `${where} ${name}: ${path}: ${message}`;

const sluiceKinds = new Set(['StreamJob', 'Topic', 'SchemaSubject']);

/** A `kind: List` (kubectl get -o yaml prints one) stands for its items. */
function itemsOf(manifest: unknown): unknown[] {
  const { kind, items } = (manifest ?? {}) as { kind?: unknown; items?: unknown };
  return kind === 'List' && Array.isArray(items) ? items : [manifest];
}

export function documentsOf({ name, text }: Input): Document[] {
  const documents = parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) return [{ yamlErrors: document.errors.map((error) => error.message) }];
    const manifest: unknown = document.toJS();
    // An empty document (a trailing `---`, a file of comments) is nothing, as for kubectl apply.
    return manifest === null || manifest === undefined ? [] : itemsOf(manifest).map((item) => ({ yamlErrors: [], manifest: item }));
  });
  return documents.map((document, index) => ({ ...document, where: documents.length > 1 ? `${name}#${index + 1}` : name }));
}

/**
 * True for the manifests Sluice judges: its API group, or a Sluice kind with no apiVersion at all (a mistake worth
 * naming). Anything else — a ConfigMap, a Deployment, another operator's Topic — belongs to someone else.
 */
export function isSluiceManifest(manifest: unknown): boolean {
  const { apiVersion, kind } = (manifest ?? {}) as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion === 'string') return apiVersion.startsWith(`${group}/`);
  return typeof kind !== 'string' || sluiceKinds.has(kind);
}

/**
 * The API server's verdict, then, for a StreamJob, the job compiler's on the manifest as the API server would store it
 * (defaults filled in): what the engine cannot run although the schema allows it. A field the API server refused is
 * reported once, in its words (as kubectl apply will say it); the compiler's problems on it and beneath it wait for
 * the next run.
 */
export function checkManifest(manifest: unknown): FieldError[] {
  const { errors, manifest: stored } = validateManifest(manifest);
  if ((manifest as { kind?: unknown }).kind !== 'StreamJob') return errors;
  const compiled = compileJob(stored);
  if (compiled.ok) return errors;
  const faulted = (path: string) => errors.some((error) => path === error.path || path.startsWith(`${error.path}.`) || path.startsWith(`${error.path}[`));
  return [...errors, ...compiled.problems.filter((problem) => !faulted(problem.path))];
}

export function describeManifest(manifest: unknown): string {
  const { kind, metadata } = manifest as { kind?: unknown; metadata?: { name?: unknown } };
  return `${typeof kind === 'string' ? kind : '?'}/${typeof metadata?.name === 'string' ? metadata.name : '?'}`;
}

export interface Verdict {
  /** The Sluice manifests judged, by document. */
  checked: Document[];
  /** Text problems: YAML errors and inputs that hold nothing. */
  problems: string[];
  /** Field problems of the Sluice manifests. */
  fieldProblems: Problem[];
  /** How many documents of each other kind were passed over: ConfigMap → 1. */
  skippedKinds: Map<string, number>;
}

/** Every problem of the inputs, and what was skipped. */
export function judge(inputs: Input[]): Verdict {
  const verdict: Verdict = { checked: [], problems: [], fieldProblems: [], skippedKinds: new Map() };
  for (const input of inputs) {
    const documents = documentsOf(input);
    if (documents.length === 0) verdict.problems.push(`${input.name}: holds no manifests (it is empty or all comments)`);
    for (const document of documents) {
      verdict.problems.push(...document.yamlErrors.map((message) => `${document.where}: not valid YAML: ${message}`));
      if (document.manifest === undefined) continue;
      if (!isSluiceManifest(document.manifest)) {
        const { kind } = document.manifest as { kind?: unknown };
        const name = typeof kind === 'string' ? kind : 'document without a kind';
        verdict.skippedKinds.set(name, (verdict.skippedKinds.get(name) ?? 0) + 1);
        continue;
      }
      verdict.checked.push(document);
      const name = describeManifest(document.manifest);
      for (const error of checkManifest(document.manifest)) verdict.fieldProblems.push({ where: document.where, name, ...error });
    }
  }
  return verdict;
}

/** Every problem in the files, one line each, as `file[#doc] kind/name: path: message`. */
export function validateFiles(files: string[]): string[] {
  const verdict = judge(readInputs(files).inputs);
  return [...verdict.problems, ...verdict.fieldProblems.map(formatProblem)];
}

/** `; skipped 1 ConfigMap, 2 Deployments, 3 files that are not YAML (README.md, sample.jsonl)`; empty when none were. */
function skippedText(kinds: Map<string, number>, files: string[]): string {
  const parts = [...kinds].map(([kind, count]) => `${count} ${kind}${count > 1 ? 's' : ''}`);
  const names = [...new Set(files.map((file) => basename(file)))].join(', ');
  if (files.length > 0) parts.push(`${files.length} file${files.length > 1 ? 's' : ''} that ${files.length > 1 ? 'are' : 'is'} not YAML (${names})`);
  return parts.length === 0 ? '' : `; skipped ${parts.join(', ')}`;
}

export function validate(args: ValidateArgs, io: CommandIo): Promise<number> {
  return guarded('validate', io, async () => {
    const { inputs, skippedFiles } = readInputs(args.files);
    const verdict = judge(inputs);
    const schemas = await (await import('./schema.js')).schemaVerdict(verdict.checked, args.registry, verdict.fieldProblems);
    const local = [...verdict.fieldProblems, ...schemas.problems];
    for (const note of schemas.notes) io.stderr.write(`note: ${note}\n`);
    const server = args.server === true ? await (await import('./server.js')).serverVerdict(verdict.checked, args, local) : [];
    const problems = [...verdict.problems, ...local.map(formatProblem), ...server];
    const skipped = skippedText(verdict.skippedKinds, skippedFiles);
    for (const problem of problems) io.stderr.write(`${problem}\n`);
    if (problems.length > 0) {
      io.stderr.write(`${problems.length} problem(s) found${skipped}; fix the fields named above and run streamctl validate again\n`);
      return 1;
    }
    io.stdout.write(`${inputs.length} file(s) valid${skipped}${args.server === true ? '; the API server agrees' : ''}\n`);
    return 0;
  });
}
