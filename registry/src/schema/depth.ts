// How deeply a parsed JSON value nests, measured without recursion so that no depth of input can overflow the stack.

/**
 * The most levels of JSON arrays and objects a schema (or a request body) may nest. Every parser and comparison here
 * recurses per level; 128 leaves them over ten times the stack they need (ajv's metaschema check, the deepest, overflows
 * near 1,400 levels), and still allows about 32 nested Avro records in optional unions or 64 nested JSON Schema objects.
 */
export const maxNestingDepth = 128;

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
