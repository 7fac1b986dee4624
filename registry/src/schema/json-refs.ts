// Checking that every `$ref` of a JSON Schema points at something: within the schema, or into a schema it names in its references.

/** Keywords whose values are data, not schemas: a `$ref` inside them is a value like any other. */
const dataKeywords = new Set(['enum', 'const', 'default', 'examples']);

interface FoundRef {
  ref: string;
  /** Where the `$ref` is, as a JSON pointer from the schema's root. */
  at: string;
}

/**
 * Why the first `$ref` of `document` that resolves to nothing does not resolve, or undefined when all of them do.
 * `referenced` holds the schemas the request's references bring in, by reference name.
 */
export function unresolvedRef(document: unknown, referenced: Map<string, unknown>): string | undefined {
  const base = rootId(document);
  const ids = embeddedIds(document, base);
  for (const { ref, at } of refsOf(document)) {
    const hash = ref.indexOf('#');
    const resource = hash < 0 ? ref : ref.slice(0, hash);
    const fragment = hash < 0 ? '' : ref.slice(hash + 1);
    const target = resource === '' ? document : referencedSchema(resource, referenced, base);
    if (target === undefined) {
      if (ids.has(resolve(resource, base)) || isMetaschema(resource)) continue;
      return `$ref '${ref}' at '${at}' names '${resource}', which is neither a reference of this schema nor an $id inside it; add it to 'references' (name, subject, version)`;
    }
    if (fragment === '' || fragmentExists(target, fragment)) continue;
    return `$ref '${ref}' at '${at}' points at nothing: ${resource === '' ? 'this schema' : `the referenced schema '${resource}'`} has no '#${fragment}'`;
  }
  return undefined;
}

/** Every `$ref` string in schema positions, found without recursion. */
function refsOf(document: unknown): FoundRef[] {
  const found: FoundRef[] = [];
  const pending: Array<{ node: unknown; at: string }> = [{ node: document, at: '#' }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { node, at } = next;
    if (typeof node !== 'object' || node === null) continue;
    const isArray = Array.isArray(node);
    for (const [key, value] of Object.entries(node)) {
      if (!isArray && key === '$ref' && typeof value === 'string') found.push({ ref: value, at });
      else if (isArray || !dataKeywords.has(key)) pending.push({ node: value, at: `${at}/${escapePointer(key)}` });
    }
  }
  return found.reverse();
}

/** The `$id`s of subschemas (schema resources embedded in this one), resolved against the root's `$id`. */
function embeddedIds(document: unknown, base: string | undefined): Set<string> {
  const ids = new Set<string>();
  const pending: unknown[] = [document];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (typeof node !== 'object' || node === null) continue;
    const id = (node as { $id?: unknown }).$id;
    if (typeof id === 'string' && !Array.isArray(node)) ids.add(resolve(id.split('#')[0] ?? '', base));
    for (const [key, value] of Object.entries(node)) if (Array.isArray(node) || !dataKeywords.has(key)) pending.push(value);
  }
  return ids;
}

/** A referenced schema by its reference name, as written or as both resolve against the root's `$id`. */
function referencedSchema(resource: string, referenced: Map<string, unknown>, base: string | undefined): unknown {
  if (referenced.has(resource)) return referenced.get(resource);
  const wanted = resolve(resource, base);
  for (const [name, schema] of referenced) if (resolve(name, base) === wanted) return schema;
  return undefined;
}

/** A `#/json/pointer` that reaches a value, or a `#name` that an `$anchor` (or draft-07 `$id: "#name"`) declares. */
function fragmentExists(target: unknown, fragment: string): boolean {
  if (!fragment.startsWith('/')) return declaresAnchor(target, fragment);
  let current = target;
  for (const token of fragment.slice(1).split('/')) {
    const key = unescapePointer(token);
    if (key === undefined || typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return false;
    current = (current as Record<string, unknown>)[key];
  }
  return true;
}

function declaresAnchor(document: unknown, anchor: string): boolean {
  const pending: unknown[] = [document];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (typeof node !== 'object' || node === null) continue;
    const declared = node as { $anchor?: unknown; $dynamicAnchor?: unknown; $id?: unknown };
    if (declared.$anchor === anchor || declared.$dynamicAnchor === anchor || declared.$id === `#${anchor}`) return true;
    pending.push(...(Object.values(node) as unknown[]));
  }
  return false;
}

function rootId(document: unknown): string | undefined {
  const id = typeof document === 'object' && document !== null ? (document as { $id?: unknown }).$id : undefined;
  return typeof id === 'string' ? id : undefined;
}

/** `reference` as an absolute URI against `base` when both make one, otherwise as written. */
function resolve(reference: string, base: string | undefined): string {
  try {
    return new URL(reference, base).href;
  } catch {
    return reference;
  }
}

/** The drafts' own metaschemas, which validators know without being given them. */
function isMetaschema(resource: string): boolean {
  return /^https?:\/\/json-schema\.org\//.test(resource);
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(token: string): string | undefined {
  try {
    return decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
  } catch {
    return undefined;
  }
}
