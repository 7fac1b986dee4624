// Key templates such as `fraud_features:{customer_id}:txn_count_5m`: literal text with fields of a result substituted.
import { SluiceError } from '@sluice/crds/errors';
import { messageOf } from '../error-message.js';

/** A template that cannot be parsed; the message shows where and how to fix it. */
export class KeyTemplateError extends SluiceError {
  override readonly code = 'SLUICE_E_KEY_TEMPLATE';
}

export type KeyResult = { ok: true; key: string } | { ok: false; reason: string };

export interface KeyTemplate {
  /** The template as written. */
  readonly template: string;
  /** The placeholders it substitutes (field paths or expressions), in order of appearance. */
  readonly fields: readonly string[];
  /** The key for `value`, or why there is none (a field that is missing, null, or not a scalar). */
  render(value: Record<string, unknown>): KeyResult;
}

/** A compiled expression, such as the compiler's CEL expressions. */
export interface KeyExpression {
  evaluate(value: Record<string, unknown>): unknown;
}

export interface KeyTemplateOptions {
  /**
   * Compiles a placeholder that is not a plain field path, e.g. `{window_start.substring(0, 10)}` as CEL; it may
   * throw, and its message is shown with the placeholder. Without it such placeholders are refused.
   */
  expression?: (source: string) => KeyExpression;
}

type Part = { literal: string } | { field: string; path: string[] } | { field: string; expression: KeyExpression };

const FIELD = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;

/**
 * Parses a key template. `{name}` substitutes the field `name` of the result, `{a.b}` a nested field, and any
 * other placeholder is an expression compiled by `options.expression`; `{{` and `}}` stand for literal braces.
 * Strings are substituted as they are, finite numbers and booleans in their JSON form; a value that is missing
 * or null, or an object or array, gives no key.
 */
export function parseKeyTemplate(template: string, options: KeyTemplateOptions = {}): KeyTemplate {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c === '{' && template[i + 1] === '{') {
      literal += '{';
      i += 2;
    } else if (c === '}' && template[i + 1] === '}') {
      literal += '}';
      i += 2;
    } else if (c === '{') {
      const close = template.indexOf('}', i + 1);
      if (close < 0) throw new KeyTemplateError(`key template "${template}": the "{" at position ${i} is not closed; write {field}, or {{ for a literal brace`);
      const field = template.slice(i + 1, close).trim();
      if (literal) parts.push({ literal });
      literal = '';
      parts.push(placeholder(template, field, i, options));
      i = close + 1;
    } else if (c === '}') {
      throw new KeyTemplateError(`key template "${template}": the "}" at position ${i} has no opening "{"; write }} for a literal brace`);
    } else {
      literal += c;
      i += 1;
    }
  }
  if (literal) parts.push({ literal });
  const fields = parts.flatMap((part) => ('field' in part ? [part.field] : []));
  return { template, fields, render: (value) => render(template, parts, value) };
}

function placeholder(template: string, field: string, at: number, options: KeyTemplateOptions): Part {
  if (FIELD.test(field)) return { field, path: field.split('.') };
  if (!options.expression || field === '') {
    throw new KeyTemplateError(
      `key template "${template}": "{${field}}" at position ${at} is not a field name; write a field such as {customer_id} or {customer.id}`,
    );
  }
  try {
    return { field, expression: options.expression(field) };
  } catch (error) {
    throw new KeyTemplateError(`key template "${template}": {${field}} at position ${at} ${messageOf(error)}`);
  }
}

function render(template: string, parts: readonly Part[], value: Record<string, unknown>): KeyResult {
  let key = '';
  for (const part of parts) {
    if ('literal' in part) {
      key += part.literal;
      continue;
    }
    let found: unknown;
    if ('path' in part) found = lookup(value, part.path);
    else {
      try {
        found = part.expression.evaluate(value);
      } catch (error) {
        return { ok: false, reason: `key template "${template}": {${part.field}} failed: ${messageOf(error)}` };
      }
    }
    if (typeof found === 'string') key += found;
    else if ((typeof found === 'number' && Number.isFinite(found)) || typeof found === 'boolean') key += String(found);
    else if ('path' in part)
      return {
        ok: false,
        reason: `key template "${template}": the result has no usable field "${part.field}" (${describe(found)}); add it to the result, e.g. with keyBy or a map step`,
      };
    else
      return {
        ok: false,
        reason: `key template "${template}": {${part.field}} gives no usable value (${describe(found)}); make it a string, number or boolean`,
      };
  }
  return { ok: true, key };
}

function lookup(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const name of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = Object.hasOwn(current, name) ? (current as Record<string, unknown>)[name] : undefined;
  }
  return current;
}

function describe(found: unknown): string {
  if (found === undefined) return 'it is missing';
  if (found === null) return 'it is null';
  if (Array.isArray(found)) return 'it is an array';
  if (typeof found === 'number') return `it is ${found}`;
  return `it is ${typeof found === 'object' ? 'an object' : `a ${typeof found}`}`;
}
