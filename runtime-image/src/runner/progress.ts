// The run's counts as people see them: a live progress line (rewritten on a terminal, every few seconds otherwise) and the summary.
import { formatIsoTime } from '../time/iso8601.js';
import { WATERMARK_END, WATERMARK_START } from '../time/watermark.js';

export interface RunCounts {
  recordsIn: number;
  resultsOut: number;
  late: number;
  deadLettered: number;
  /** Records that broke each of spec.sources[0].rules, by rule name; absent until one does. */
  ruleViolations?: Record<string, number>;
}

export interface RunSummary extends RunCounts {
  seconds: number;
  eventsPerSecond: number;
  /** Where the savepoint taken at the end went, when one was asked for. */
  savepoint?: string;
}

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** The watermark as people read it: a UTC time, or what it means before the first record and after the last. */
export function watermarkText(watermark: number): string {
  if (watermark === WATERMARK_START) return 'none yet';
  if (watermark === WATERMARK_END) return 'end of input';
  return formatIsoTime(watermark).replace('T', ' ').replace('.000Z', 'Z');
}

/** Events a second over the last second or so, not since the start: what a live line should show. */
export class RateMeter {
  #samples: { records: number; seconds: number }[] = [];

  rate(records: number, seconds: number): number {
    this.#samples.push({ records, seconds });
    while (this.#samples.length > 2 && seconds - this.#samples[1]!.seconds >= 1) this.#samples.shift();
    const first = this.#samples[0]!;
    return seconds > first.seconds ? (records - first.records) / (seconds - first.seconds) : 0;
  }
}

export function progressLine(job: string, counts: RunCounts, rate: number, watermark: number): string {
  return `${job}: ${number.format(counts.recordsIn)} in, ${number.format(counts.resultsOut)} out, ${number.format(counts.late)} late, ${number.format(counts.deadLettered)} dead-lettered · ${number.format(rate)} events/s · watermark ${watermarkText(watermark)}`;
}

export function summaryLine(job: string, summary: RunSummary): string {
  const saved = summary.savepoint === undefined ? '' : `; savepoint ${summary.savepoint}`;
  const broken = Object.entries(summary.ruleViolations ?? {});
  const rules = broken.length === 0 ? '' : `; rules broken: ${broken.map(([rule, count]) => `${rule} ${number.format(count)}`).join(', ')}`;
  return `${job}: ${number.format(summary.recordsIn)} records in, ${number.format(summary.resultsOut)} results out, ${number.format(summary.late)} late, ${number.format(summary.deadLettered)} dead-lettered in ${summary.seconds.toFixed(2)} s (${number.format(summary.eventsPerSecond)} events/s)${rules}${saved}`;
}

/** Where progress goes: a terminal gets one line rewritten in place; a log gets a line every `everyMs`. */
export class ProgressReporter {
  /** The first line on a log comes after `everyMs`, so a short run prints only its summary. */
  #lastPrinted = Date.now();
  #drawn = false;

  constructor(
    private readonly err: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly everyMs = 5_000,
  ) {}

  get live(): boolean {
    return this.err.isTTY === true;
  }

  show(line: string): void {
    if (this.live) {
      this.err.write(`\r\x1b[K${line}`);
      this.#drawn = true;
      return;
    }
    const now = Date.now();
    if (now - this.#lastPrinted < this.everyMs) return;
    this.#lastPrinted = now;
    this.err.write(`${line}\n`);
  }

  /** Takes the live line off the terminal, so that results printed on the same terminal do not run into it. */
  clear(): void {
    if (this.#drawn) this.err.write('\r\x1b[K');
    this.#drawn = false;
  }
}
