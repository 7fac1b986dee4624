// Avro's own printed form of a schema (Java's Schema.toString): fixed key order, no whitespace, `"long"` for `{"type":"long"}`, so key order or spacing never changes an id.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Keys each kind prints first, in Avro's order; any other attribute follows in the order it was written. */
const keyOrder: Record<string, string[]> = {
  record: ['type', 'name', 'namespace', 'doc', 'fields'],
  error: ['type', 'name', 'namespace', 'doc', 'fields'],
  enum: ['type', 'name', 'namespace', 'doc', 'symbols', 'default'],
  fixed: ['type', 'name', 'namespace', 'doc', 'size'],
  array: ['type', 'items'],
  map: ['type', 'values'],
};
const fieldOrder = ['name', 'type', 'doc', 'default', 'order'];
/** Aliases come last in Avro's output. */
const last = ['aliases'];

export function avroCanonical(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(avroCanonical);
  if (schema === null || typeof schema !== 'object') return schema;
  const kind = typeof schema.type === 'string' ? schema.type : '';
  const order = keyOrder[kind];
  if (!order && typeof schema.type === 'string' && Object.keys(schema).length === 1) return schema.type;
  if (!order) return ordered(schema, ['type'], (key, value) => (key === 'type' ? avroCanonical(value) : value));
  return ordered(schema, order, (key, value) => {
    if (key === 'fields' && Array.isArray(value))
      return value.map((field) => (isObject(field) ? ordered(field, fieldOrder, (k, v) => (k === 'type' ? avroCanonical(v) : v)) : field));
    if (key === 'items' || key === 'values') return avroCanonical(value);
    return value;
  });
}

function ordered(source: { [key: string]: Json }, first: string[], convert: (key: string, value: Json) => Json): { [key: string]: Json } {
  const result: { [key: string]: Json } = {};
  const keys = [
    ...first.filter((k) => k in source),
    ...Object.keys(source).filter((k) => !first.includes(k) && !last.includes(k)),
    ...last.filter((k) => k in source),
  ];
  for (const key of keys) result[key] = convert(key, source[key]!);
  return result;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
