// A job checked against its source's registry schema: every field the pipeline reads before it reshapes records, named by the step that reads it.
import { Environment } from '@marcbachmann/cel-js';
import { RegistryAuthError, type RegistryConnection } from '@sluice/crds/registry-connection';
import { messageOf } from '../error-message.js';
import { HttpSchemaRegistryClient, SchemaRegistries, type SchemaRegistryClient } from '../serde/registry-client.js';
import type { CompiledJob } from './job.js';
import type { JobProblem } from './problems.js';
import { isObject, type Spec } from './values.js';

/** What a field holds, as far as a check can be sure: `other` is anything a check cannot judge (bytes, unions, references). */
export type FieldKind = 'record' | 'string' | 'number' | 'boolean' | 'list' | 'map' | 'other';

export interface SchemaField {
  kind: FieldKind;
  /** An Avro union with null, or a JSON Schema property not listed in required. */
  optional: boolean;
  /** A record's fields, in the schema's order. */
  fields?: Map<string, SchemaField>;
}

/** A subject's version as a check names it, and the shape of its records. */
export interface SourceSchema {
  subject: string;
  /** The registry's version; absent for a schema read elsewhere (a SchemaSubject manifest), which `origin` names. */
  version?: number;
  origin?: string;
  record: SchemaField;
}

// ---- The schema's shape ----

/** The shape of a registered schema's records: `schemaType` AVRO or JSON, `schema` its text. */
export function schemaShape(schemaType: string, text: string): SchemaField {
  const parsed: unknown = JSON.parse(text);
  return schemaType === 'JSON' ? jsonSchemaField(parsed, false) : avroField(parsed, new Map(), undefined);
}

const AVRO_PRIMITIVES: Record<string, FieldKind> = {
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  string: 'string',
  boolean: 'boolean',
  bytes: 'other',
  null: 'other',
};

function avroField(type: unknown, named: Map<string, SchemaField>, namespace: string | undefined): SchemaField {
  if (typeof type === 'string') {
    const primitive = AVRO_PRIMITIVES[type];
    if (primitive !== undefined) return { kind: primitive, optional: false };
    return named.get(type) ?? named.get(`${namespace ?? ''}.${type}`) ?? { kind: 'other', optional: false };
  }
  if (Array.isArray(type)) {
    const present = type.filter((branch) => branch !== 'null');
    const optional = present.length < type.length;
    if (present.length !== 1) return { kind: 'other', optional };
    return { ...avroField(present[0], named, namespace), optional };
  }
  if (!isObject(type)) return { kind: 'other', optional: false };
  // A decimal's exact value still sums; other logical types read as their underlying type (timestamp-millis: a long).
  if (type.logicalType === 'decimal') return { kind: 'number', optional: false };
  switch (type.type) {
    case 'record':
    case 'error':
      return avroRecord(type, named, namespace);
    case 'enum':
      return { kind: 'string', optional: false };
    case 'array':
      return { kind: 'list', optional: false };
    case 'map':
      return { kind: 'map', optional: false };
    case 'fixed':
      return { kind: 'other', optional: false };
    default:
      return avroField(type.type, named, namespace);
  }
}

function avroRecord(type: Spec, named: Map<string, SchemaField>, outer: string | undefined): SchemaField {
  const record: SchemaField = { kind: 'record', optional: false, fields: new Map() };
  const namespace = typeof type.namespace === 'string' ? type.namespace : outer;
  if (typeof type.name === 'string') {
    named.set(type.name, record);
    if (namespace !== undefined) named.set(`${namespace}.${type.name}`, record);
  }
  for (const field of Array.isArray(type.fields) ? (type.fields as unknown[]) : []) {
    if (!isObject(field) || typeof field.name !== 'string') continue;
    const shape = avroField(field.type, named, namespace);
    // A field with a default may be left out by a writer: it is not required.
    record.fields!.set(field.name, 'default' in field ? { ...shape, optional: true } : shape);
  }
  return record;
}

const JSON_KINDS: Record<string, FieldKind> = { string: 'string', number: 'number', integer: 'number', boolean: 'boolean', array: 'list' };

