// streamctl run --top: the job's closed windows as a table of the top keys by count, live on a terminal, a log line otherwise, and the summary at the end.
import type { DeadLetter, RunCounts, Sink, SinkRecord } from '@sluice/runtime';
import { watermarkText } from '@sluice/runtime';

/** What the table ranks: the job's keyBy field and its window's aggregates, the first count (else the first) ranking. */
export interface TopColumns {
  key: string;
  rankBy: string;
  aggregates: string[];
}

/** A key is suspicious when its count in a window is at least this many times the window's median. */
export const SUSPICIOUS_TIMES_MEDIAN = 5;
/**
 * …and at least this count: a window the stream covers for only a few seconds (the first and the last of a run) has a
 * median of 1 or 2, where 5× the median is chance — with 2,000 customers some always reach it.
 */
export const SUSPICIOUS_MIN_COUNT = 20;

/** Whether `count` stands out in a window whose median is `middle`. */
export function standsOut(count: number, middle: number): boolean {
  return middle > 0 && count >= SUSPICIOUS_TIMES_MEDIAN * middle && count >= SUSPICIOUS_MIN_COUNT;
}
/** Closed windows kept for the table; older ones leave only their suspicious keys behind. */
const WINDOWS_KEPT = 3;

interface Window {
  start: string;
  end: string;
  /** Each key's latest result (a late update replaces the earlier one). */
  rows: Map<string, Record<string, unknown>>;
}

export interface Suspect {
  key: string;
  count: number;
  median: number;
  window: string;
  /** How many closed windows had this key at SUSPICIOUS_TIMES_MEDIAN or more. */
  windows: number;
}

