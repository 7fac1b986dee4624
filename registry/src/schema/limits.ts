// The bounds on a submitted schema's shape (nesting, named Avro types), measured without recursion so no input can overflow the stack.

/**
 * The most levels of JSON arrays and objects a schema (or a request body) may nest. Every parser and comparison here
 * recurses per level; 128 leaves them over ten times the stack they need (ajv's metaschema check, the deepest, overflows
 * near 1,400 levels), and still allows about 32 nested Avro records in optional unions or 64 nested JSON Schema objects.
 */
export const maxNestingDepth = 128;

/**
 * The most named Avro types (records, errors, enums, fixed) a schema may define, its references included. avsc
 * generates code for each, about half a millisecond apiece here: 1 MiB of small records held the event loop for 6 s.
 */
export const maxAvroNamedTypes = 1000;

/**
 * How deep references may chain (a schema referencing one that references another…): each registration adds at most
 * one level, and real schemas use a few; resolving them recurses per level.
 */
export const maxReferenceDepth = 32;

const namedKinds = new Set(['record', 'error', 'enum', 'fixed']);

/** True when `value` nests more than `limit` levels of arrays and objects (a scalar is level 0, `[]` is level 1). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > limit) return true;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth });
  }
  return false;
}

/** How many named types the Avro schema documents define: objects whose `type` is record, error, enum or fixed. */
export function avroNamedTypes(documents: unknown[]): number {
  let count = 0;
  const pending = [...documents];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (typeof node !== 'object' || node === null) continue;
    const kind = (node as { type?: unknown }).type;
    if (!Array.isArray(node) && typeof kind === 'string' && namedKinds.has(kind)) count++;
    pending.push(...(Object.values(node) as unknown[]));
  }
  return count;
}
