import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { StoredAck } from '#contracts';
import { StoredAckBatcher } from './stored-ack-batcher.js';

const RECORDING_A = '0192f1c3-7b4e-7a10-8c3d-5e6f7a8b9c0a';
const RECORDING_B = '0192f1c3-7b4e-7a10-8c3d-5e6f7a8b9c0b';

function chunkAck(recordingId: string, storedThrough: number, missing: number[] = []): StoredAck {
  return { recordingId, storedThrough, missing, complete: false };
}

function recordSends(): { batcher: StoredAckBatcher; sent: [string, StoredAck][] } {
  const sent: [string, StoredAck][] = [];
  return { batcher: new StoredAckBatcher((deviceId, ack) => sent.push([deviceId, ack])), sent };
}

describe('StoredAckBatcher', () => {
  it('sends a lone ack at the end of the same turn', async () => {
    const { batcher, sent } = recordSends();
    batcher.add('box-1', chunkAck(RECORDING_A, 0));
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual([['box-1', chunkAck(RECORDING_A, 0)]]);
  });

  it('folds the acks of one recording in one turn into the newest', async () => {
    const { batcher, sent } = recordSends();
    batcher.add('box-1', chunkAck(RECORDING_A, 0));
    batcher.add('box-1', chunkAck(RECORDING_A, 2, [1]));
    batcher.add('box-1', chunkAck(RECORDING_A, 3));
    await nextTurn();
    expect(sent).toEqual([['box-1', chunkAck(RECORDING_A, 3)]]);
  });

  it('keeps the ack that holds more when an older one settles last', async () => {
    const { batcher, sent } = recordSends();
    batcher.add('box-1', chunkAck(RECORDING_A, 5));
    batcher.add('box-1', chunkAck(RECORDING_A, 4));
    await nextTurn();
    expect(sent).toEqual([['box-1', chunkAck(RECORDING_A, 5)]]);
  });

  it('keeps recordings and boxes apart', async () => {
    const { batcher, sent } = recordSends();
    batcher.add('box-1', chunkAck(RECORDING_A, 1));
    batcher.add('box-1', chunkAck(RECORDING_B, 7));
    batcher.add('box-2', chunkAck(RECORDING_A, 3));
    await nextTurn();
    expect(sent).toEqual([
      ['box-1', chunkAck(RECORDING_A, 1)],
      ['box-1', chunkAck(RECORDING_B, 7)],
      ['box-2', chunkAck(RECORDING_A, 3)],
    ]);
  });

  it('sends a completing ack at once and drops the chunk ack it supersedes', async () => {
    const { batcher, sent } = recordSends();
    batcher.add('box-1', chunkAck(RECORDING_A, 8));
    const complete: StoredAck = {
      recordingId: RECORDING_A,
      storedThrough: 9,
      missing: [],
      complete: true,
      caseId: 'case-1',
    };
    batcher.add('box-1', complete);
    expect(sent).toEqual([['box-1', complete]]);
    await nextTurn();
    expect(sent).toEqual([['box-1', complete]]);
  });

  it('starts afresh after each turn', async () => {
    const { batcher, sent } = recordSends();
    batcher.add('box-1', chunkAck(RECORDING_A, 0));
    await nextTurn();
    batcher.add('box-1', chunkAck(RECORDING_A, 1));
    await nextTurn();
    expect(sent.map(([, ack]) => ack.storedThrough)).toEqual([0, 1]);
  });
});
