// The Confluent wire format: magic byte 0, the schema's 4-byte big-endian global id, then the Avro or JSON body.

export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

export type Framed = { ok: true; schemaId: number; body: Buffer } | { ok: false; reason: string };

/** The schema id and body of a framed value, or why the value is not framed. */
export function unframe(value: Buffer): Framed {
  if (value.length === 0) return { ok: false, reason: 'the value is empty; the Confluent wire format starts with magic byte 0 and a 4-byte schema id' };
  if (value[0] !== MAGIC_BYTE) {
    const first = value[0]!;
    const hint = first === 0x7b ? ' (it starts with "{": plain JSON, so the source\'s format should be json)' : '';
    return { ok: false, reason: `the value starts with byte ${first}, not magic byte 0 of the Confluent wire format${hint}` };
  }
  if (value.length < HEADER_BYTES)
    return { ok: false, reason: `the value is ${value.length} bytes, too short for the Confluent wire format's 5-byte header (magic byte and schema id)` };
  return { ok: true, schemaId: value.readUInt32BE(1), body: value.subarray(HEADER_BYTES) };
}

/** The 5-byte header for a schema id, written once per writer and copied in front of each body. */
export function header(schemaId: number): Buffer {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes[0] = MAGIC_BYTE;
  bytes.writeUInt32BE(schemaId, 1);
  return bytes;
}

/** The schema id of a framed value, when it is one: a batch's ids are fetched before its records are decoded. */
export function schemaIdOf(value: Buffer | null): number | undefined {
  return value !== null && value.length >= HEADER_BYTES && value[0] === MAGIC_BYTE ? value.readUInt32BE(1) : undefined;
}
