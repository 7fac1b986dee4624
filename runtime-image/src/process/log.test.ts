// The runtime's log lines: the shape the controller and the tests read, levels, bindings, and errors with their stack.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Level } from 'pino';
import { ConfigError, readLogLevel } from './config.js';
import { createRuntimeLog } from './log.js';

/** A log that writes into `lines`, one parsed JSON object each. */
function capture(level?: Level) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createRuntimeLog({ ...(level === undefined ? {} : { level }), destination }), lines };
}

describe('the runtime log', () => {
  it('writes one JSON event a line: the event, its level by name, an ISO time, its fields at the top level', () => {
    const { log, lines } = capture();
    log.info({ messages: 3, changelogRecords: 1, ms: 12 }, 'committed');
    expect(lines).toEqual([
      {
        level: 'info',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
        messages: 3,
        changelogRecords: 1,
        ms: 12,
        event: 'committed',
      },
    ]);
  });

  it('binds the task and the job to every line of a child', () => {
    const { log, lines } = capture();
    log.child({ task: 2 }).child({ job: 'fraud-velocity' }).info({ reason: 'SIGTERM' }, 'stopping');
    expect(lines[0]).toMatchObject({ task: 2, job: 'fraud-velocity', reason: 'SIGTERM', event: 'stopping' });
  });

  it('says only what the level lets through', () => {
    const { log, lines } = capture('warn');
    log.info({}, 'committed');
    log.warn({ error: 'timed out' }, 'checkpoint failed');
    expect(lines.map((line) => [line.level, line.event])).toEqual([['warn', 'checkpoint failed']]);
  });

  it('keeps an error’s type, message, code, stack and cause', () => {
    const { log, lines } = capture();
    const error = new ConfigError('SLUICE_JOB_FILE is not set', { cause: new Error('no such file') });
    log.error({ err: error }, 'failure');
    // pino's serializer appends the causes: to the message after a colon, to the stack as `caused by:`.
    expect(lines[0]!.err).toMatchObject({ type: 'ConfigError', message: 'SLUICE_JOB_FILE is not set: no such file', code: 'SLUICE_E_CONFIG' });
    expect((lines[0]!.err as { stack: string }).stack).toMatch(
      /^ConfigError: SLUICE_JOB_FILE is not set\n {4}at [^]*\ncaused by: Error: no such file\n {4}at /,
    );
  });
});

describe('SLUICE_LOG_LEVEL', () => {
  it('is info unless set, and takes pino’s level names', () => {
    expect(readLogLevel({})).toBe('info');
    expect(readLogLevel({ SLUICE_LOG_LEVEL: '' })).toBe('info');
    expect(readLogLevel({ SLUICE_LOG_LEVEL: 'debug' })).toBe('debug');
  });

  it('refuses a level it does not know, naming the ones it does', () => {
    expect(() => readLogLevel({ SLUICE_LOG_LEVEL: 'verbose' })).toThrow(
      new ConfigError('SLUICE_LOG_LEVEL=verbose is not a log level: set it to one of trace, debug, info, warn, error, fatal'),
    );
  });
});

describe('a runtime pod that fails', () => {
  // The controller reads `error` and `code` from the last `failed` line of the termination message, the log's last 2 KB.
  it('logs the error with its stack, then the short failed line last', () => {
    const repo = join(import.meta.dirname, '..', '..', '..');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'runtime-image/src/main.ts'], {
      cwd: repo,
      env: { PATH: process.env.PATH, SLUICE_POD_ORDINAL: '0' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    const lines = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => [line.level, line.event])).toEqual([
      ['error', 'failure'],
      ['error', 'failed'],
    ]);
    expect(lines[0]!.err).toMatchObject({ type: 'ConfigError', code: 'SLUICE_E_CONFIG', stack: expect.stringContaining('at readConfig') as unknown });
    expect(lines[1]).toMatchObject({ error: expect.stringMatching(/^SLUICE_JOB_FILE is not set/) as unknown, code: 'SLUICE_E_CONFIG' });
  });
});
