// FallbackToLogsOnError on the process kubelet: which runs get a message, and how much of the log it keeps.
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logTail, terminationMessage } from './termination-message.js';

const fallback = { name: 'runtime', terminationMessagePolicy: 'FallbackToLogsOnError' } as const;

describe('the termination message of a failed run', () => {
  const log = join(mkdtempSync(join(tmpdir(), 'termination-message-')), 'runtime.log');
  const failed = '{"event":"failed","error":"redis sink: writing to 127.0.0.1:1234 failed 3 times","code":"SLUICE_E_SINK_STUCK"}\n';

  it("is the tail of this run's output only, not of the runs before it", () => {
    writeFileSync(log, 'first run: {"event":"failed","error":"old"}\n');
    const runStart = Buffer.byteLength('first run: {"event":"failed","error":"old"}\n');
    appendFileSync(log, `{"event":"started"}\n${failed}`);
    expect(terminationMessage(fallback, 1, log, runStart)).toBe(`{"event":"started"}\n${failed}`);
  });

  it('is absent on exit 0, under the default File policy, and for a run that wrote nothing', () => {
    writeFileSync(log, failed);
    expect(terminationMessage(fallback, 0, log, 0)).toBeUndefined();
    expect(terminationMessage({ name: 'runtime' }, 1, log, 0)).toBeUndefined();
    expect(terminationMessage(fallback, 1, log, Buffer.byteLength(failed))).toBeUndefined();
    expect(terminationMessage(fallback, 1, join(log, '..', 'missing.log'), 0)).toBeUndefined();
  });
});

describe('the log tail the kubelet keeps', () => {
  it('keeps the last 80 of 100 short lines', () => {
    const lines = Array.from({ length: 100 }, (_, index) => `line ${index}`);
    expect(logTail(Buffer.from(`${lines.join('\n')}\n`))).toBe(`${lines.slice(20).join('\n')}\n`);
  });

  it('keeps the last 2,048 bytes of 10 lines of 1,000 bytes, so the last line written survives whole', () => {
    const lines = Array.from({ length: 10 }, (_, index) => String(index).repeat(999));
    const tail = logTail(Buffer.from(`${lines.join('\n')}\n`));
    expect(Buffer.byteLength(tail)).toBe(2048);
    expect(tail.endsWith(`\n${'9'.repeat(999)}\n`)).toBe(true);
  });

  it('keeps a last line without a newline, and a single line whole', () => {
    expect(logTail(Buffer.from('a\nb'))).toBe('a\nb');
    expect(logTail(Buffer.from('only\n'))).toBe('only\n');
  });
});
