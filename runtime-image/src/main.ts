#!/usr/bin/env node
// The runtime pod's process: compile the job from SLUICE_JOB_FILE, restore, run exactly-once on Kafka, serve health, metrics and control.
import { readConfig } from './process/config.js';
import { Runtime } from './process/runtime.js';
import { buildServer } from './process/server.js';

/** One structured log event per line on stdout; never a record's content. */
function log(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
}

/** A failure as log fields: the message, and the code and the record's coordinates where the error carries them. */
function failure(error: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = { error: error instanceof Error ? error.message : String(error) };
  for (const name of ['code', 'topic', 'partition', 'offset'] as const) {
    const value = (error as Partial<Record<typeof name, unknown>> | null)?.[name];
    if (value !== undefined) fields[name] = value;
  }
  return fields;
}

/** Resolves with the first SIGTERM or SIGINT: how the kubelet ends a pod (and a developer ends a local run). */
function signalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
}

async function main(): Promise<number> {
  const config = readConfig();
  const runtime = await Runtime.open(config, {
    onCommit: (report) => log('committed', { messages: report.messages, changelogRecords: report.changelogRecords, ms: report.durationMs }),
    onCheckpoint: (result) => ('error' in result ? log('checkpoint failed', { error: result.error.message }) : log('checkpoint', result)),
    onSnapshotUnreadable: (partition, error) => log('checkpoint unreadable; restoring the partition from its whole changelog', { partition, error: error.message }),
  });
  let closing: Promise<void> | undefined;
  // Whoever asks first (a signal, the end of a bounded input) closes; the other waits for the same close.
  const close = (reason: string): Promise<void> =>
    (closing ??= (async () => {
      log('stopping', { reason });
      await runtime.close();
      await server.close();
    })());
  const server = buildServer({ target: runtime, registry: runtime.metrics.registry, controlToken: config.controlToken });
  await server.listen({ host: config.httpHost, port: config.httpPort });
  log('listening', { port: (server.server.address() as { port: number }).port, job: runtime.job.name, ordinal: config.ordinal, parallelism: config.parallelism });
  // A pod stops cleanly on a signal: what was processed is committed in a final transaction.
  const signal = signalled();
  void signal.then((name) => close(name));
  const started = Date.now();
  await runtime.start();
  const { partitions, restoredRecords, restoredFromSnapshot, restoredFromSavepoint, discardedState } = runtime.taskSet;
  log('running', { partitions, restoredFromSnapshot, restoredFromSavepoint: restoredFromSavepoint ?? null, discardedState: discardedState ?? null, restoredRecords, restoreMs: Date.now() - started });
  try {
    await runtime.taskSet.done;
  } catch (error) {
    // /healthz answers 503 from here on; the exit makes the kubelet restart the pod, which resumes from the last commit.
    log('failed', failure(error));
    await server.close();
    return 1;
  }
  const status = runtime.status();
  if (runtime.stopRequested && closing === undefined) {
    // Stopped by POST /stop: an exit would make the StatefulSet restart the pod on the old spec, past its savepoint.
    log('stopped', { recordsIn: status.recordsIn, recordsOut: status.recordsOut, lastSavepoint: status.lastSavepoint, seconds: (Date.now() - started) / 1000 });
    await close(await signal);
    return 0;
  }
  log('finished', { recordsIn: status.recordsIn, recordsOut: status.recordsOut, seconds: (Date.now() - started) / 1000 });
  await close('finished');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log('failed', failure(error));
    process.exit(1);
  },
);