function jsonSchemaField(node: unknown, optional: boolean): SchemaField {
  if (!isObject(node)) return { kind: 'other', optional };
  const alternatives = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
  if (alternatives !== undefined) {
    const present = (alternatives as unknown[]).filter((branch) => !(isObject(branch) && branch.type === 'null'));
    const nullable = present.length < alternatives.length;
    return present.length === 1 ? jsonSchemaField(present[0], optional || nullable) : { kind: 'other', optional: optional || nullable };
  }
  const types = (Array.isArray(node.type) ? node.type : [node.type]).filter((type) => type !== 'null');
  const nullable = Array.isArray(node.type) && types.length < node.type.length;
  if (types.length !== 1) return { kind: 'other', optional: optional || nullable };
  const type: unknown = types[0];
  if (type === 'object') {
    // An object without properties is free-form: a map whose keys a check cannot know.
    if (!isObject(node.properties)) return { kind: 'map', optional: optional || nullable };
    const required = new Set(Array.isArray(node.required) ? node.required : []);
    const fields = new Map<string, SchemaField>();
    for (const [name, property] of Object.entries(node.properties)) fields.set(name, jsonSchemaField(property, !required.has(name)));
    return { kind: 'record', optional: optional || nullable, fields };
  }
  return { kind: typeof type === 'string' ? (JSON_KINDS[type] ?? 'other') : 'other', optional: optional || nullable };
}

// ---- The fields a job reads ----

/** One field a step reads: the step's spec path, the field's path, and the aggregate that sums it (if any). */
export interface FieldUse {
  at: string;
  field: string[];
  aggregate?: string;
  /** Read inside has(): the expression expects records without it. */
  guarded?: true;
}

/** Aggregates that fail on every record whose field is not a number. */
const NUMERIC_AGGREGATES = new Set(['sum', 'avg', 'percentile']);

/** Macros whose first argument names a variable bound in the rest, not a record field. */
const MACROS = new Set(['map', 'filter', 'all', 'exists', 'exists_one', 'existsOne']);

const parser = new Environment({ unlistedVariablesAreDyn: true });

interface Ast {
  op: string;
  args: unknown;
}

function isAst(node: unknown): node is Ast {
  return typeof node === 'object' && node !== null && 'op' in node && 'args' in node;
}

/** The record field paths a CEL expression reads (`payment.card.id` → [payment, card, id]); none when it does not parse (the compiler says why). */
export function celFieldPaths(source: unknown): string[][] {
  return celFieldReads(source).map((read) => read.field);
}

/** Each field path a CEL expression reads, marked when read inside has(). */
function celFieldReads(source: unknown): { field: string[]; guarded: boolean }[] {
  if (typeof source !== 'string') return [];
  let ast: unknown;
  try {
    ast = parser.parse(source).ast;
  } catch {
    return [];
  }
  const paths: string[][] = [];
  collectPaths(ast, new Set(), paths);
  const guarded: string[][] = [];
  collectGuarded(ast, guarded);
  const isGuarded = (field: string[]) => guarded.some((path) => path.join('.') === field.join('.'));
  return paths.map((field) => ({ field, guarded: isGuarded(field) }));
}

/** The paths given to has(): `has(self.a.b)` → [a, b]. */
function collectGuarded(node: unknown, guarded: string[][]): void {
  if (Array.isArray(node)) for (const child of node) collectGuarded(child, guarded);
  else if (isAst(node)) {
    if (node.op === 'call' && Array.isArray(node.args) && node.args[0] === 'has') {
      const chain = chainOf((node.args[1] as unknown[])[0], new Set());
      if (chain !== undefined && chain.length > 0) guarded.push(chain);
    } else if (typeof node.args === 'object') collectGuarded(node.args, guarded);
  }
}

/** The field path a selection chain reads (`self.a.b`, `a["b"]`), undefined when it starts anywhere but a record field. */
function chainOf(node: unknown, bound: ReadonlySet<string>): string[] | undefined {
  if (!isAst(node)) return undefined;
  if (node.op === 'id' && typeof node.args === 'string') return bound.has(node.args) ? undefined : node.args === 'self' ? [] : [node.args];
  if ((node.op !== '.' && node.op !== '[]') || !Array.isArray(node.args)) return undefined;
  const [target, member] = node.args as [unknown, unknown];
  if (node.op === '.' && typeof member === 'string') {
    const base = chainOf(target, bound);
    return base === undefined ? undefined : [...base, member];
  }
  if (node.op === '[]' && isAst(member) && member.op === 'value' && typeof member.args === 'string') {
    const base = chainOf(target, bound);
    return base === undefined ? undefined : [...base, member.args];
  }
  return undefined;
}

