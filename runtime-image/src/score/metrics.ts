// The score steps' Prometheus metrics: calls by outcome, records scored or failed, and each call's latency.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Dataflow } from '../dataflow/datastream.js';

export type CallOutcome = 'ok' | 'failed';

/** What a score operator reports after each call; a test's observer or the job's ScoreMetrics. */
export interface ScoreObserver {
  call(step: string, outcome: CallOutcome, records: number, seconds: number): void;
}

/**
 * One set of metrics for all score steps of a job, labelled by step id. Built with the dataflow (no registry yet) and
 * registered in the process's registry by `registerScoreMetrics`, so the compiler needs no registry.
 */
export class ScoreMetrics implements ScoreObserver {
  readonly calls = new Counter({
    name: 'sluice_score_calls_total',
    help: 'Calls to a score step’s endpoint that ended, by outcome (failed: after its retries)',
    labelNames: ['step', 'outcome'],
    registers: [],
  });
  readonly records = new Counter({
    name: 'sluice_score_records_total',
    help: 'Records sent by a score step, by the outcome of their call',
    labelNames: ['step', 'outcome'],
    registers: [],
  });
  readonly latency = new Histogram({
    name: 'sluice_score_call_duration_seconds',
    help: 'Duration of one call to a score step’s endpoint, retries included',
    labelNames: ['step', 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [],
  });

  call(step: string, outcome: CallOutcome, records: number, seconds: number): void {
    this.calls.inc({ step, outcome });
    this.records.inc({ step, outcome }, records);
    this.latency.observe({ step, outcome }, seconds);
  }
}

/** Registers the metrics the dataflow's operators feed (its score steps') in `registry`, each once; a job without them adds nothing. */
export function registerOperatorMetrics(registry: Registry, dataflow: Dataflow): void {
  for (const node of dataflow.nodes) {
    for (const metric of node.metrics ?? [])
      if (registry.getSingleMetric((metric as unknown as { name: string }).name) === undefined) registry.registerMetric(metric);
  }
}
