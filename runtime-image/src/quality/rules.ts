// Data-quality rules of a source (spec.sources[].rules): compiled once per job, checked on each record as it enters, before its event time is read.
import { type CelExpression, compileCel } from '../compiler/cel.js';
import type { Problems } from '../compiler/problems.js';
import { isObject, setKeys, type Spec } from '../compiler/values.js';
import { messageOf, showValue } from '../error-message.js';

/** The most rules a source may have (the CRD's maxItems): rule names label a metric, so they stay few. */
export const MAX_RULES = 64;

/** How much of a value a reason quotes: enough to find the record, not the record itself. */
const QUOTED_CHARS = 64;

/** What a record broke: the names of the rules (each once, in the manifest's order) and the dead-letter reason naming each. */
export interface BrokenRules {
  rules: string[];
  reason: string;
}

/** A source's rules, compiled. */
export interface SourceRules {
  /** The source's name (spec.sources[].name): the metric's `source` label. */
  readonly source: string;
  /** Every rule's name, in the manifest's order. */
  readonly names: readonly string[];
  /** Every rule the record breaks, or undefined when it keeps them all. */
  check(record: Record<string, unknown>): BrokenRules | undefined;
}

/** One compiled rule: why the record breaks it, or undefined when it keeps it. */
type Check = (record: Record<string, unknown>) => string | undefined;

interface CompiledRule {
  name: string;
  check: Check;
}

/** The check kinds: min and max together are one, a range. */
type Kind = 'required' | 'range' | 'regex' | 'enum' | 'cel';

/** The keys a rule may set besides its check: name and field (cel reads the record itself, so it takes no field). */
const RULE_KEYS = new Set(['name', 'field', 'required', 'min', 'max', 'regex', 'enum', 'cel']);

const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const RULE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Compiles `list` (spec.sources[i].rules) at `path`; every problem is recorded with the rule's own path
 * (spec.sources[0].rules[1].regex). Undefined when there are no rules or after a problem.
 */
export function compileRules(problems: Problems, path: string, list: unknown, source: string): SourceRules | undefined {
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) {
    problems.add(path, 'must be a list of rules, each with a name and one check, for example [{ name: amount-positive, field: amount, min: 0 }]');
    return undefined;
  }
  if (list.length > MAX_RULES) {
    problems.add(path, `has ${list.length} rules, over the limit of ${MAX_RULES}; merge rules over the same field, or check more in one cel rule`);
    return undefined;
  }
  const before = problems.list.length;
  const names = new Set<string>();
  const rules: CompiledRule[] = [];
  (list as unknown[]).forEach((item, index) => {
    const rule = compileRule(problems, `${path}[${index}]`, item);
    if (rule === undefined) return;
    if (names.has(rule.name)) problems.add(`${path}[${index}].name`, `${showValue(rule.name)} names an earlier rule too; give each rule its own name`);
    names.add(rule.name);
    rules.push(rule);
  });
  if (problems.list.length > before || rules.length === 0) return undefined;
  return sourceRules(source, rules);
}

function compileRule(problems: Problems, path: string, item: unknown): CompiledRule | undefined {
  if (!isObject(item)) {
    problems.add(path, 'must be an object with a name and one check, for example { name: amount-positive, field: amount, min: 0 }');
    return undefined;
  }
  const before = problems.list.length;
  for (const key of Object.keys(item)) {
    if (!RULE_KEYS.has(key)) problems.add(`${path}.${key}`, `is not a rule setting; a rule takes name, field and one of required, min/max, regex, enum or cel`);
  }
  const { name } = item;
  if (typeof name !== 'string' || !RULE_NAME.test(name) || name.length > 63) {
    problems.add(
      `${path}.name`,
      `${showValue(name)} is not a rule name; use up to 63 lower-case letters, digits and '-', such as amount-positive (it labels the sluice_rule_violations_total metric)`,
    );
  }
  const kinds = ruleKinds(item);
  if (kinds.length !== 1) {
    problems.add(
      path,
      kinds.length === 0
        ? 'set one check: required, min and/or max, regex, enum or cel'
        : `set one check per rule, not ${kinds.join(' and ')}; split it into ${kinds.length} rules, each with its own name`,
    );
    return undefined;
  }
  const kind = kinds[0]!;
  const field = compileField(problems, path, item, kind);
  if (problems.list.length > before || field === null) return undefined;
  const check = COMPILERS[kind](problems, path, item, field);
  if (check === undefined || problems.list.length > before) return undefined;
  return { name: name as string, check };
}