function collectPaths(node: unknown, bound: ReadonlySet<string>, paths: string[][]): void {
  if (Array.isArray(node)) {
    for (const child of node) collectPaths(child, bound, paths);
    return;
  }
  if (!isAst(node)) return;
  const chain = chainOf(node, bound);
  if (chain !== undefined) {
    if (chain.length > 0) paths.push(chain);
    return;
  }
  if (node.op === 'rcall') {
    const [name, target, args] = node.args as [string, unknown, unknown[]];
    const variable = isAst(args[0]) && args[0].op === 'id' ? (args[0].args as string) : undefined;
    const isBind = name === 'bind' && isAst(target) && target.op === 'id' && target.args === 'cel';
    if (variable !== undefined && (MACROS.has(name) || isBind)) {
      const inner = new Set([...bound, variable]);
      if (isBind) {
        collectPaths(args[1], bound, paths);
        collectPaths(args.slice(2), inner, paths);
      } else {
        collectPaths(target, bound, paths);
        collectPaths(args.slice(1), inner, paths);
      }
      return;
    }
  }
  if (node.op === 'id' || node.op === 'value') return;
  collectPaths(node.args, bound, paths);
}

function dotted(field: unknown): string[] {
  return typeof field === 'string' && field !== '' ? field.split('.') : [];
}

function celUses(at: string, source: unknown): FieldUse[] {
  return celFieldReads(source).map(({ field, guarded }) => (guarded ? { at, field, guarded } : { at, field }));
}

/** What the pipeline reads from the source's records, and the fields a merging map adds (read later, not in the schema). */
export interface JobReads {
  uses: FieldUse[];
  added: Set<string>;
}

/**
 * Every field the job reads from the source's records: its event time, its rules, and each step up to and including
 * the first that reshapes records (a map without merge, flatMap, window, join, score or pattern) — after it the
 * records are no longer the schema's.
 */
export function fieldsReadFromSource(spec: unknown): JobReads {
  const uses: FieldUse[] = [];
  const added = new Set<string>();
  if (!isObject(spec)) return { uses, added };
  const source = Array.isArray(spec.sources) && isObject(spec.sources[0]) ? spec.sources[0] : {};
  if (isObject(source.eventTime)) uses.push({ at: 'spec.sources[0].eventTime.field', field: dotted(source.eventTime.field) });
  (Array.isArray(source.rules) ? (source.rules as unknown[]) : []).forEach((rule, index) => {
    if (!isObject(rule)) return;
    const at = `spec.sources[0].rules[${index}]`;
    if (rule.field !== undefined) uses.push({ at: `${at}.field`, field: dotted(rule.field) });
    uses.push(...celUses(`${at}.cel`, rule.cel));
  });
  const steps = Array.isArray(spec.pipeline) ? (spec.pipeline as unknown[]) : [];
  let reshaped = false;
  for (const [index, step] of steps.entries()) {
    if (!isObject(step)) break;
    reshaped = readStep(`spec.pipeline[${index}]`, step, uses, added);
    if (reshaped) break;
  }
  if (!reshaped) uses.push(...sinkKeyUses(spec.sinks));
  return { uses: uses.filter((use) => use.field.length > 0), added };
}

