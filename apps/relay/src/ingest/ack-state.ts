import type { StoredAck } from '#contracts';

const MAX_MISSING_LISTED = 64;

/**
 * The cumulative acknowledgement for the sequences the relay holds: everything up to
 * `storedThrough` is durable; `missing` lists gaps below the highest sequence held (or
 * below `expected` when the box has said how many chunks there are).
 */
export function storedAck(
  recordingId: string,
  held: Iterable<number>,
  expected?: number,
): StoredAck {
  const present = new Set(held);
  let storedThrough = -1;
  while (present.has(storedThrough + 1)) storedThrough += 1;
  const highest = Math.max(-1, ...present);
  const end = expected ?? highest + 1;
  const missing: number[] = [];
  for (
    let sequence = storedThrough + 1;
    sequence < end && missing.length < MAX_MISSING_LISTED;
    sequence += 1
  ) {
    if (!present.has(sequence)) missing.push(sequence);
  }
  return { recordingId, storedThrough, missing, complete: false };
}
