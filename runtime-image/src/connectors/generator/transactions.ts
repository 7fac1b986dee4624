// The `transactions` workload: card payments of `keys` customers at a fixed set of merchants, with occasional fraud bursts and a few planted fraudsters.
import { Prng, Weighted } from './prng.js';
import type { Workload, WorkloadSpec } from './workload.js';

interface Country {
  code: string;
  currency: string;
  /** Units of the currency per NZD, and its decimals. */
  perNzd: number;
  decimals: number;
}

/** Where customers live and merchants trade, with how common each is. */
const COUNTRY_WEIGHTS: [Country, number][] = [
  [{ code: 'NZ', currency: 'NZD', perNzd: 1, decimals: 2 }, 45],
  [{ code: 'AU', currency: 'AUD', perNzd: 0.92, decimals: 2 }, 20],
  [{ code: 'US', currency: 'USD', perNzd: 0.6, decimals: 2 }, 12],
  [{ code: 'GB', currency: 'GBP', perNzd: 0.47, decimals: 2 }, 8],
  [{ code: 'DE', currency: 'EUR', perNzd: 0.55, decimals: 2 }, 5],
  [{ code: 'FR', currency: 'EUR', perNzd: 0.55, decimals: 2 }, 3],
  [{ code: 'SG', currency: 'SGD', perNzd: 0.8, decimals: 2 }, 3],
  [{ code: 'JP', currency: 'JPY', perNzd: 90, decimals: 0 }, 4],
];
const COUNTRIES = new Weighted(COUNTRY_WEIGHTS);

type Channel = 'pos' | 'online' | 'mobile' | 'atm';

interface Category {
  name: string;
  /** Median amount in NZD and the spread of its log-normal distribution. */
  median: number;
  sigma: number;
  channels: Weighted<Channel>;
}

const category = (name: string, median: number, sigma: number, channels: [Channel, number][]): Category => ({
  name,
  median,
  sigma,
  channels: new Weighted(channels),
});

const CATEGORIES = new Weighted<Category>([
  [
    category('grocery', 65, 0.7, [
      ['pos', 80],
      ['online', 15],
      ['mobile', 5],
    ]),
    25,
  ],
  [
    category('restaurants', 45, 0.6, [
      ['pos', 85],
      ['mobile', 15],
    ]),
    20,
  ],
  [
    category('retail', 90, 0.9, [
      ['pos', 60],
      ['online', 30],
      ['mobile', 10],
    ]),
    15,
  ],
  [
    category('online_services', 25, 0.8, [
      ['online', 70],
      ['mobile', 30],
    ]),
    12,
  ],
  [category('fuel', 80, 0.4, [['pos', 100]]), 10],
  [category('cash', 120, 0.7, [['atm', 100]]), 7],
  [
    category('electronics', 350, 1.0, [
      ['pos', 40],
      ['online', 50],
      ['mobile', 10],
    ]),
    5,
  ],
  [
    category('travel', 600, 0.9, [
      ['online', 80],
      ['pos', 20],
    ]),
    3,
  ],
  [
    category('gambling', 100, 1.1, [
      ['online', 60],
      ['mobile', 40],
    ]),
    2,
  ],
  [
    category('jewelry', 800, 1.0, [
      ['pos', 80],
      ['online', 20],
    ]),
    1,
  ],
]);

const MERCHANTS = 5000;
/** Per event: the chance a fraud burst starts, and (while bursts run) the chance the event belongs to one. */
const BURST_START = 0.0004;
const BURST_SHARE = 0.25;
const RISKY = new Set(['electronics', 'online_services', 'gambling', 'jewelry']);
/**
 * Planted fraudsters: this many customers, chosen by the seed, who now and then pay at FRAUD_VELOCITY times an ordinary
 * customer's pace for a minute or two, so that their 5-minute counts stand out in any window that holds a burst.
 */
const FRAUDSTERS = 3;
const FRAUD_VELOCITY = 40;
/** At most this share of all events belongs to one bursting fraudster, so that a run with few keys stays mostly ordinary. */
const MAX_FRAUD_SHARE = 0.02;

