// The three workloads have the seed's fields and the behaviour its use cases look for: velocity bursts, sessions, login attacks.
import type { SourceRecord } from '../source.js';
import type { GeneratorOptions } from './options.js';
import { GeneratorSource } from './source.js';
import { plantFraudsters } from './transactions.js';

async function values(options: GeneratorOptions): Promise<Record<string, unknown>[]> {
  const out: SourceRecord['value'][] = [];
  for await (const batch of new GeneratorSource(options).read()) out.push(...batch.records.map((r) => r.value));
  return out;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const CURRENCY: Record<string, string> = { NZ: 'NZD', AU: 'AUD', US: 'USD', GB: 'GBP', DE: 'EUR', FR: 'EUR', SG: 'SGD', JP: 'JPY' };

test('transactions: the fields of the seed’s example and more, consistent with each other', async () => {
  const events = await values({ workload: 'transactions', count: 5000 });
  expect(Object.keys(events[0]!)).toEqual([
    'transaction_id',
    'customer_id',
    'merchant_id',
    'merchant_category',
    'amount',
    'currency',
    'country',
    'channel',
    'timestamp',
  ]);
  expect(new Set(events.map((e) => e.transaction_id)).size).toBe(events.length);
  for (const e of events) {
    expect(e.customer_id).toMatch(/^C\d+$/);
    expect(e.merchant_id).toMatch(/^M\d+$/);
    expect(e.timestamp).toMatch(ISO);
    expect(typeof e.amount === 'number' && e.amount > 0).toBe(true);
    expect(e.currency).toBe(CURRENCY[e.country as string]);
    expect(['pos', 'online', 'mobile', 'atm']).toContain(e.channel);
    expect(e.channel === 'atm').toBe(e.merchant_category === 'cash');
    if (e.merchant_category === 'cash') expect((e.amount as number) % (e.currency === 'JPY' ? 1000 : 20)).toBe(0);
  }
});

test('transactions: some customers make bursts of payments abroad, far above everyone else’s velocity', async () => {
  // 100 000 customers over 60 s of event time: an ordinary customer pays about once in that minute.
  const events = await values({ workload: 'transactions', count: 60_000, keys: 100_000 });
  const perCustomer = groupBy(events, (e) => e.customer_id as string);
  const bursty = [...perCustomer.values()].filter((list) => list.length >= 8);
  expect(bursty.length).toBeGreaterThanOrEqual(5);
  for (const list of bursty) {
    const countries = groupBy(list, (e) => e.country as string);
    expect(Math.max(...[...countries.values()].map((l) => l.length))).toBeGreaterThanOrEqual(6);
    expect(list.some((e) => (e.amount as number) < 5 * 90)).toBe(true);
  }
});

test('transactions: the seed plants three fraudsters whose 5-minute counts stand out; nobody else comes near', async () => {
  // 2 000 customers at 200 events/s: an ordinary customer pays about 30 times in 5 minutes of event time.
  const minutes = 20;
  const events = await values({ workload: 'transactions', seed: 7, rate: 200, keys: 2000, count: 200 * 60 * minutes });
  const planted = plantFraudsters(7, 2000).map((fraudster) => fraudster.customerId);
  expect(new Set(planted).size).toBe(3);
  const windows = groupBy(events, (e) => String(Math.floor(Date.parse(e.timestamp as string) / 300_000)));
  const stoodOut = new Set<string>();
  for (const window of windows.values()) {
    const counts = [...groupBy(window, (e) => e.customer_id as string)].map(([customer, list]) => ({ customer, count: list.length }));
    const median = counts.map((c) => c.count).sort((a, b) => a - b)[Math.floor(counts.length / 2)]!;
    for (const { customer } of counts.filter((c) => c.count >= 5 * median)) {
      expect(planted).toContain(customer);
      stoodOut.add(customer);
    }
  }
  // Each bursts for 60–120 s every 5–10 minutes, so within 20 minutes every one of them stands out at least once.
  expect([...stoodOut].sort()).toEqual([...planted].sort());
}, 120_000);

test('transactions: the planted fraudsters and their schedule follow from the seed alone', () => {
  expect(plantFraudsters(1, 10_000)).toEqual(plantFraudsters(1, 10_000));
  expect(plantFraudsters(2, 10_000)).not.toEqual(plantFraudsters(1, 10_000));
  for (const fraudster of plantFraudsters(1, 10_000)) {
    expect(fraudster.burstSeconds).toBeGreaterThanOrEqual(60);
    expect(fraudster.burstSeconds).toBeLessThanOrEqual(120);
    expect(fraudster.periodSeconds).toBeGreaterThanOrEqual(300);
    expect(fraudster.periodSeconds).toBeLessThanOrEqual(600);
  }
  expect(
    plantFraudsters(1, 2)
      .map((fraudster) => fraudster.customerId)
      .sort(),
  ).toEqual(['C1', 'C2']);
});

test('clickstream: sessions belong to one user and follow a shop’s flow', async () => {
  const events = await values({ workload: 'clickstream', count: 30_000, keys: 2000 });
  expect(Object.keys(events[0]!)).toEqual(['user_id', 'session_id', 'event_type', 'page', 'product_id', 'category', 'device', 'timestamp']);
  const sessions = groupBy(events, (e) => e.session_id as string);
  expect(sessions.size).toBeGreaterThan(1000);
  let purchases = 0;
  for (const session of sessions.values()) {
    expect(new Set(session.map((e) => e.user_id)).size).toBe(1);
    expect(new Set(session.map((e) => e.device)).size).toBe(1);
    session.forEach((e, i) => {
      const withProduct = ['product_view', 'add_to_cart', 'remove_from_cart'].includes(e.event_type as string);
      expect(e.product_id !== null).toBe(withProduct);
      expect(e.category !== null).toBe(withProduct);
      if (e.event_type === 'product_view') expect(e.page).toBe(`/product/${e.product_id as string}`);
      if (e.event_type === 'purchase') {
        purchases += 1;
        expect(session[i - 1]?.event_type).toBe('checkout');
        expect(i).toBe(session.length - 1);
      }
      if (e.event_type === 'remove_from_cart' || e.event_type === 'checkout') {
        expect(session.slice(0, i).some((earlier) => earlier.event_type === 'add_to_cart')).toBe(true);
      }
    });
  }
  expect(purchases).toBeGreaterThan(50);
});

test('logins: the seed’s fields; attacking IPs fail in bursts, ordinary users rarely fail', async () => {
  // 100 000 users over 50 s of event time: an ordinary user signs in about once in that time.
  const events = await values({ workload: 'logins', count: 50_000, keys: 100_000 });
  expect(Object.keys(events[0]!)).toEqual(['user_id', 'ip', 'result', 'country', 'timestamp']);
  for (const e of events) expect(['success', 'failed']).toContain(e.result);
  const failures = events.filter((e) => e.result === 'failed');
  const attacking = [...groupBy(failures, (e) => e.ip as string)].filter(([, list]) => list.length >= 3);
  expect(attacking.length).toBeGreaterThanOrEqual(10);
  const fromDocumentationRanges = attacking.filter(([ip]) => /^(192\.0\.2|198\.51\.100|203\.0\.113)\./.test(ip));
  expect(fromDocumentationRanges.length / attacking.length).toBeGreaterThan(0.9);
  expect(failures.length / events.length).toBeLessThan(0.15);
  // The CEP case of the seed: three or more failures for one user from one IP, then a success.
  const perUserAndIp = groupBy(events, (e) => `${e.user_id as string}@${e.ip as string}`);
  const breakIns = [...perUserAndIp.values()].filter(
    (list) => list.length >= 4 && list.at(-1)!.result === 'success' && list.slice(0, -1).filter((e) => e.result === 'failed').length >= 3,
  );
  expect(breakIns.length).toBeGreaterThanOrEqual(3);
});
