// The `logins` workload: sign-ins of `keys` users from their usual addresses, and bursts of failures from attacking IPs.
import { Prng, Weighted } from './prng.js';
import type { Workload, WorkloadSpec } from './workload.js';

const HOME_COUNTRIES = new Weighted([
  ['NZ', 60],
  ['AU', 25],
  ['GB', 8],
  ['US', 7],
] as const);
const ATTACKER_COUNTRIES = ['BR', 'DE', 'IN', 'NL', 'RO', 'SG', 'US', 'VN'] as const;
/** Attacking addresses come from the documentation ranges (RFC 5737), users' from shared address space (RFC 6598). */
const ATTACKER_RANGES = ['192.0.2', '198.51.100', '203.0.113'] as const;
const ATTACKERS = 64;

/** Per event: the chance an attack starts, and (while attacks run) the chance the event belongs to one. */
const ATTACK_START = 0.0008;
const ATTACK_SHARE = 0.3;
const FAILURE_RATE = 0.04;

interface Attacker {
  ip: string;
  country: string;
}

/** Brute force tries one account many times; credential stuffing tries many accounts once each. */
interface Attack {
  attacker: Attacker;
  kind: 'brute_force' | 'credential_stuffing';
  user: number;
  left: number;
  /** Brute force sometimes gets in: its last attempt succeeds. */
  breaksIn: boolean;
}

class Logins implements Workload {
  private readonly rng: Prng;
  private readonly homeIps: string[];
  private readonly countries: string[];
  private readonly attackers: Attacker[];
  private readonly attacks: Attack[] = [];

  constructor(
    seed: number | string,
    private readonly keys: number,
  ) {
    const profiles = new Prng(seed, 'logins/profiles');
    this.homeIps = Array.from({ length: keys }, () => sharedAddress(profiles));
    this.countries = Array.from({ length: keys }, () => HOME_COUNTRIES.pick(profiles));
    this.attackers = Array.from({ length: ATTACKERS }, () => ({
      ip: `${profiles.pick(ATTACKER_RANGES)}.${profiles.between(1, 254)}`,
      country: profiles.pick(ATTACKER_COUNTRIES),
    }));
    this.rng = new Prng(seed, 'logins/events');
  }

  next(): Record<string, unknown> {
    const rng = this.rng;
    if (rng.chance(ATTACK_START)) {
      const bruteForce = rng.chance(0.55);
      this.attacks.push({
        attacker: rng.pick(this.attackers),
        kind: bruteForce ? 'brute_force' : 'credential_stuffing',
        user: rng.int(this.keys),
        left: bruteForce ? rng.between(3, 15) : rng.between(5, 40),
        breaksIn: bruteForce && rng.chance(0.3),
      });
    }
    if (this.attacks.length > 0 && rng.chance(ATTACK_SHARE)) return this.attempt();
    const user = rng.int(this.keys);
    const ip = rng.chance(0.85) ? this.homeIps[user]! : sharedAddress(rng);
    return event(user, ip, rng.chance(FAILURE_RATE) ? 'failed' : 'success', this.countries[user]!);
  }

  private attempt(): Record<string, unknown> {
    const rng = this.rng;
    const i = rng.int(this.attacks.length);
    const attack = this.attacks[i]!;
    attack.left -= 1;
    if (attack.left === 0) this.attacks.splice(i, 1);
    const { ip, country } = attack.attacker;
    if (attack.kind === 'brute_force') return event(attack.user, ip, attack.left === 0 && attack.breaksIn ? 'success' : 'failed', country);
    return event(rng.int(this.keys), ip, rng.chance(0.03) ? 'success' : 'failed', country);
  }
}

function sharedAddress(rng: Prng): string {
  return `100.${rng.between(64, 127)}.${rng.int(256)}.${rng.between(1, 254)}`;
}

function event(user: number, ip: string, result: 'success' | 'failed', country: string): Record<string, unknown> {
  return { user_id: `U${user + 1}`, ip, result, country };
}

export const logins: WorkloadSpec = {
  keyFields: ['user_id', 'ip'],
  create: (seed, keys) => new Logins(seed, keys),
};
