import { describe, expect, it } from 'vitest';
import { percentile, SimStats } from './stats.js';

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([], 50)).toBeUndefined();
  });
});

describe('SimStats', () => {
  it('prints the summary line, with lost only in the final one', () => {
    const stats = new SimStats();
    for (let i = 0; i < 5; i++) stats.recordingSent();
    stats.recordingStored(120);
    stats.recordingStored(80);
    stats.recordingStored(400);
    stats.recordingFailed();
    expect(stats.summaryLine(2, false)).toBe(
      'boxes 2 · recordings sent 5 · stored 3 · failed 1 · in flight 1 · ack p50 120 ms p99 400 ms',
    );
    expect(stats.summaryLine(2, true)).toBe(
      'boxes 2 · recordings sent 5 · stored 3 · failed 1 · lost 1 · ack p50 120 ms p99 400 ms',
    );
  });

  it('shows no latency before anything was stored', () => {
    expect(new SimStats().summaryLine(1, true)).toBe(
      'boxes 1 · recordings sent 0 · stored 0 · failed 0 · lost 0 · ack p50 - ms p99 - ms',
    );
  });

  it('counts resumed recordings as sent, says kept for a buffer and appends link drops', () => {
    const stats = new SimStats();
    stats.recordingResumed();
    stats.recordingSent();
    stats.recordingStored(50);
    stats.linkDropped();
    stats.linkDropped();
    expect(stats.resumed).toBe(1);
    expect(stats.unsettled).toBe(1);
    expect(stats.summaryLine(1, true, { kept: true, linkDrops: true })).toBe(
      'boxes 1 · recordings sent 2 · stored 1 · failed 0 · kept 1 · ack p50 50 ms p99 50 ms · link drops 2',
    );
    expect(stats.summaryLine(1, false, { kept: true })).toBe(
      'boxes 1 · recordings sent 2 · stored 1 · failed 0 · in flight 1 · ack p50 50 ms p99 50 ms',
    );
  });

  it('prints the stream summary with frames per second since the previous line', () => {
    const stats = new SimStats();
    stats.streamingStarted(10_000);
    for (let i = 0; i < 500; i++) stats.frameStreamed();
    expect(stats.streamSummaryLine(2, 2, false, { nowMs: 20_000 })).toBe(
      'boxes 2 · streaming 2 · frames sent 500 · 50.0 frames/s',
    );
    // The next line counts from the previous one: 100 frames in 4 s.
    for (let i = 0; i < 100; i++) stats.frameStreamed();
    stats.linkDropped();
    expect(stats.streamSummaryLine(2, 1, false, { nowMs: 24_000, linkDrops: true })).toBe(
      'boxes 2 · streaming 1 · frames sent 600 · 25.0 frames/s · link drops 1',
    );
    // At exit: over the whole run, 600 frames in 20 s.
    expect(stats.streamSummaryLine(2, 0, true, { nowMs: 30_000 })).toBe(
      'boxes 2 · frames sent 600 · 30.0 frames/s',
    );
    expect(stats.framesStreamed).toBe(600);
  });
});