/** The fields one step reads; true when its output is no longer the source's records. */
function readStep(path: string, step: Spec, uses: FieldUse[], added: Set<string>): boolean {
  if (step.filter !== undefined) uses.push(...celUses(`${path}.filter`, step.filter));
  else if (isObject(step.map)) {
    const map = step.map;
    if (isObject(map.fields)) for (const [name, source] of Object.entries(map.fields)) uses.push(...celUses(`${path}.map.fields.${name}`, source));
    else uses.push(...celUses(`${path}.map.expression`, map.expression));
    if (map.merge !== true || !isObject(map.fields)) return true;
    for (const name of Object.keys(map.fields)) added.add(name);
  } else if (step.flatMap !== undefined) {
    uses.push(...celUses(`${path}.flatMap`, step.flatMap));
    return true;
  } else if (isObject(step.keyBy)) {
    if (step.keyBy.field !== undefined) uses.push({ at: `${path}.keyBy.field`, field: dotted(step.keyBy.field) });
    else uses.push(...celUses(`${path}.keyBy.expression`, step.keyBy.expression));
  } else if (step.window !== undefined) {
    (Array.isArray(step.aggregate) ? (step.aggregate as unknown[]) : []).forEach((item, index) => {
      if (!isObject(item)) return;
      const at = `${path}.aggregate[${index}]`;
      if (item.field !== undefined) uses.push({ at: `${at}.field`, field: dotted(item.field), aggregate: String(item.fn) });
      else uses.push(...celUses(`${at}.expression`, item.expression));
    });
    return true;
  } else if (isObject(step.dedupe)) {
    uses.push(...celUses(`${path}.dedupe.key`, step.dedupe.key));
  } else if (isObject(step.mask)) {
    const fields = Array.isArray(step.mask.fields) ? (step.mask.fields as unknown[]) : [];
    fields.forEach((item, index) => {
      if (isObject(item)) uses.push({ at: `${path}.mask.fields[${index}].field`, field: dotted(item.field) });
    });
  } else return true;
  return false;
}

/** `{customer_id}` placeholders of sink key templates: field paths only (expressions are CEL the compiler checks). */
function sinkKeyUses(sinks: unknown): FieldUse[] {
  const uses: FieldUse[] = [];
  (Array.isArray(sinks) ? (sinks as unknown[]) : []).forEach((sink, index) => {
    if (!isObject(sink)) return;
    for (const kind of ['kafka', 'redis'] as const) {
      const settings = sink[kind];
      if (!isObject(settings) || typeof settings.key !== 'string') continue;
      for (const match of settings.key.replace(/\{\{|\}\}/g, '').matchAll(/\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}/g))
        uses.push({ at: `spec.sinks[${index}].${kind}.key`, field: match[1]!.split('.') });
    }
  });
  return uses;
}

// ---- The check ----

/** Every field the job reads that its source's schema lacks, and every aggregate sure to fail on the field's type. */
export function checkJobAgainstSchema(spec: unknown, schema: SourceSchema): JobProblem[] {
  const { uses, added } = fieldsReadFromSource(spec);
  const problems: JobProblem[] = [];
  const seen = new Set<string>();
  for (const use of uses) {
    if (added.has(use.field[0]!)) continue;
    const message = checkUse(use, schema);
    const key = `${use.at}\n${message}`;
    if (message !== undefined && !seen.has(key)) {
      seen.add(key);
      problems.push({ path: use.at, message });
    }
  }
  return problems;
}

function subjectName(schema: SourceSchema): string {
  return schema.version === undefined ? `subject ${schema.subject} (${schema.origin ?? 'as given'})` : `subject ${schema.subject} version ${schema.version}`;
}

function checkUse(use: FieldUse, schema: SourceSchema): string | undefined {
  let current = schema.record;
  for (const [depth, name] of use.field.entries()) {
    const parent = use.field.slice(0, depth).join('.');
    if (current.kind !== 'record') {
      if (current.kind === 'map' || current.kind === 'other') return undefined;
      return `field ${use.field.join('.')}: ${parent} is a ${current.kind} in ${subjectName(schema)}, which has no field ${name}; read ${parent} itself`;
    }
    const fields = current.fields!;
    const found = fields.get(name);
    if (found === undefined) return notInSchema(use.field, depth, [...fields.keys()], schema);
    current = found;
  }
  if (use.aggregate !== undefined && NUMERIC_AGGREGATES.has(use.aggregate) && !['number', 'other'].includes(current.kind)) {
    return (
      `${use.aggregate} over field ${use.field.join('.')}, a ${current.kind} in ${subjectName(schema)}, fails on every record; ` +
      `aggregate a numeric field${numericFields(schema.record)}, or count its values with count or count_distinct`
    );
  }
  return undefined;
}

const LISTED_FIELDS = 8;

function notInSchema(field: string[], depth: number, names: string[], schema: SourceSchema): string {
  const parent = field.slice(0, depth);
  const where = parent.length === 0 ? 'fields' : `fields of ${parent.join('.')}`;
  const listed = names.length > LISTED_FIELDS ? `${names.slice(0, LISTED_FIELDS).join(', ')}, …` : names.join(', ');
  const closest = closestName(field[depth]!, names);
  const suggestion = closest === undefined ? '' : `; did you mean ${[...parent, closest].join('.')}?`;
  return `field ${field.join('.')} is not in ${subjectName(schema)} (${where}: ${listed || 'none'})${suggestion}`;
}

