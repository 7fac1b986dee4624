// What keeps one compatibility comparison finite and small: pairs already compared, and a budget of depth and steps.
import { SluiceError } from '@sluice/crds/errors';

/**
 * How deep one comparison may recurse. Named Avro types and JSON Schema `$ref`s can chain types far deeper than the
 * text nests, so the text's bound does not bound this; the checks overflow the stack between 800 and 1,800 levels.
 */
export const maxComparisonDepth = 256;
/** How many type pairs one comparison may visit, so a schema whose shared types multiply the work cannot hold the event loop. */
export const maxComparisonSteps = 50_000;

/** A comparison that went past `maxComparisonDepth` or `maxComparisonSteps`; `limit` says which, in words. */
export class ComparisonTooLarge extends SluiceError {
  override readonly code = 'SLUICE_E_SCHEMA_COMPARISON_TOO_LARGE';

  constructor(readonly limit: string) {
    super(`comparing the schemas ${limit}`);
  }
}

export class ComparisonBudget {
  private steps = 0;

  constructor(
    private readonly maxDepth = maxComparisonDepth,
    private readonly maxSteps = maxComparisonSteps,
  ) {}

  /** Counts one step at `depth`; throws ComparisonTooLarge past either limit. */
  spend(depth: number): void {
    if (depth > this.maxDepth) throw new ComparisonTooLarge(`goes more than ${this.maxDepth} types deep`);
    if (++this.steps > this.maxSteps) throw new ComparisonTooLarge(`takes more than ${this.maxSteps} steps`);
  }
}

/** A set of (reader, writer) pairs by identity. */
export class PairSet<Reader extends object, Writer extends object> {
  private readonly pairs = new WeakMap<Reader, WeakSet<Writer>>();

  has(reader: Reader, writer: Writer): boolean {
    return this.pairs.get(reader)?.has(writer) ?? false;
  }

  add(reader: Reader, writer: Writer): void {
    const writers = this.pairs.get(reader) ?? new WeakSet<Writer>();
    writers.add(writer);
    this.pairs.set(reader, writers);
  }

  delete(reader: Reader, writer: Writer): void {
    this.pairs.get(reader)?.delete(writer);
  }
}

/**
 * Pairs found compatible, so a type shared by many fields is compared once. A pair is remembered only when its answer
 * did not rest on the assumption that a pair still being compared (a recursive type) is compatible: that one may yet fail.
 */
export class CompatiblePairs<Reader extends object, Writer extends object> {
  private readonly known = new PairSet<Reader, Writer>();
  private assumptions = 0;

  has(reader: Reader, writer: Writer): boolean {
    return this.known.has(reader, writer);
  }

  /** Called when a comparison answers "compatible" for a pair in progress instead of comparing it again. */
  assume(): void {
    this.assumptions++;
  }

  /** Runs `compare` for the pair and remembers the pair when it came out compatible on its own. */
  remember(reader: Reader, writer: Writer, compare: () => string[]): string[] {
    const before = this.assumptions;
    const found = compare();
    if (found.length === 0 && this.assumptions === before) this.known.add(reader, writer);
    return found;
  }
}
