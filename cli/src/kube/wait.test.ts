import { CommandError } from './io.js';
import { timeoutMs, waitFor } from './wait.js';

function recorder(tty: boolean) {
  let text = '';
  return { writer: { write: (more: string) => (text += more), isTTY: tty }, text: () => text };
}

/** A read that returns the states in turn, then the last one forever. */
function states(...sequence: string[]): () => Promise<string> {
  let next = 0;
  return () => Promise.resolve(sequence[Math.min(next++, sequence.length - 1)]!);
}

const base = { what: 'the thing', timeoutMs: 60_000, timeoutText: '1m', hint: 'look at the thing', intervalMs: 1 };

describe('waitFor', () => {
  it('returns the outcome once the check passes, printing a plain line for each state seen on a pipe', async () => {
    const stderr = recorder(false);
    const outcome = await waitFor({
      ...base,
      read: states('starting', 'starting', 'half way', 'done'),
      check: (s) => (s === 'done' ? 'ok' : undefined),
      progress: (s) => s,
      stderr: stderr.writer,
    });
    expect(outcome).toBe('ok');
    expect(stderr.text().split('\n')).toEqual([
      expect.stringMatching(/^waiting for the thing: starting \(\d+s\)$/),
      expect.stringMatching(/^waiting for the thing: half way \(\d+s\)$/),
      '',
    ]);
  });

  it('rewrites one line on a terminal and clears it at the end', async () => {
    const stderr = recorder(true);
    await waitFor({ ...base, read: states('starting', 'done'), check: (s) => (s === 'done' ? true : undefined), progress: (s) => s, stderr: stderr.writer });
    const clearLine = '\r\x1b[2K';
    expect(stderr.text().startsWith(`${clearLine}waiting for the thing: starting (`)).toBe(true);
    expect(stderr.text().endsWith(`s)${clearLine}`)).toBe(true);
  });

  it('ends with a failure the check throws', async () => {
    const failing = waitFor({
      ...base,
      read: states('broken'),
      check: () => {
        throw new CommandError('it broke');
      },
      progress: (s) => s,
      stderr: recorder(false).writer,
    });
    await expect(failing).rejects.toThrow('it broke');
  });

  it('gives up after the timeout, naming what it waited for, the last state and where to look', async () => {
    const waiting = waitFor({
      ...base,
      timeoutMs: 20,
      timeoutText: '20ms',
      read: states('stuck'),
      check: () => undefined,
      progress: (s) => s,
      stderr: recorder(false).writer,
    });
    await expect(waiting).rejects.toThrow('timed out after 20ms waiting for the thing (last seen: stuck); look at the thing, or wait longer with --timeout');
  });
});

describe('timeoutMs', () => {
  it('reads durations such as 90s and 5m, and names the flag otherwise', () => {
    expect(timeoutMs('90s')).toBe(90_000);
    expect(timeoutMs('5m')).toBe(300_000);
    expect(() => timeoutMs('5 minutes')).toThrow('--timeout "5 minutes" is not a duration such as 90s or 10m');
  });
});