/** min and max together are one check, a range. */
function ruleKinds(item: Spec): Kind[] {
  const set = setKeys(item, ['required', 'min', 'max', 'regex', 'enum', 'cel']);
  const kinds = set.map((key) => (key === 'min' || key === 'max' ? 'range' : key)) as Kind[];
  return [...new Set(kinds)];
}

/** The field the rule reads, undefined for a cel rule (which reads the record), null after a problem. */
function compileField(problems: Problems, path: string, item: Spec, kind: Kind): Field | undefined | null {
  if (kind === 'cel') {
    if (item.field === undefined) return undefined;
    problems.add(`${path}.field`, 'a cel rule reads the whole record (amount, self.amount, has(self.card.id)); remove field');
    return null;
  }
  if (typeof item.field !== 'string' || !FIELD_PATH.test(item.field)) {
    problems.add(
      `${path}.field`,
      item.field === undefined
        ? `is required: name the record field the ${kind} rule checks, for example amount or card.country`
        : `${showValue(item.field)} is not a field name such as amount or card.country`,
    );
    return null;
  }
  return field(item.field);
}

/** A record field by its dotted path; only the record's own properties count, so `constructor` is never found. */
interface Field {
  path: string;
  read: (record: Record<string, unknown>) => unknown;
}

function field(path: string): Field {
  const steps = path.split('.');
  return {
    path,
    read: (record) => {
      let current: unknown = record;
      for (const step of steps) {
        if (!isObject(current) || !Object.hasOwn(current, step)) return undefined;
        current = current[step];
      }
      return current;
    },
  };
}

/** The value as a reason quotes it: its JSON, cut short. */
function quoted(value: unknown): string {
  const shown = showValue(value);
  return shown.length <= QUOTED_CHARS ? shown : `${shown.slice(0, QUOTED_CHARS)}…`;
}

const absent = (value: unknown): boolean => value === undefined || value === null;

function missing(field: Field, value: unknown): string {
  return value === undefined ? `${field.path} is missing` : `${field.path} is null`;
}

type RuleCompiler = (problems: Problems, path: string, item: Spec, field: Field | undefined) => Check | undefined;

/**
 * One compiler per check kind. A field that is absent (missing or null) keeps every rule but required: each rule
 * checks a value where there is one, so an optional field can be checked too; pair it with a required rule to demand it.
 */
