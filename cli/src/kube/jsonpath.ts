// `-o jsonpath=TEMPLATE` as kubectl reads it, in the subset scripts use: `{.status.phase}`, `{.items[*].metadata.name}`,
// `{.items[0].status.lag}`, `{.metadata.labels['app.kubernetes.io/name']}`, `{"\n"}`, text around them; a bare
// `.status.phase` is taken as `{.status.phase}`. `{range}`, filters and recursive descent are not supported, and say so.
import { CommandError } from './io.js';

type Step = { field: string } | { index: number } | { every: true };

function stepsOf(expression: string, template: string): Step[] {
  const steps: Step[] = [];
  const pattern = /\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\*\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  let at = expression.startsWith('$') ? 1 : 0;
  if (expression === '.' || expression === '$') return steps;
  while (at < expression.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(expression);
    if (match === null) {
      throw new CommandError(
        `-o jsonpath: cannot read ${JSON.stringify(expression.slice(at))} in ${JSON.stringify(template)}; streamctl takes .field, [n], [*] and ['key'] (use -o json | jq for more)`,
      );
    }
    const [, field, index, quoted, doubleQuoted] = match;
    if (field !== undefined) steps.push({ field });
    else if (index !== undefined) steps.push({ index: Number(index) });
    else if (quoted !== undefined || doubleQuoted !== undefined) steps.push({ field: (quoted ?? doubleQuoted)! });
    else steps.push({ every: true });
    at = pattern.lastIndex;
  }
  return steps;
}

function follow(values: unknown[], step: Step): unknown[] {
  return values.flatMap((value) => {
    if ('every' in step)
      return Array.isArray(value) ? (value as unknown[]) : value !== null && typeof value === 'object' ? (Object.values(value) as unknown[]) : [];
    if ('index' in step) return Array.isArray(value) && step.index < value.length ? [(value as unknown[])[step.index]] : [];
    return value !== null && typeof value === 'object' && step.field in value ? [(value as Record<string, unknown>)[step.field]] : [];
  });
}

const text = (value: unknown): string => (value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value));

const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"' };

/** One `{…}` of the template: a string literal, or a path whose values are joined by spaces, as kubectl joins them. */
function expand(expression: string, value: unknown, template: string): string {
  const trimmed = expression.trim();
  const literal = /^"((?:[^"\\]|\\.)*)"$/.exec(trimmed);
  if (literal !== null) return literal[1]!.replace(/\\(.)/g, (_, escaped: string) => escapes[escaped] ?? escaped);
  if (/^(range|end)\b/.test(trimmed)) {
    throw new CommandError(`-o jsonpath: {${trimmed}} is not supported by streamctl; use [*] (e.g. {.items[*].metadata.name}), or -o json | jq`);
  }
  return stepsOf(trimmed, template).reduce(follow, [value]).map(text).join(' ');
}

/** The template applied to `value` (a job, or a List of them). */
export function formatJsonPath(template: string, value: unknown): string {
  const relaxed = template.includes('{') ? template : `{${template}}`;
  let output = '';
  let at = 0;
  while (at < relaxed.length) {
    const open = relaxed.indexOf('{', at);
    if (open === -1) {
      output += relaxed.slice(at);
      break;
    }
    const close = relaxed.indexOf('}', open);
    if (close === -1) throw new CommandError(`-o jsonpath: ${JSON.stringify(template)} has a { without its }`);
    output += relaxed.slice(at, open) + expand(relaxed.slice(open + 1, close), value, template);
    at = close + 1;
  }
  return output;
}