/** A planted fraudster's schedule in event time: a burst of `burstSeconds` every `periodSeconds`, shifted by `offsetSeconds`. */
export interface PlantedFraudster {
  customerId: string;
  periodSeconds: number;
  burstSeconds: number;
  offsetSeconds: number;
}

interface Fraudster extends PlantedFraudster {
  customer: number;
  /** The burst whose country and test payments `tests` and `country` hold. */
  burst: number;
  tests: number;
  country: Country;
}

interface Merchant {
  id: string;
  country: Country;
  category: Category;
}

/** A card-testing burst: a few tiny payments abroad, then large ones, in quick succession. */
interface Burst {
  customer: number;
  left: number;
  tests: number;
  country: Country;
}

class Transactions implements Workload {
  private readonly rng: Prng;
  private readonly homes: Country[];
  private readonly merchants: Merchant[];
  private readonly byCountry = new Map<string, Merchant[]>();
  private readonly risky = new Map<string, Merchant[]>();
  private readonly bursts: Burst[] = [];
  private readonly fraudsters: Fraudster[];
  /** The planted fraudsters bursting now, and the event index at which that set may change. */
  private bursting: Fraudster[] = [];
  private recheckAt = 0;
  private index = 0;
  private readonly fraudShare: number;

  constructor(
    seed: number | string,
    private readonly keys: number,
    private readonly rate: number,
  ) {
    const profiles = new Prng(seed, 'transactions/profiles');
    this.homes = Array.from({ length: keys }, () => COUNTRIES.pick(profiles));
    this.merchants = Array.from({ length: MERCHANTS }, (_, i) => ({ id: `M${i + 1}`, country: COUNTRIES.pick(profiles), category: CATEGORIES.pick(profiles) }));
    for (const m of this.merchants) {
      push(this.byCountry, m.country.code, m);
      if (RISKY.has(m.category.name)) push(this.risky, m.country.code, m);
    }
    this.rng = new Prng(seed, 'transactions/events');
    this.fraudsters = plantFraudsters(seed, keys).map((planted) => ({
      ...planted,
      customer: Number(planted.customerId.slice(1)) - 1,
      burst: -1,
      tests: 0,
      country: this.homes[0]!,
    }));
    this.fraudShare = Math.min(MAX_FRAUD_SHARE, FRAUD_VELOCITY / keys);
  }

  next(): Record<string, unknown> {
    const rng = this.rng;
    const index = this.index++;
    if (index >= this.recheckAt) this.schedule(index);
    if (this.bursting.length > 0 && rng.chance(this.fraudShare * this.bursting.length)) return this.planted(this.bursting[rng.int(this.bursting.length)]!);
    if (rng.chance(BURST_START)) {
      const customer = rng.int(this.keys);
      const home = this.homes[customer]!;
      const abroad = COUNTRY_WEIGHTS.map(([c]) => c).filter((c) => c.code !== home.code && this.risky.has(c.code));
      this.bursts.push({ customer, left: rng.between(8, 30), tests: rng.between(2, 4), country: rng.pick(abroad) });
    }
    if (this.bursts.length > 0 && rng.chance(BURST_SHARE)) return this.fraud();
    const customer = rng.int(this.keys);
    const home = this.homes[customer]!;
    const pool = rng.chance(0.95) ? (this.byCountry.get(home.code) ?? this.merchants) : this.merchants;
    const merchant = rng.pick(pool);
    const cat = merchant.category;
    const channel = cat.channels.pick(rng);
    return this.event(rng, customer, merchant, cat.median * Math.exp(cat.sigma * rng.normal()), channel);
  }

