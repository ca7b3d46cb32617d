import { describe, expect, it } from 'vitest';
import { HeldSequences, storedAck } from './ack-state.js';

const id = '6f1c0c1e-8d0e-4b7a-9a44-2f1d4f1b0c11';

describe('storedAck', () => {
  it('acknowledges nothing before the first chunk', () => {
    expect(storedAck(id, [])).toEqual({
      recordingId: id,
      storedThrough: -1,
      missing: [],
      complete: false,
    });
  });

  it('is cumulative over contiguous sequences whatever the arrival order', () => {
    expect(storedAck(id, [2, 0, 1]).storedThrough).toBe(2);
  });

  it('lists the gaps below the highest sequence held', () => {
    expect(storedAck(id, [0, 1, 4, 6])).toMatchObject({ storedThrough: 1, missing: [2, 3, 5] });
  });

  it('lists the tail as missing once the expected count is known', () => {
    expect(storedAck(id, [0, 1], 4)).toMatchObject({ storedThrough: 1, missing: [2, 3] });
  });
});

describe('HeldSequences', () => {
  it('gives the same acknowledgement when built chunk by chunk as from the whole set', () => {
    const arrival = [0, 1, 5, 2, 9, 3, 3, 7, 4];
    const incremental = new HeldSequences();
    for (const [index, sequence] of arrival.entries()) {
      incremental.add(sequence);
      expect(incremental.ack(id)).toEqual(storedAck(id, arrival.slice(0, index + 1)));
    }
    expect(incremental.ack(id, 12)).toMatchObject({ storedThrough: 5, missing: [6, 8, 10, 11] });
  });

  it('lists at most 64 missing sequences so an ack stays small', () => {
    const held = new HeldSequences([0, 500]);
    const ack = held.ack(id);
    expect(ack.missing).toHaveLength(64);
    expect(ack.missing[0]).toBe(1);
  });
});
