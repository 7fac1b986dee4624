import { isRetriable, retried } from './retry.js';

class Passing extends Error {
  readonly retriable = true;
}

describe('retried Kafka calls', () => {
  it('retries an error Kafka marks retriable until the call succeeds', async () => {
    let calls = 0;
    const answer = await retried(
      () => {
        calls += 1;
        return calls < 3 ? Promise.reject(new Passing('not the leader')) : Promise.resolve('ok');
      },
      { initialMs: 1 },
    );
    expect(answer).toBe('ok');
    expect(calls).toBe(3);
  });

  it('never retries another error', async () => {
    let calls = 0;
    const failing = retried(() => {
      calls += 1;
      return Promise.reject(new TypeError('a programming error'));
    });
    await expect(failing).rejects.toThrow('a programming error');
    expect(calls).toBe(1);
  });

  it('gives up after the last retry with the error', async () => {
    await expect(retried(() => Promise.reject(new Passing('still moving')), { retries: 2, initialMs: 1 })).rejects.toThrow('still moving');
  });

  it('finds the retriable flag on a wrapped cause', () => {
    expect(isRetriable(new Error('retries exceeded', { cause: new Passing('not the leader') }))).toBe(true);
    expect(isRetriable(new Error('plain'))).toBe(false);
  });
});