/** The columns of a StreamJob spec: keyBy.field and the aggregates of its window; undefined when it has no keyed window. */
export function topColumnsOf(spec: unknown): TopColumns | undefined {
  const pipeline = ((spec as { pipeline?: unknown[] } | undefined)?.pipeline ?? []) as {
    keyBy?: { field?: string };
    aggregate?: { name: string; fn: string }[];
  }[];
  const key = pipeline.find((step) => step.keyBy?.field !== undefined)?.keyBy?.field;
  const aggregates = pipeline.find((step) => step.aggregate !== undefined)?.aggregate ?? [];
  if (key === undefined || aggregates.length === 0) return undefined;
  const rankBy = (aggregates.find((aggregate) => aggregate.fn === 'count') ?? aggregates[0]!).name;
  return { key, rankBy, aggregates: aggregates.map((aggregate) => aggregate.name) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!;
}

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
/** Amounts in a column: cents always shown, so the decimal points line up. */
const cents = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const clock = (iso: string): string => iso.slice(11, 16);
const span = (window: Window): string => `${window.start.slice(0, 10)} ${clock(window.start)}–${clock(window.end)}`;

/** The results sink of a --top run: keeps the newest closed windows and every key that stood out in any window. */
export class WindowLeaders implements Sink {
  readonly #windows = new Map<string, Window>();
  readonly #suspects = new Map<string, Suspect>();
  /** The largest total of the ranking aggregate over the windows seen so far: what a window the stream covers whole holds. */
  #largestTotal = 0;
  closedWindows = 0;
  firstWindow: string | undefined;

  constructor(readonly columns: TopColumns) {}

  write(record: SinkRecord): DeadLetter | undefined {
    const value = record.value;
    const start = String(value.window_start);
    let window = this.#windows.get(start);
    if (window === undefined) {
      window = { start, end: String(value.window_end), rows: new Map() };
      this.#windows.set(start, window);
      this.closedWindows += 1;
      this.firstWindow ??= start;
      this.#forgetOldWindows();
    }
    window.rows.set(String(value[this.columns.key]), value);
    this.#largestTotal = Math.max(this.#largestTotal, this.#total(window));
    return undefined;
  }

  commit(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    for (const window of this.#windows.values()) this.#noteSuspects(window);
    return Promise.resolve();
  }

  /** The newest closed window, its top `n` rows by the ranking aggregate, and the median of that aggregate. */
  newest(n: number): { window: Window; top: Record<string, unknown>[]; median: number } | undefined {
    const window = [...this.#windows.values()].sort((a, b) => (a.start < b.start ? 1 : -1))[0];
    if (window === undefined) return undefined;
    const rows = [...window.rows.values()];
    const top = rows.sort((a, b) => this.#count(b) - this.#count(a)).slice(0, n);
    return { window, top, median: median([...window.rows.values()].map((row) => this.#count(row))) };
  }

  /** Keys that stood out, most extreme first (after close(), over every window). */
  suspects(): Suspect[] {
    return [...this.#suspects.values()].sort((a, b) => b.count / b.median - a.count / a.median);
  }

  #count(row: Record<string, unknown>): number {
    const count = row[this.columns.rankBy];
    return typeof count === 'number' ? count : 0;
  }

  #forgetOldWindows(): void {
    const starts = [...this.#windows.keys()].sort();
    for (const start of starts.slice(0, Math.max(0, starts.length - WINDOWS_KEPT))) {
      this.#noteSuspects(this.#windows.get(start)!);
      this.#windows.delete(start);
    }
  }

  #total(window: Window): number {
    let total = 0;
    for (const row of window.rows.values()) total += this.#count(row);
    return total;
  }

  /**
   * A window the stream covers only in part — the first and the last of a run, which a run started or stopped at any
   * moment cuts — holds a fraction of a whole window's records, and its median is small enough for chance to reach 5×
   * it: it is shown but not judged. Whole means at least half the largest window's total.
   */
  #noteSuspects(window: Window): void {
    if (this.#total(window) * 2 < this.#largestTotal) return;
    const middle = median([...window.rows.values()].map((row) => this.#count(row)));
    for (const [key, row] of window.rows) {
      const count = this.#count(row);
      if (!standsOut(count, middle)) continue;
      const known = this.#suspects.get(key);
      if (known !== undefined && known.count / known.median >= count / middle) known.windows += 1;
      else this.#suspects.set(key, { key, count, median: middle, window: span(window), windows: (known?.windows ?? 0) + 1 });
    }
  }
}

/** Dead letters of a --top run: counted by the run, the first few reasons kept for the summary instead of printed over the table. */
export class KeptDeadLetters implements Sink {
  readonly reasons: string[] = [];

  constructor(private readonly limit = 5) {}

  write(record: SinkRecord): DeadLetter | undefined {
    if (this.reasons.length < this.limit) this.reasons.push(String(record.value.reason));
    return undefined;
  }

  commit(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface Progress {
  job: string;
  counts: RunCounts;
  eventsPerSecond: number;
  watermark: number;
}

/** The table as lines: a status line, the window, the ranked rows with their multiple of the median. */
export function frame(leaders: WindowLeaders, progress: Progress, rows: number): string[] {
  const { counts } = progress;
  const { key, rankBy, aggregates } = leaders.columns;
  const lines = [
    `${progress.job} · ${whole.format(progress.eventsPerSecond)} events/s · ${whole.format(counts.recordsIn)} events · watermark ${watermarkText(progress.watermark)} · ${whole.format(counts.late)} late · ${whole.format(counts.deadLettered)} dead-lettered`,
  ];
  const newest = leaders.newest(rows);
  if (newest === undefined) {
    lines.push('no window has closed yet: a window closes once the watermark passes its end');
    return lines;
  }
  lines.push(
    `window ${span(newest.window)} (newest of ${whole.format(leaders.closedWindows)} closed) · ${whole.format(newest.window.rows.size)} ${key} values · median ${rankBy} ${number.format(newest.median)}`,
  );
  const header = ['#', key, ...aggregates, '× median'];
  const body = newest.top.map((row, i) => {
    const count = row[rankBy] as number;
    const times = newest.median > 0 ? count / newest.median : 0;
    const flag = standsOut(count, newest.median) ? '  ◀ suspicious' : '';
    return [String(i + 1), String(row[key]), ...aggregates.map((name) => shown(row[name], name !== rankBy)), `${times.toFixed(1)}${flag}`];
  });
  lines.push(...table([header, ...body]));
  return lines;
}

/** A cell: the ranking count whole, other numbers (sums, averages) with cents so a column's decimal points line up. */
function shown(value: unknown, withCents = false): string {
  if (typeof value === 'number') return withCents ? cents.format(value) : whole.format(value);
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

/** Columns padded to their widest cell; text left, numbers right. */
function table(cells: string[][]): string[] {
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => row[column]!.replace(/ {2}◀.*$/, '').length)));
  return cells.map((row) =>
    row
      .map((cell, column) => (column === 1 || column === row.length - 1 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** One log line for a stdout that is not a terminal. */
export function logLine(leaders: WindowLeaders, progress: Progress, rows: number): string {
  const { counts } = progress;
  const tail = `${whole.format(progress.eventsPerSecond)} events/s · watermark ${watermarkText(progress.watermark)} · ${whole.format(counts.late)} late · ${whole.format(counts.deadLettered)} dead-lettered`;
  const newest = leaders.newest(rows);
  if (newest === undefined) return `${progress.job}: no window closed yet · ${tail}`;
  const top = newest.top.map((row) => `${String(row[leaders.columns.key])}=${shown(row[leaders.columns.rankBy])}`).join(' ');
  return `${progress.job}: window ${span(newest.window)} top ${leaders.columns.rankBy} ${top} (median ${number.format(newest.median)}) · ${tail}`;
}

/** The lines printed when the run ends: windows, the keys that stood out, dead letters. */
export function summaryLines(leaders: WindowLeaders, deadLetters: { count: number; reasons: readonly string[] }): string[] {
  const { key, rankBy } = leaders.columns;
  const lines = [`windows: ${whole.format(leaders.closedWindows)} closed${leaders.firstWindow === undefined ? '' : `, the first at ${leaders.firstWindow}`}`];
  const suspects = leaders.suspects();
  if (suspects.length === 0)
    lines.push(`suspicious ${key}s: none (no ${rankBy} reached ${SUSPICIOUS_TIMES_MEDIAN}× its window's median and ${SUSPICIOUS_MIN_COUNT})`);
  else {
    lines.push(`suspicious ${key}s (a 5-minute ${rankBy} at least ${SUSPICIOUS_TIMES_MEDIAN}× the window's median and at least ${SUSPICIOUS_MIN_COUNT}):`);
    for (const suspect of suspects.slice(0, 10)) {
      const times = (suspect.count / suspect.median).toFixed(1);
      lines.push(
        `  ${suspect.key}: ${whole.format(suspect.count)} in ${suspect.window} (${times}× the median ${number.format(suspect.median)}); stood out in ${suspect.windows} window${suspect.windows === 1 ? '' : 's'}`,
      );
    }
  }
  if (deadLetters.count === 0) lines.push('dead letters: none');
  else lines.push(`dead letters: ${whole.format(deadLetters.count)}; the first reasons: ${deadLetters.reasons.join(' | ')}`);
  return lines;
}

/** Where the view goes: a terminal gets the table redrawn in place at most every `everyMs`; a log gets a line every `logEveryMs`. */
export class TopView {
  #drawnLines = 0;
  #lastDrawn = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly leaders: WindowLeaders,
    private readonly rows = 10,
    private readonly now: () => number = () => performance.now(),
    private readonly everyMs = 250,
    private readonly logEveryMs = 5_000,
  ) {
    if (out.isTTY !== true) this.#lastDrawn = now();
  }

  get live(): boolean {
    return this.out.isTTY === true;
  }

  /** Redraws when enough time has passed since the last drawing; `force` draws anyway (the last frame). */
  show(progress: Progress, force = false): void {
    const now = this.now();
    if (!force && now - this.#lastDrawn < (this.live ? this.everyMs : this.logEveryMs)) return;
    this.#lastDrawn = now;
    if (!this.live) {
      this.out.write(`${logLine(this.leaders, progress, 3)}\n`);
      return;
    }
    // A line wider than the terminal wraps onto two rows, and moving back by lines would then leave rows behind.
    const width = this.out.columns;
    const lines = frame(this.leaders, progress, this.rows).map((line) =>
      width !== undefined && width > 0 && line.length >= width ? line.slice(0, width - 1) : line,
    );
    // Up to the first line of the previous frame, clear to the end of the screen, draw the new one.
    const back = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}F\x1b[J` : '';
    this.out.write(`${back}${lines.map((line) => `${line}\x1b[K`).join('\n')}\n`);
    this.#drawnLines = lines.length;
  }
}