const COMPILERS: Record<Kind, RuleCompiler> = {
  required: (problems, path, item, field) => {
    if (item.required !== true) {
      problems.add(`${path}.required`, `${showValue(item.required)} checks nothing; write required: true, or remove the rule`);
      return undefined;
    }
    const { read } = field!;
    return (record) => {
      const value = read(record);
      return absent(value) ? missing(field!, value) : undefined;
    };
  },
  range: (problems, path, item, field) => {
    const bound = (key: 'min' | 'max'): number | undefined => {
      const value = item[key];
      if (value === undefined || value === null) return undefined;
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      problems.add(
        `${path}.${key}`,
        `${showValue(value)} is not a number; write the ${key === 'min' ? 'smallest' : 'largest'} value allowed, such as 0 or 99.5`,
      );
      return undefined;
    };
    const min = bound('min');
    const max = bound('max');
    if (min !== undefined && max !== undefined && min > max) {
      problems.add(`${path}.max`, `${max} is below min ${min}, so no value could keep the rule; swap them`);
      return undefined;
    }
    const { path: name, read } = field!;
    return (record) => {
      const value = read(record);
      if (absent(value)) return undefined;
      if (typeof value !== 'number') return `${name} is ${quoted(value)}, not a number`;
      if (min !== undefined && value < min) return `${name} is ${value}, below the minimum ${min}`;
      if (max !== undefined && value > max) return `${name} is ${value}, above the maximum ${max}`;
      return undefined;
    };
  },
  regex: (problems, path, item, field) => {
    if (typeof item.regex !== 'string' || item.regex === '') {
      problems.add(`${path}.regex`, `${showValue(item.regex)} is not a regular expression; write one such as ^[A-Z]{3}$`);
      return undefined;
    }
    let pattern: RegExp;
    try {
      pattern = new RegExp(item.regex, 'u');
    } catch (error) {
      problems.add(
        `${path}.regex`,
        `${showValue(item.regex)} is not a valid regular expression: ${messageOf(error)}; fix it (JavaScript syntax, as in CEL's matches())`,
      );
      return undefined;
    }
    const { path: name, read } = field!;
    const source = item.regex;
    return (record) => {
      const value = read(record);
      if (absent(value)) return undefined;
      if (typeof value !== 'string') return `${name} is ${quoted(value)}, not a string`;
      return pattern.test(value) ? undefined : `${name} is ${quoted(value)}, which does not match ${showValue(source)}`;
    };
  },
  enum: (problems, path, item, field) => {
    const allowed = item.enum;
    if (!Array.isArray(allowed) || allowed.length === 0 || !allowed.every((value) => typeof value === 'string' || Number.isSafeInteger(value))) {
      problems.add(`${path}.enum`, `${quoted(allowed)} is not a list of allowed values; write strings or whole numbers, such as [EUR, USD, GBP]`);
      return undefined;
    }
    const values = new Set<unknown>(allowed);
    const shown =
      allowed.length <= 8
        ? allowed.map((value) => showValue(value)).join(', ')
        : `${allowed
            .slice(0, 8)
            .map((value) => showValue(value))
            .join(', ')}, …`;
    const { path: name, read } = field!;
    return (record) => {
      const value = read(record);
      if (absent(value)) return undefined;
      return values.has(value) ? undefined : `${name} is ${quoted(value)}, not one of ${shown}`;
    };
  },
  cel: (problems, path, item) => {
    if (typeof item.cel !== 'string') {
      problems.add(`${path}.cel`, `${showValue(item.cel)} is not a CEL expression; write a condition such as amount <= credit_limit`);
      return undefined;
    }
    const source = item.cel;
    const expression: CelExpression | undefined = problems.attempt(`${path}.cel`, () => compileCel(source));
    if (expression === undefined) return undefined;
    const type = expression.resultType;
    if (type !== 'bool' && type !== 'dyn') {
      problems.add(`${path}.cel`, `returns ${type}, not bool; write a condition the record must meet, such as amount <= credit_limit`);
      return undefined;
    }
    return (record) => {
      let result: unknown;
      try {
        result = expression.evaluate(record);
      } catch (error) {
        return messageOf(error);
      }
      if (result === true) return undefined;
      return result === false ? `${JSON.stringify(source)} is false` : `${JSON.stringify(source)} returned ${quoted(result)}, not true or false`;
    };
  },
};

function sourceRules(source: string, rules: readonly CompiledRule[]): SourceRules {
  return {
    source,
    names: rules.map((rule) => rule.name),
    check(record) {
      let broken: { name: string; why: string }[] | undefined;
      for (const { name, check } of rules) {
        const why = check(record);
        if (why !== undefined) (broken ??= []).push({ name, why });
      }
      if (broken === undefined) return undefined;
      const each = broken.map(({ name, why }) => `rule ${name}: ${why}`).join('; ');
      return {
        rules: broken.map(({ name }) => name),
        reason: `source ${source}: the record breaks ${each}; fix the records' producer, or change spec.sources[name=${source}].rules if such records are valid`,
      };
    },
  };
}
