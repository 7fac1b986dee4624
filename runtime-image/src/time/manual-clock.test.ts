// The manual clock that tests move: its time, and its interval timers firing as often as they fall due, in order.
import { ManualClock } from './manual-clock.js';

describe('ManualClock', () => {
  it('stays where it is until advanced', () => {
    const clock = new ManualClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(250);
    expect(clock.now()).toBe(1_250);
  });

  it('fires each interval as often as it falls due, earliest first, at the time it falls due, until stopped', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    const stopCheckpoints = clock.every(1_000, () => fired.push(`checkpoint@${clock.now()}`));
    clock.every(1_500, () => fired.push(`other@${clock.now()}`));
    clock.advance(3_000);
    expect(fired).toEqual(['checkpoint@1000', 'other@1500', 'checkpoint@2000', 'checkpoint@3000', 'other@3000']);
    stopCheckpoints();
    fired.length = 0;
    clock.advance(1_500);
    expect(fired).toEqual(['other@4500']);
  });
});