function numericFields(record: SchemaField): string {
  const names = [...(record.fields ?? new Map<string, SchemaField>())].filter(([, field]) => field.kind === 'number').map(([name]) => name);
  return names.length === 0 ? '' : ` (${names.slice(0, LISTED_FIELDS).join(', ')})`;
}

/** The name nearest `wanted` by edit distance, if a typo could explain it: at most 2 edits, and fewer than half its letters. */
export function closestName(wanted: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const distance = editDistance(wanted.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return bestDistance <= Math.min(2, Math.floor(wanted.length / 2)) ? best : undefined;
}

/** Damerau–Levenshtein (optimal string alignment): a swapped pair of letters is one edit, as typists make it. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) distance = Math.min(distance, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = distance;
    }
  }
  return rows[a.length]![b.length]!;
}

// ---- Against a registry ----

/** The check's outcome: problems found, or why no check was made (no subject named, the registry unreachable). */
export type SchemaCheckResult =
  { checked: true; subject: string; version?: number; problems: JobProblem[] } | { checked: false; reason: string; problems: JobProblem[] };

export interface SchemaCheckOptions {
  /** The registry to ask instead of the one the spec names (streamctl validate --registry). */
  registryUrl?: string;
  /** The registry to ask when the spec names none (the controller's --registry-url, which runtime pods are given too). */
  defaultRegistryUrl?: string;
  /** A client per registry URL; by default HTTP, with the user and CA of this process's environment. */
  registryAt?: (url: string) => SchemaRegistryClient;
  /** Schemas known without a registry (the SchemaSubjects beside a job in streamctl validate's files), by subject. */
  declared?: (subject: string) => SourceSchema | undefined;
}

/** The subject the compiled job's source reads with, if it names one (format avro or json-schema). */
export function sourceSubject(job: CompiledJob): string | undefined {
  const format = job.source.kind === 'kafka' ? job.source.format : undefined;
  return format === undefined || format.name === 'json' ? undefined : format.subject;
}

type Fetched = { schema: SourceSchema } | { unreachable: string } | { missing: string };

async function fetchSchema(format: { subject: string; version?: number; registryUrl?: string }, options: SchemaCheckOptions): Promise<Fetched> {
  const declared = options.declared?.(format.subject);
  if (declared !== undefined) return { schema: declared };
  const url = options.registryUrl ?? format.registryUrl ?? options.defaultRegistryUrl;
  if (url === undefined) {
    return {
      unreachable: `no registry to fetch subject ${format.subject} from: set spec.sources[0].schema.registryUrl or spec.connections.schemaRegistry.url (streamctl: --registry <url>)`,
    };
  }
  try {
    const registryAt = options.registryAt ?? defaultRegistries();
    const found = await registryAt(url).version(format.subject, format.version);
    return { schema: { subject: format.subject, version: found.version, record: schemaShape(found.schemaType, found.schema) } };
  } catch (error) {
    const unreachable = (error as { retriable?: unknown }).retriable === true || (error as { cause?: unknown }).cause instanceof RegistryAuthError;
    return unreachable ? { unreachable: messageOf(error) } : { missing: messageOf(error) };
  }
}

/**
 * Fetches the subject the job's source names and checks the job against it, then the results against each Kafka
 * sink's subject. A registry that cannot be reached or refuses the user skips the check (the reason says why); a
 * source subject or version the registry lacks is a problem. A sink's subject that cannot be read is not checked
 * (a SchemaSubject applied with the job may register it).
 */
export async function checkJobSchema(spec: unknown, job: CompiledJob, options: SchemaCheckOptions = {}): Promise<SchemaCheckResult> {
  const format = job.source.kind === 'kafka' ? job.source.format : undefined;
  if (format === undefined || format.name === 'json') return { checked: false, reason: 'the source names no schema subject', problems: [] };
  const fetched = await fetchSchema(format, options);
  if ('unreachable' in fetched) return { checked: false, reason: fetched.unreachable, problems: [] };
  if ('missing' in fetched)
    return { checked: false, reason: fetched.missing, problems: [{ path: 'spec.sources[0].schema.subject', message: fetched.missing }] };
  const problems = checkJobAgainstSchema(spec, fetched.schema);
  const sinks = isObject(spec) && Array.isArray(spec.sinks) ? (spec.sinks as unknown[]) : [];
  for (const [index, sinkSpec] of sinks.entries()) {
    const sink = job.sinks.find((candidate) => isObject(sinkSpec) && candidate.name === sinkSpec.name);
    if (sink?.kind !== 'kafka' || sink.format === undefined || sink.format.name === 'json') continue;
    const sinkSchema = await fetchSchema(sink.format, options);
    if ('schema' in sinkSchema) problems.push(...checkResultsAgainstSink(spec, `spec.sinks[${index}].kafka.schema.subject`, sinkSchema.schema, fetched.schema));
  }
  return { checked: true, subject: fetched.schema.subject, ...(fetched.schema.version === undefined ? {} : { version: fetched.schema.version }), problems };
}

// ---- The results against a sink's subject ----

/**
 * The fields of the pipeline's results as far as the spec tells: a window's key, window_start, window_end and
 * aggregate names; a map's fields; or the source's records (fromSource) plus what merging maps add. Undefined when a
 * step's output cannot be known from the spec (a map expression, flatMap, join, score, pattern).
 */
export function resultFields(spec: unknown): { fromSource: boolean; names: string[] } | undefined {
  let result = { fromSource: true, names: [] as string[] };
  let key: string | undefined;
  const steps = isObject(spec) && Array.isArray(spec.pipeline) ? (spec.pipeline as unknown[]) : [];
  for (const step of steps) {
    if (!isObject(step)) return undefined;
    if (step.filter !== undefined || step.dedupe !== undefined || step.mask !== undefined) continue;
    if (isObject(step.keyBy)) {
      key = typeof step.keyBy.field === 'string' ? step.keyBy.field : typeof step.keyBy.name === 'string' ? step.keyBy.name : 'key';
    } else if (isObject(step.map) && isObject(step.map.fields)) {
      const names = Object.keys(step.map.fields);
      result = step.map.merge === true ? { fromSource: result.fromSource, names: [...result.names, ...names] } : { fromSource: false, names };
    } else if (step.window !== undefined && Array.isArray(step.aggregate)) {
      const aggregates = (step.aggregate as unknown[])
        .map((item) => (isObject(item) && typeof item.name === 'string' ? item.name : ''))
        .filter((name) => name !== '');
      result = { fromSource: false, names: [...(key === undefined ? [] : [key]), 'window_start', 'window_end', ...aggregates] };
    } else return undefined;
  }
  return result;
}

/** Each field the sink's subject requires (no default, not optional) that the pipeline's results do not hold. */
export function checkResultsAgainstSink(spec: unknown, at: string, sink: SourceSchema, source?: SourceSchema): JobProblem[] {
  const results = resultFields(spec);
  if (results === undefined || (results.fromSource && source === undefined)) return [];
  const names = results.fromSource ? [...(source!.record.fields?.keys() ?? []), ...results.names] : results.names;
  const required = [...(sink.record.fields ?? new Map<string, SchemaField>())].filter(([, field]) => !field.optional).map(([name]) => name);
  return required
    .filter((name) => !names.includes(name))
    .map((name) => ({
      path: at,
      message:
        `${subjectName(sink)} requires field ${name}, which the pipeline's results do not hold (they hold ${names.join(', ')}); ` +
        `add it (an aggregate or a map field named ${name}), or give it a default in the subject's schema`,
    }));
}

let registries: SchemaRegistries | undefined;

function defaultRegistries(): (url: string) => SchemaRegistryClient {
  registries ??= new SchemaRegistries();
  const shared = registries;
  return (url) => shared.at(url);
}

/**
 * For the controller: a client of the registry at `url` that sends the controller's user only to its own registry
 * (`homeUrl`, same origin), so a spec naming another registryUrl never receives the controller's password.
 */
export function schemaRegistryClientFor(url: string, homeUrl: string | undefined, connection: RegistryConnection | undefined): SchemaRegistryClient {
  const origin = (text: string | undefined) => (text !== undefined && URL.canParse(text) ? new URL(text).origin : undefined);
  const home = connection !== undefined && origin(url) !== undefined && origin(url) === origin(homeUrl);
  return new HttpSchemaRegistryClient(url, home ? connection : {});
}
