// Avro logical types as the engine reads them: timestamp-millis → epoch ms (a number), date → "2025-12-05", decimal → its exact value as a string.
import avro from 'avsc';

const MS_PER_DAY = 86_400_000;
const ISO_DATE = /^(-?\d{4,})-(\d{2})-(\d{2})/;

/** Epoch ms, the value an event time of format epoch-millis reads; written from a number or an ISO-8601 time (window_start). */
class TimestampMillisType extends avro.types.LogicalType {
  protected override _fromValue(value: number): number {
    return value;
  }

  protected override _toValue(value: unknown): number | undefined {
    if (typeof value === 'number') return Number.isSafeInteger(value) ? value : Number.isFinite(value) ? Math.floor(value) : undefined;
    if (typeof value === 'string') {
      const ms = Date.parse(value);
      return Number.isNaN(ms) ? undefined : ms;
    }
    return value instanceof Date ? value.getTime() : undefined;
  }

  protected override _resolve(type: avro.Type): ((value: number) => number) | undefined {
    if (type instanceof TimestampMillisType || avro.Type.isType(type, 'long', 'int')) return (value) => value;
    return undefined;
  }
}

/** An ISO date string (2025-12-05): CEL compares such strings in date order. Written from that string or an ISO time's date. */
class DateType extends avro.types.LogicalType {
  protected override _fromValue(days: number): string {
    return new Date(days * MS_PER_DAY).toISOString().slice(0, 10);
  }

  protected override _toValue(value: unknown): number | undefined {
    if (typeof value !== 'string' || !ISO_DATE.test(value)) return undefined;
    const ms = Date.parse(`${value.slice(0, 10)}T00:00:00Z`);
    return Number.isNaN(ms) ? undefined : Math.floor(ms / MS_PER_DAY);
  }

  protected override _resolve(type: avro.Type): ((days: number) => number) | undefined {
    return type instanceof DateType || avro.Type.isType(type, 'int') ? (days) => days : undefined;
  }
}

/**
 * The exact decimal as a string ("1234.50", always `scale` fraction digits): a JS number would round it. Written from
 * such a string (at most `scale` fraction digits) or from a number, rounded to `scale` digits (an aggregate's sum).
 */
class DecimalType extends avro.types.LogicalType {
  readonly #scale: number;
  readonly #precision: number;

  constructor(schema: avro.Schema, options?: unknown) {
    super(schema, options);
    const { scale, precision } = schema as { scale?: unknown; precision?: unknown };
    this.#scale = typeof scale === 'number' ? scale : 0;
    this.#precision = typeof precision === 'number' ? precision : Number.POSITIVE_INFINITY;
  }

  protected override _fromValue(bytes: Buffer): string {
    return formatUnscaled(fromTwosComplement(bytes), this.#scale);
  }

  protected override _toValue(value: unknown): Buffer | undefined {
    const text =
      typeof value === 'number' ? (Number.isFinite(value) ? value.toFixed(this.#scale) : undefined) : typeof value === 'string' ? value.trim() : undefined;
    if (text === undefined) return undefined;
    const unscaled = parseUnscaled(text, this.#scale);
    if (unscaled === undefined) return undefined;
    const digits = (unscaled < 0n ? -unscaled : unscaled).toString().length;
    if (digits > this.#precision) return undefined;
    const bytes = toTwosComplement(unscaled);
    const underlying = this.underlyingType as avro.Type & { size?: number };
    // A fixed underlying type takes exactly `size` bytes: sign-extend.
    if (underlying.size !== undefined) {
      if (bytes.length > underlying.size) return undefined;
      const fixed = Buffer.alloc(underlying.size, unscaled < 0n ? 0xff : 0);
      bytes.copy(fixed, underlying.size - bytes.length);
      return fixed;
    }
    return bytes;
  }

  protected override _resolve(type: avro.Type): ((bytes: Buffer) => Buffer) | undefined {
    if (type instanceof DecimalType && type.#scale === this.#scale) return (bytes) => bytes;
    return undefined;
  }
}

/** The logical types every Avro schema of a job is read and written with; others (uuid, time-millis) read as their underlying type. */
export const LOGICAL_TYPES = { 'timestamp-millis': TimestampMillisType, date: DateType, decimal: DecimalType };

/** A decimal string with at most `scale` fraction digits → its unscaled integer; undefined when it is not one. */
function parseUnscaled(text: string, scale: number): bigint | undefined {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (match === null || (match[2] === '' && (match[3] ?? '') === '')) return undefined;
  const fraction = match[3] ?? '';
  if (fraction.length > scale) return undefined;
  const unscaled = BigInt(`${match[2] || '0'}${fraction.padEnd(scale, '0')}`);
  return match[1] === '-' ? -unscaled : unscaled;
}

function formatUnscaled(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const whole = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${whole}` : whole;
}

function fromTwosComplement(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n;
  const unsigned = BigInt(`0x${bytes.toString('hex')}`);
  return (bytes[0]! & 0x80) === 0 ? unsigned : unsigned - (1n << BigInt(bytes.length * 8));
}

/** The shortest big-endian two's complement of `value`, as Avro's decimal stores it. */
function toTwosComplement(value: bigint): Buffer {
  let length = 1;
  while (value < -(1n << BigInt(length * 8 - 1)) || value >= 1n << BigInt(length * 8 - 1)) length++;
  const unsigned = value < 0n ? (1n << BigInt(length * 8)) + value : value;
  return Buffer.from(unsigned.toString(16).padStart(length * 2, '0'), 'hex');
}
