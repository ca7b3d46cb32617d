export interface BackoffRange {
  minMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": the ceiling doubles per attempt up to maxMs and
 * the delay is drawn from its upper half. The random half spreads out a clinic's worth of
 * boxes that all lost the relay at the same moment; the fixed half keeps each box from
 * hammering it.
 */
export function backoffDelay(
  attempt: number,
  { minMs, maxMs }: BackoffRange,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt));
  const delay = ceiling / 2 + random() * (ceiling / 2);
  return Math.round(Math.min(maxMs, Math.max(minMs, delay)));
}
