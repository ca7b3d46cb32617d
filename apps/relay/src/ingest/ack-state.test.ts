import { describe, expect, it } from 'vitest';
import { storedAck } from './ack-state.js';

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
