#!/usr/bin/env node
// The runtime pod's process: compile the job from SLUICE_JOB_FILE, restore, run exactly-once on Kafka, serve health, metrics and control.
import { messageOf } from './error-message.js';
import { readConfig, readLogLevel } from './process/config.js';
import { createRuntimeLog, type RuntimeLog } from './process/log.js';
import { Runtime } from './process/runtime.js';
import { buildServer } from './process/server.js';

/**
 * The pod's log, bound to the task (which of the job's parallel pods this is: its StatefulSet ordinal) and then to the
 * job as main learns them, so a failure at any step names both.
 */
let log: RuntimeLog = createRuntimeLog();

/**
 * A failure as log fields: the message, and the code and the record's coordinates where the error carries them. The
 * controller reads `error` and `code` from the last `failed` line of the pod's termination message (its last 2 KB).
 */
function failure(error: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = { error: messageOf(error) };
  for (const name of ['code', 'topic', 'partition', 'offset'] as const) {
    const value = (error as Partial<Record<typeof name, unknown>> | null)?.[name];
    if (value !== undefined) fields[name] = value;
  }
  return fields;
}

/**
 * Logs why the process fails: first the error with its stack (and causes), then the short `failed` line last, so a
 * stack longer than the termination message's 2 KB cannot cut that line.
 */
function logFailure(error: unknown): void {
  log.error({ err: error }, 'failure');
  log.error(failure(error), 'failed');
}

/** Resolves with the first SIGTERM or SIGINT: how the kubelet ends a pod (and a developer ends a local run). */
function signalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
}

async function main(): Promise<number> {
  log.level = readLogLevel();
  const config = readConfig();
  log = log.child({ task: config.ordinal });
  const runtime = await Runtime.open(config, {
    onCommit: (report) => log.info({ messages: report.messages, changelogRecords: report.changelogRecords, ms: report.durationMs }, 'committed'),
    onCheckpoint: (result) =>
      'error' in result ? log.warn({ error: messageOf(result.error), err: result.error }, 'checkpoint failed') : log.info(result, 'checkpoint'),
    onSnapshotUnreadable: (partition, error) =>
      log.warn({ partition, error: error.message, err: error }, 'checkpoint unreadable; restoring the partition from its whole changelog'),
    onRepartitionPurged: (topic, result) =>
      'error' in result
        ? log.warn(
            { topic, error: result.error.message },
            'repartition topic not purged; the job goes on and tries again (grant the job DELETE on the topic, or it grows until its retention)',
          )
        : log.debug({ topic, before: Object.fromEntries(result.before) }, 'repartition purged'),
    // The subject's value is personal data: the line carries its hash.
    onErasure: (report) => log.info(report, 'erased'),
  });
  log = log.child({ job: runtime.job.name });
  let closing: Promise<void> | undefined;
  // Whoever asks first (a signal, the end of a bounded input) closes; the other waits for the same close.
  const close = (reason: string): Promise<void> =>
    (closing ??= (async () => {
      log.info({ reason }, 'stopping');
      await runtime.close();
      await server.close();
    })());
  const server = buildServer({ target: runtime, registry: runtime.metrics.registry, controlToken: config.controlToken, log });
  await server.listen({ host: config.httpHost, port: config.httpPort });
  log.info({ port: (server.server.address() as { port: number }).port, ordinal: config.ordinal, parallelism: config.parallelism }, 'listening');
  // A pod stops cleanly on a signal: what was processed is committed in a final transaction.
  const signal = signalled();
  void signal.then((name) => close(name));
  const started = Date.now();
  await runtime.start();
  const { partitions, restoredRecords, restoredFromSnapshot, restoredFromSavepoint, discardedState } = runtime.taskSet;
  log.info(
    {
      partitions,
      restoredFromSnapshot,
      restoredFromSavepoint: restoredFromSavepoint ?? null,
      discardedState: discardedState ?? null,
      restoredRecords,
      restoreMs: Date.now() - started,
    },
    'running',
  );
  try {
    await runtime.taskSet.done;
  } catch (error) {
    // /healthz answers 503 from here on; the exit makes the kubelet restart the pod, which resumes from the last commit.
    logFailure(error);
    await server.close();
    return 1;
  }
  const status = runtime.status();
  if (runtime.stopRequested && closing === undefined) {
    // Stopped by POST /stop: an exit would make the StatefulSet restart the pod on the old spec, past its savepoint.
    log.info(
      { recordsIn: status.recordsIn, recordsOut: status.recordsOut, lastSavepoint: status.lastSavepoint, seconds: (Date.now() - started) / 1000 },
      'stopped',
    );
    await close(await signal);
    return 0;
  }
  log.info({ recordsIn: status.recordsIn, recordsOut: status.recordsOut, seconds: (Date.now() - started) / 1000 }, 'finished');
  await close('finished');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    logFailure(error);
    process.exit(1);
  },
);
