import type {
  AttemptCounter,
  AttemptLimits,
  AttemptRule,
  RememberedKeys,
} from '../infra/limits/attempt-limits.js';

export interface CredentialRules {
  /** One identity (username, box id) from one address: the attacker's own budget. */
  pair: AttemptRule;
  /** Every identity from one address; skipped where the identity is known at the address. */
  address: AttemptRule;
  /** One identity from every address; skipped where the identity is known at the address. */
  identity?: AttemptRule;
  /** How long a successful sign-in makes the address known for that identity. */
  knownForSeconds: number;
}

export type Admission =
  { admitted: true; knownAddress: boolean } | { admitted: false; retryAfterMs: number };

/**
 * Limits guessing without locking out the user or box being guessed at. Attempts are counted
 * per (identity, address), so guesses from elsewhere never refuse the real one; per address,
 * and per identity, only where the identity has not recently signed in from that address,
 * so a flood from a shared NAT or a botnet leaves the people and boxes already known there
 * alone. Every counter backs off exponentially. Counting happens before the credential is
 * checked, in one atomic step per counter, so parallel guesses cannot slip past the limit.
 */
export class CredentialThrottle {
  private readonly pair: AttemptCounter;
  private readonly address: AttemptCounter;
  private readonly identity: AttemptCounter | undefined;
  private readonly known: RememberedKeys;

  constructor(limits: AttemptLimits, rules: CredentialRules) {
    this.pair = limits.counter(rules.pair);
    this.address = limits.counter(rules.address);
    this.identity = rules.identity && limits.counter(rules.identity);
    this.known = limits.remembered(`${rules.pair.name}:known`, rules.knownForSeconds);
  }

  async admit(identity: string, address: string | undefined): Promise<Admission> {
    const at = address ?? 'unknown';
    const knownAddress = await this.known.has(pairKey(identity, at));
    if (!knownAddress) {
      // The address first: a flood of made-up ids from one address then adds no more keys
      // to the store once the address has spent its budget.
      const verdict = await this.address.take(at);
      if (!verdict.allowed) return { admitted: false, retryAfterMs: verdict.retryAfterMs };
    }
    const verdicts = await Promise.all([
      this.pair.take(pairKey(identity, at)),
      knownAddress ? undefined : this.identity?.take(identity),
    ]);
    const waits = verdicts.flatMap((v) => (v && !v.allowed ? [v.retryAfterMs] : []));
    if (waits.length > 0) return { admitted: false, retryAfterMs: Math.max(...waits) };
    return { admitted: true, knownAddress };
  }

  /** The credential was right: its attempt stops counting and the address becomes known. */
  async succeeded(
    identity: string,
    address: string | undefined,
    admission: { knownAddress: boolean },
  ): Promise<void> {
    const at = address ?? 'unknown';
    await Promise.all([
      this.pair.forget(pairKey(identity, at)),
      this.known.remember(pairKey(identity, at)),
      ...(admission.knownAddress ? [] : [this.address.refund(at), this.identity?.forget(identity)]),
    ]);
  }
}

const pairKey = (identity: string, address: string) => `${identity}|${address}`;
