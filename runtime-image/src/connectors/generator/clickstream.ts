// The `clickstream` workload: shop sessions of `keys` users — landing, browsing, searching, carts, checkouts.
import { Prng, Weighted } from './prng.js';
import type { Workload, WorkloadSpec } from './workload.js';

const CATEGORIES = ['electronics', 'books', 'home', 'fashion', 'sports', 'beauty', 'toys', 'grocery'] as const;
const PRODUCTS = 5000;
const DEVICES = new Weighted([
  ['mobile', 55],
  ['desktop', 35],
  ['tablet', 10],
] as const);

type Step = 'page_view' | 'product_view' | 'search' | 'add_to_cart' | 'remove_from_cart' | 'checkout';
/** What a shopper does next, once the session has started. */
const STEPS = new Weighted<Step>([
  ['product_view', 45],
  ['page_view', 15],
  ['search', 12],
  ['add_to_cart', 15],
  ['remove_from_cart', 5],
  ['checkout', 8],
]);

interface Session {
  user: number;
  id: string;
  device: string;
  /** The category the shopper came for: most of what they look at is in it. */
  interest: number;
  left: number;
  product: number | undefined;
  cart: number[];
  checkingOut: boolean;
}

type Fields = Record<string, unknown>;

class Clickstream implements Workload {
  private readonly rng: Prng;
  private readonly devices: string[];
  private readonly productCategory: Uint8Array;
  private readonly sessions: Session[] = [];
  private readonly active = new Set<number>();

  constructor(
    seed: number | string,
    private readonly keys: number,
  ) {
    const profiles = new Prng(seed, 'clickstream/profiles');
    this.devices = Array.from({ length: keys }, () => DEVICES.pick(profiles));
    this.productCategory = Uint8Array.from({ length: PRODUCTS }, () => profiles.int(CATEGORIES.length));
    this.rng = new Prng(seed, 'clickstream/events');
    // Concurrent sessions: enough that one user's events spread out, few enough that sessions have several events.
    const concurrent = Math.max(1, Math.min(1000, Math.ceil(keys / 20)));
    for (let i = 0; i < concurrent; i++) this.sessions.push(this.open());
  }

  next(): Fields {
    const rng = this.rng;
    const i = rng.int(this.sessions.length);
    const session = this.sessions[i]!;
    const event = this.step(session);
    session.left -= 1;
    if (session.left <= 0 || event.event_type === 'purchase') {
      this.active.delete(session.user);
      this.sessions[i] = this.open();
    }
    return event;
  }

  private open(): Session {
    const rng = this.rng;
    let user = rng.int(this.keys);
    for (let tries = 0; tries < 3 && this.active.has(user); tries++) user = rng.int(this.keys);
    this.active.add(user);
    return {
      user,
      id: `s-${rng.hex(12)}`,
      device: rng.chance(0.9) ? this.devices[user]! : DEVICES.pick(rng),
      interest: rng.int(CATEGORIES.length),
      left: 1 + Math.floor(-Math.log(1 - rng.next()) * 8),
      product: undefined,
      cart: [],
      checkingOut: false,
    };
  }

  private step(s: Session): Fields {
    const rng = this.rng;
    if (s.checkingOut) {
      s.checkingOut = false;
      if (rng.chance(0.7)) return this.event(s, 'purchase', '/checkout/complete', undefined);
    }
    if (s.product === undefined && s.cart.length === 0 && rng.chance(0.5)) {
      // Arriving: the home page, a category page, or straight onto a product.
      const u = rng.next();
      if (u < 0.5) return this.event(s, 'page_view', '/', undefined);
      if (u < 0.8) return this.event(s, 'page_view', `/category/${CATEGORIES[s.interest]}`, undefined);
    }
    let step = STEPS.pick(rng);
    if ((step === 'remove_from_cart' || step === 'checkout') && s.cart.length === 0) step = 'product_view';
    if (step === 'add_to_cart' && s.product === undefined) step = 'product_view';
    switch (step) {
      case 'product_view': {
        s.product = this.product(rng.chance(0.7) ? s.interest : rng.int(CATEGORIES.length));
        return this.event(s, step, `/product/P${s.product + 1}`, s.product);
      }
      case 'page_view':
        return this.event(s, step, `/category/${CATEGORIES[rng.chance(0.7) ? s.interest : rng.int(CATEGORIES.length)]}`, undefined);
      case 'search':
        return this.event(s, step, `/search?q=${CATEGORIES[s.interest]}`, undefined);
      case 'add_to_cart':
        s.cart.push(s.product!);
        return this.event(s, step, '/cart', s.product);
      case 'remove_from_cart': {
        const removed = s.cart.splice(rng.int(s.cart.length), 1)[0];
        return this.event(s, step, '/cart', removed);
      }
      case 'checkout':
        s.checkingOut = true;
        return this.event(s, step, '/checkout', undefined);
    }
  }

  /** A product of the given category (products are spread evenly, so a few draws find one). */
  private product(category: number): number {
    let p = this.rng.int(PRODUCTS);
    for (let tries = 0; tries < 16 && this.productCategory[p] !== category; tries++) p = this.rng.int(PRODUCTS);
    return p;
  }

  private event(s: Session, eventType: string, page: string, product: number | undefined): Fields {
    return {
      user_id: `U${s.user + 1}`,
      session_id: s.id,
      event_type: eventType,
      page,
      product_id: product === undefined ? null : `P${product + 1}`,
      category: product === undefined ? null : CATEGORIES[this.productCategory[product]!],
      device: s.device,
    };
  }
}

export const clickstream: WorkloadSpec = {
  keyFields: ['user_id', 'session_id'],
  create: (seed, keys) => new Clickstream(seed, keys),
};
