import { z } from 'zod';

/**
 * What PostgreSQL `text` and `jsonb` cannot hold: U+0000, and a UTF-16 surrogate without
 * its partner, which has no UTF-8 encoding (JSON's `"\ud800"` escape makes one). Either
 * fails the query when it reaches the database (or is silently replaced with U+FFFD on the
 * way), so the edge refuses it instead.
 */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE = new RegExp(`\u0000|${UNPAIRED_SURROGATE.source}`, 'g');

/** True when PostgreSQL stores `value` exactly as given. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !UNPAIRED_SURROGATE.test(value);
}

/**
 * `value` with every character PostgreSQL cannot store replaced by U+FFFD, for text the relay
 * must keep whatever it holds (an audit row describing a hostile request) rather than refuse.
 */
export function toStorableText(value: string): string {
  return value.replace(UNSTORABLE, '\uFFFD');
}

export interface TextBounds {
  min?: number;
  max: number;
  /** Trim surrounding whitespace before the length checks (names, notes, reasons). */
  trim?: boolean;
}

/**
 * Every free-text field of a message a client or a box sends: bounded, and storable, so a
 * hostile string is a 400 / INVALID_MESSAGE at the edge rather than a failed query later.
 */
export function text({ min = 0, max, trim = false }: TextBounds) {
  const trimmed = trim ? z.string().trim() : z.string();
  const bounded = min > 0 ? trimmed.min(min).max(max) : trimmed.max(max);
  return bounded.refine(isStorableText, 'must not contain U+0000 or an unpaired UTF-16 surrogate');
}
