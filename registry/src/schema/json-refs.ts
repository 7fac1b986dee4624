// Checking that every `$ref` of a JSON Schema points at something: within the schema, or into a schema it names in its references.

/** Keywords whose values are data, not schemas: a `$ref` inside them is a value like any other. */
const dataKeywords = new Set(['enum', 'const', 'default', 'examples']);

/** A schema resource: the root, or a subschema with an `$id` of its own, which `#…` refs inside it are relative to. */
interface Resource {
  node: unknown;
  /** Its absolute URI when its `$id` gives one; refs inside resolve against it. */
  base: string | undefined;
}

interface FoundRef {
  ref: string;
  /** Where the `$ref` is, as a JSON pointer from the schema's root. */
  at: string;
  within: Resource;
}

/**
 * Why the first `$ref` of `document` that resolves to nothing does not resolve, or undefined when all of them do.
 * `referenced` holds the schemas the request's references bring in, by reference name.
 */
export function unresolvedRef(document: unknown, referenced: Map<string, unknown>): string | undefined {
  const { root, refs, resources } = walk(document);
  for (const { ref, at, within } of refs) {
    const hash = ref.indexOf('#');
    const resource = hash < 0 ? ref : ref.slice(0, hash);
    const fragment = hash < 0 ? '' : ref.slice(hash + 1);
    const target = resource === '' ? within.node : findResource(resource, within.base, resources, referenced, root.base);
    if (target === undefined) {
      if (isMetaschema(resource)) continue;
      return `$ref '${ref}' at '${at}' names '${resource}', which is neither a reference of this schema nor an $id inside it; add it to 'references' (name, subject, version)`;
    }
    if (fragment === '' || fragmentExists(target, fragment)) continue;
    return `$ref '${ref}' at '${at}' points at nothing: ${resource === '' ? 'this schema' : `'${resource}'`} has no '#${fragment}'`;
  }
  return undefined;
}

/** Every `$ref` in schema positions with the resource it sits in, and every resource by its absolute URI; no recursion. */
function walk(document: unknown): { root: Resource; refs: FoundRef[]; resources: Map<string, Resource> } {
  const refs: FoundRef[] = [];
  const resources = new Map<string, Resource>();
  const root: Resource = { node: document, base: ownId(document, undefined) };
  resources.set(root.base ?? '', root);
  const pending: Array<{ node: unknown; at: string; within: Resource }> = [{ node: document, at: '#', within: root }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { node, at } = next;
    if (typeof node !== 'object' || node === null) continue;
    const isArray = Array.isArray(node);
    let within = next.within;
    const id = isArray || node === document ? undefined : ownId(node, within.base);
    if (id !== undefined) {
      within = { node, base: id };
      resources.set(id, within);
    }
    for (const [key, value] of Object.entries(node)) {
      if (!isArray && key === '$ref' && typeof value === 'string') refs.push({ ref: value, at, within });
      else if (isArray || !dataKeywords.has(key)) pending.push({ node: value, at: `${at}/${escapePointer(key)}`, within });
    }
  }
  return { root, refs: refs.reverse(), resources };
}

/** The `$id` of a schema object as an absolute URI (or as written when it makes none); undefined for none or an anchor-only `#name`. */
function ownId(node: unknown, base: string | undefined): string | undefined {
  const id = typeof node === 'object' && node !== null ? (node as { $id?: unknown }).$id : undefined;
  if (typeof id !== 'string' || id.startsWith('#')) return undefined;
  return resolve(id.split('#')[0] ?? '', base);
}

/** The schema a ref's URI part names: a resource inside this schema by `$id`, or a referenced schema by its reference name. */
function findResource(
  resource: string,
  base: string | undefined,
  resources: Map<string, Resource>,
  referenced: Map<string, unknown>,
  rootBase: string | undefined,
): unknown {
  const wanted = resolve(resource, base);
  const embedded = resources.get(wanted);
  if (embedded) return embedded.node;
  if (referenced.has(resource)) return referenced.get(resource);
  for (const [name, schema] of referenced) if (resolve(name, rootBase) === wanted) return schema;
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
