// The generated sequence: a workload's events stamped by the simulated event clock, with disorder and late events.
import type { ResolvedOptions } from './options.js';
import { UNPACED_RATE, WORKLOADS } from './options.js';
import { Prng } from './prng.js';
import type { Workload } from './workload.js';

const DAY = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));

export class Events {
  /** How many events have been generated. */
  index = 0;
  private readonly workload: Workload;
  /** A stream apart from the workload's, so disorder and lateness move timestamps without changing the events. */
  private readonly time: Prng;
  private readonly rate: number;

  constructor(private readonly o: ResolvedOptions) {
    this.rate = o.rate > 0 ? o.rate : UNPACED_RATE;
    this.workload = WORKLOADS[o.workload].create(o.seed, o.keys, this.rate);
    this.time = new Prng(o.seed, 'time');
  }

  next(): Record<string, unknown> {
    const value = this.workload.next();
    const clock = this.o.start + Math.floor((this.index * 1000) / this.rate);
    // Both draws happen for every event, whatever the options, so the options never shift later draws.
    const late = this.time.next() < this.o.lateFraction;
    const jitter = Math.floor(this.time.next() * (this.o.disorder + 1));
    value.timestamp = this.iso(clock - jitter - (late ? this.o.lateBy : 0));
    this.index += 1;
    return value;
  }

  private day = Number.NaN;
  private prefix = '';

  /** ISO-8601 with milliseconds, as toISOString writes it; the date part is formatted once per day. */
  private iso(ms: number): string {
    const day = Math.floor(ms / DAY);
    if (day !== this.day) {
      this.day = day;
      const whole = new Date(day * DAY).toISOString();
      this.prefix = whole.slice(0, whole.indexOf('T') + 1);
    }
    let rest = ms - day * DAY;
    const milli = rest % 1000;
    rest = (rest - milli) / 1000;
    const second = rest % 60;
    rest = (rest - second) / 60;
    const minute = rest % 60;
    const hour = (rest - minute) / 60;
    return `${this.prefix}${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  }
}