  /** Which planted fraudsters burst at event `index`, and the next index at which one starts or stops. */
  private schedule(index: number): void {
    const seconds = index / this.rate;
    let untilChange = Number.POSITIVE_INFINITY;
    this.bursting = [];
    for (const fraudster of this.fraudsters) {
      const shifted = seconds + fraudster.offsetSeconds;
      const phase = shifted % fraudster.periodSeconds;
      if (phase < fraudster.burstSeconds) {
        this.bursting.push(fraudster);
        untilChange = Math.min(untilChange, fraudster.burstSeconds - phase);
        const burst = Math.floor(shifted / fraudster.periodSeconds);
        if (burst !== fraudster.burst) this.startBurst(fraudster, burst);
      } else {
        untilChange = Math.min(untilChange, fraudster.periodSeconds - phase);
      }
    }
    this.recheckAt = index + Math.max(1, Math.ceil(untilChange * this.rate));
  }

  private startBurst(fraudster: Fraudster, burst: number): void {
    const home = this.homes[fraudster.customer]!;
    const abroad = COUNTRY_WEIGHTS.map(([c]) => c).filter((c) => c.code !== home.code && this.risky.has(c.code));
    fraudster.burst = burst;
    fraudster.tests = this.rng.between(2, 4);
    fraudster.country = this.rng.pick(abroad);
  }

  /** A planted fraudster's payment: card tests of a few dollars abroad first, then large ones at risky merchants. */
  private planted(fraudster: Fraudster): Record<string, unknown> {
    const rng = this.rng;
    const merchant = rng.pick(this.risky.get(fraudster.country.code)!);
    const testing = fraudster.tests > 0;
    if (testing) fraudster.tests -= 1;
    const nzd = testing ? 1 + rng.next() * 4 : 300 + rng.next() * 2700;
    return this.event(rng, fraudster.customer, merchant, nzd, rng.chance(0.7) ? 'online' : 'mobile');
  }

  private fraud(): Record<string, unknown> {
    const rng = this.rng;
    const i = rng.int(this.bursts.length);
    const burst = this.bursts[i]!;
    const merchant = rng.pick(this.risky.get(burst.country.code)!);
    const testing = burst.tests > 0;
    const nzd = testing ? 1 + rng.next() * 4 : 300 + rng.next() * 2700;
    if (testing) burst.tests -= 1;
    if (--burst.left === 0) this.bursts.splice(i, 1);
    return this.event(rng, burst.customer, merchant, nzd, rng.chance(0.7) ? 'online' : 'mobile');
  }

  private event(rng: Prng, customer: number, merchant: Merchant, nzd: number, channel: Channel): Record<string, unknown> {
    const country = merchant.country;
    const scale = 10 ** country.decimals;
    const local = nzd * country.perNzd;
    // ATMs pay out in notes: twenties, or thousands of yen.
    const note = country.decimals === 0 ? 1000 : 20;
    const amount = merchant.category.name === 'cash' ? note * Math.max(1, Math.round(local / note)) : Math.max(1 / scale, Math.round(local * scale) / scale);
    return {
      transaction_id: `tx-${rng.hex(16)}`,
      customer_id: `C${customer + 1}`,
      merchant_id: merchant.id,
      merchant_category: merchant.category.name,
      amount,
      currency: country.currency,
      country: country.code,
      channel,
    };
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The seed's planted fraudsters: FRAUDSTERS distinct customers (all of them when there are fewer keys), each bursting
 * for 60–120 s of event time every 5–10 minutes, the first burst starting within the first period.
 */
export function plantFraudsters(seed: number | string, keys: number): PlantedFraudster[] {
  const rng = new Prng(seed, 'transactions/fraudsters');
  const customers = new Set<number>();
  while (customers.size < Math.min(FRAUDSTERS, keys)) customers.add(rng.int(keys));
  return [...customers].map((customer) => {
    const periodSeconds = rng.between(300, 600);
    return { customerId: `C${customer + 1}`, periodSeconds, burstSeconds: rng.between(60, 120), offsetSeconds: rng.int(periodSeconds) };
  });
}

export const transactions: WorkloadSpec = {
  keyFields: ['customer_id', 'merchant_id'],
  create: (seed, keys, rate) => new Transactions(seed, keys, rate),
};
