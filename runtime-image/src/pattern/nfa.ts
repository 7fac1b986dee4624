// CEP matching for one key: partial matches (runs) advanced record by record in event-time order, Flink CEP's skip-till-next-match, SKIP_PAST_LAST_EVENT.

/** One stage of a pattern, as the operator runs it: its condition already evaluated per record (see PatternRecord.matches). */
export interface PatternStage {
  readonly name: string;
  /** How many records the stage takes at least (Flink's times(n)); 1 by default. */
  readonly times: number;
  /** true: times or more (Flink's timesOrMore(n)); false: exactly times. */
  readonly orMore: boolean;
  /** How the stage follows the previous one: strict (`next`) or relaxed (`followedBy`). Ignored on the first stage. */
  readonly contiguity: 'next' | 'followedBy';
}

/** A record as matching sees it: its event time, its place in the key's processed order, and which stages' conditions it meets. */
export interface PatternRecord {
  readonly timestamp: number;
  /** The record's index in its key's event-time order (0, 1, 2, …): `next` asks for consecutive indexes. */
  readonly index: number;
  /** Per stage, in stage order: does the record meet that stage's condition? */
  readonly matches: readonly boolean[];
  readonly value: Record<string, unknown>;
}

/** A record a run took, and for which stage. */
export interface Taken {
  readonly stage: number;
  readonly record: PatternRecord;
}

/**
 * The records a run took, newest first: each link points to the one before. Runs that branched from one run share the
 * links before the branch, so extending a run costs one link, not a copy of its records.
 */
export interface Link extends Taken {
  readonly previous: Link | undefined;
}

/** A partial match: the stage it is in, how many records that stage took so far, its first and last record taken, and how many it took. */
export interface Run {
  readonly stage: number;
  readonly count: number;
  readonly start: PatternRecord;
  readonly last: Link;
  readonly size: number;
}

/** What one record did to a key's runs: the runs that go on, and the match it completed, if any. */
export interface Advance {
  readonly runs: Run[];
  readonly match?: readonly Taken[];
}

export function runStart(run: Run): number {
  return run.start.timestamp;
}

/** A run's records, first to last. */
export function takenBy(run: Run): Taken[] {
  const taken: Taken[] = [];
  for (let link: Link | undefined = run.last; link !== undefined; link = link.previous) taken.push({ stage: link.stage, record: link.record });
  return taken.reverse();
}

function started(record: PatternRecord): Run {
  return { stage: 0, count: 1, start: record, last: { stage: 0, record, previous: undefined }, size: 1 };
}

function extended(run: Run, stage: number, count: number, record: PatternRecord): Run {
  return { stage, count, start: run.start, last: { stage, record, previous: run.last }, size: run.size + 1 };
}

const maxOf = (stage: PatternStage): number => (stage.orMore ? Number.POSITIVE_INFINITY : stage.times);

/** A run is complete once its last stage has taken its minimum: with skip-past-last-event, a longer match is never reported. */
function complete(stages: readonly PatternStage[], run: Run): boolean {
  return run.stage === stages.length - 1 && run.count >= stages[run.stage]!.times;
}

/**
 * The runs that follow `run` when `record` comes next, Flink's skip-till-next-match:
 * - take: the stage is short of its maximum and the record meets its condition (relaxed within the stage, as Flink's
 *   times(n) without consecutive());
 * - proceed: the stage has its minimum and the record meets the next stage's condition, and, for `next`, directly follows
 *   the run's last record; take and proceed both happen when both apply (Flink's non-greedy loops);
 * - skip: otherwise the run waits on, unchanged, as long as a later record may still continue it (the stage may take more,
 *   or the next stage is `followedBy`); a run that can go nowhere ends.
 */
function successors(stages: readonly PatternStage[], run: Run, record: PatternRecord): Run[] {
  const stage = stages[run.stage]!;
  const next = stages[run.stage + 1];
  const last = run.last.record;
  const reachedMinimum = run.count >= stage.times;
  const canTake = run.count < maxOf(stage);
  const followers: Run[] = [];
  if (canTake && record.matches[run.stage]) {
    followers.push(extended(run, run.stage, run.count + 1, record));
  }
  if (next !== undefined && reachedMinimum && record.matches[run.stage + 1] && (next.contiguity === 'followedBy' || record.index === last.index + 1)) {
    followers.push(extended(run, run.stage + 1, 1, record));
  }
  const mayWait = canTake || (next !== undefined && reachedMinimum && next.contiguity === 'followedBy');
  if (followers.length === 0 && mayWait) followers.push(run);
  return followers;
}

/**
 * Of the matches one record completes, the one reported: the earliest start, then the most records, then the earliest
 * records. (Flink reports the earliest start too; among equal starts its order is its priority queue's.)
 */
function better(a: Run, b: Run): boolean {
  if (a.start.index !== b.start.index) return a.start.index < b.start.index;
  if (a.size !== b.size) return a.size > b.size;
  const takenA = takenBy(a);
  const takenB = takenBy(b);
  for (let i = 0; i < takenA.length; i++) {
    if (takenA[i]!.record.index !== takenB[i]!.record.index) return takenA[i]!.record.index < takenB[i]!.record.index;
  }
  return false;
}

/**
 * Advances a key's runs by its next record in event-time order. Runs whose first record is `within` or more before this
 * record are dropped first (a match spans less than `within`); the record may start a new run. When a match completes,
 * skip-past-last-event discards every run: they all started at or before the match's last record (this one).
 */
export function advance(stages: readonly PatternStage[], within: number, runs: readonly Run[], record: PatternRecord): Advance {
  const followers: Run[] = [];
  for (const run of runs) {
    if (record.timestamp - runStart(run) >= within) continue;
    followers.push(...successors(stages, run, record));
  }
  if (record.matches[0]) followers.push(started(record));
  let match: Run | undefined;
  for (const run of followers) {
    if (complete(stages, run) && (match === undefined || better(run, match))) match = run;
  }
  if (match !== undefined) return { runs: [], match: takenBy(match) };
  return { runs: followers };
}
