import { describe, expect, it } from 'vitest';
import { OpenRecordings } from './open-recordings.js';
import type { RecordingStaging, StagedRecording } from './recording-staging.js';

const recordingId = '6f1c0c1e-8d0e-4b7a-9a44-2f1d4f1b0c11';

/** Staging as far as OpenRecordings reads it, counting the reads. */
function fakeStaging(meta: StagedRecording | null, held: number[]) {
  const reads = { meta: 0, layout: 0 };
  const staging = {
    meta: async () => {
      reads.meta += 1;
      return meta;
    },
    layout: async () => {
      reads.layout += 1;
      return new Map(held.map((sequence) => [sequence, { firstSample: sequence, sampleCount: 1 }]));
    },
  } as unknown as RecordingStaging;
  return { staging, reads, setMeta: (value: StagedRecording) => (meta = value) };
}

const staged = { recordingId, deviceId: 'box-1', clinicId: 'clinic-1' } as StagedRecording;

describe('OpenRecordings', () => {
  it('reads a recording from Redis once, however many chunks ask at the same time', async () => {
    const { staging, reads } = fakeStaging(staged, [0, 1, 3]);
    const open = new OpenRecordings(staging, Date.now);
    const [first, second] = await Promise.all([open.get(recordingId), open.get(recordingId)]);
    expect(first).toBe(second);
    expect(first?.held.ack(recordingId)).toMatchObject({ storedThrough: 1, missing: [2] });
    await open.get(recordingId);
    expect(reads).toEqual({ meta: 1, layout: 1 });
  });

  it('does not remember that a recording was absent, so an open that lands later is seen', async () => {
    const { staging, setMeta } = fakeStaging(null, []);
    const open = new OpenRecordings(staging, Date.now);
    expect(await open.get(recordingId)).toBeNull();
    setMeta(staged);
    expect((await open.get(recordingId))?.staged.deviceId).toBe('box-1');
  });

  it('reads again after being told to forget', async () => {
    const { staging, reads } = fakeStaging(staged, []);
    const open = new OpenRecordings(staging, Date.now);
    await open.get(recordingId);
    open.forget(recordingId);
    await open.get(recordingId);
    expect(reads.meta).toBe(2);
  });

  it('drops recordings idle for ten minutes', async () => {
    let now = 0;
    const { staging, reads } = fakeStaging(staged, []);
    const open = new OpenRecordings(staging, () => now);
    await open.get(recordingId);
    now = 11 * 60_000;
    await open.get('another-recording');
    await new Promise((resolve) => setImmediate(resolve));
    expect(open.size).toBe(1);
    await open.get(recordingId);
    expect(reads.meta).toBe(3);
  });

  it('asks for an expiry refresh once per ten minutes, and again after a failed write', async () => {
    const { staging } = fakeStaging(staged, []);
    const recording = await new OpenRecordings(staging, Date.now).get(recordingId);
    expect(recording?.claimExpiryRefresh(0)).toBe(true);
    expect(recording?.claimExpiryRefresh(60_000)).toBe(false);
    recording?.expiryRefreshFailed();
    expect(recording?.claimExpiryRefresh(61_000)).toBe(true);
    expect(recording?.claimExpiryRefresh(11 * 60_000 + 61_000)).toBe(true);
  });
});
