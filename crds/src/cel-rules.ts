// The CRDs' x-kubernetes-validations: each CEL rule evaluated where the API server evaluates it, with self (and oldSelf) bound the same way.
import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import { messageOf } from './errors.js';
import { childPath, fieldError, omitted, type FieldError } from './field-error.js';
import type { JSONSchemaProps, ValidationRule } from './manifests.js';
import { isObject, propertySchema } from './structural.js';

const environment = new Environment().registerVariable('self', 'dyn').registerVariable('oldSelf', 'dyn');

interface CompiledRule {
  program: ParseResult;
  /** A transition rule, evaluated only on an update of a value that existed before. */
  usesOldSelf: boolean;
}

const compiled = new Map<string, CompiledRule>();

function compile(rule: string): CompiledRule {
  let entry = compiled.get(rule);
  if (entry === undefined) {
    entry = { program: environment.parse(rule), usesOldSelf: /\boldSelf\b/.test(rule) };
    compiled.set(rule, entry);
  }
  return entry;
}

/** A value as CEL sees it in the API server: integers of integer fields as int (bigint), other numbers as double. */
function toCel(value: unknown, schema: JSONSchemaProps | undefined): unknown {
  if (typeof value === 'number') {
    const integral = schema?.type === 'integer' || (schema?.type !== 'number' && Number.isInteger(value));
    return integral ? BigInt(value) : value;
  }
  // Array.from builds the list in this module's realm, where the CEL library recognises it (a test runner's clone may come from another).
  if (Array.isArray(value)) return Array.from(value, (item) => toCel(item, schema?.items));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, toCel(child, propertySchema(schema, key))]));
  return value;
}

/** `.a.b` of a rule's fieldPath, as a path below the rule's node. */
function ruleErrorPath(path: string, rule: ValidationRule): string {
  if (rule.fieldPath === undefined) return path;
  return rule.fieldPath
    .split('.')
    .filter((segment) => segment !== '')
    .reduce(childPath, path);
}

function ruleMessage(rule: ValidationRule): string {
  return (rule.message ?? `failed rule: ${rule.rule}`).trim();
}

function failure(rule: ValidationRule, path: string, value: unknown, schema: JSONSchemaProps): FieldError {
  const errorPath = ruleErrorPath(path, rule);
  const shown = schema.type === 'object' || schema.type === 'array' ? omitted : value;
  switch (rule.reason) {
    case 'FieldValueRequired':
      return fieldError.required(errorPath, ruleMessage(rule));
    case 'FieldValueForbidden':
      return fieldError.forbidden(errorPath, ruleMessage(rule));
    case 'FieldValueDuplicate':
      return fieldError.duplicate(errorPath, shown);
    default:
      return fieldError.invalid(errorPath, shown, ruleMessage(rule));
  }
}

/** cel-js's words for an evaluation error, and cel-go's (the API server's) for the same error. */
const celGoWording: [RegExp, (match: RegExpMatchArray) => string][] = [
  [/^Invalid duration string: /, () => "type conversion error from 'string' to 'google.protobuf.Duration'"],
  [/^No such key: (.*)$/, (match) => `no such key: ${match[1]}`],
];

function evaluationError(error: unknown): string {
  const line = messageOf(error).split('\n')[0] ?? '';
  for (const [pattern, wording] of celGoWording) {
    const match = line.match(pattern);
    if (match !== null) return wording(match);
  }
  return line;
}

/** The node's own rules; `old` is undefined when there is no earlier value to compare with. */
function checkNode(value: unknown, old: unknown, schema: JSONSchemaProps, path: string, errors: FieldError[]): void {
  const rules = schema['x-kubernetes-validations'] ?? [];
  if (rules.length === 0) return;
  const activation = { self: toCel(value, schema), oldSelf: toCel(old, schema) };
  for (const rule of rules) {
    let program: CompiledRule;
    try {
      program = compile(rule.rule);
    } catch (error) {
      errors.push(fieldError.invalid(path, schema.type ?? '', `rule compile error: ${evaluationError(error)}`));
      continue;
    }
    if (program.usesOldSelf && old === undefined) continue;
    let result: unknown;
    try {
      result = program.program(activation);
    } catch (error) {
      errors.push(fieldError.invalid(path, schema.type ?? '', `${evaluationError(error)} evaluating rule: ${ruleMessage(rule)}`));
      continue;
    }
    if (result !== true) errors.push(failure(rule, path, value, schema));
  }
}

/** The earlier item a list item is compared with: only list-type map items have one, the item with the same keys. */
function correlatedItem(item: unknown, oldList: unknown, schema: JSONSchemaProps): unknown {
  if (schema['x-kubernetes-list-type'] !== 'map' || !Array.isArray(oldList) || !isObject(item)) return undefined;
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  return oldList.find((candidate) => isObject(candidate) && keys.every((key) => candidate[key] === item[key]));
}

function walk(value: unknown, old: unknown, schema: JSONSchemaProps | undefined, path: string, errors: FieldError[]): void {
  if (schema === undefined || value === undefined || value === null) return;
  checkNode(value, old, schema, path, errors);
  if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, correlatedItem(item, old, schema), schema.items, childPath(path, index), errors));
  } else if (isObject(value)) {
    const oldObject = isObject(old) ? old : undefined;
    for (const [key, child] of Object.entries(value)) walk(child, oldObject?.[key], propertySchema(schema, key), childPath(path, key), errors);
  }
}

/**
 * Every failed x-kubernetes-validations rule in `object` (a whole custom resource, defaulted). At the root, `self.metadata`
 * holds only name and generateName, as in the API server.
 */
export function checkRules(object: Record<string, unknown>, old: Record<string, unknown> | undefined, schema: JSONSchemaProps): FieldError[] {
  const errors: FieldError[] = [];
  const rootView = (resource: Record<string, unknown>): Record<string, unknown> => {
    const metadata = isObject(resource.metadata) ? resource.metadata : {};
    const { name, generateName } = metadata;
    return { ...resource, metadata: { ...(name === undefined ? {} : { name }), ...(generateName === undefined ? {} : { generateName }) } };
  };
  walk(rootView(object), old === undefined ? undefined : rootView(old), schema, '', errors);
  return errors;
}
