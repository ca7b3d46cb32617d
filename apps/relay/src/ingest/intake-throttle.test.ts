import { describe, expect, it } from 'vitest';
import { IntakeThrottle } from './intake-throttle.js';

function throttle(maxChunksInHand = 10) {
  const changes: boolean[] = [];
  const subject = new IntakeThrottle(
    { maxChunksInHand, pauseAboveLagMs: 100, resumeBelowLagMs: 25 },
    (paused) => changes.push(paused),
  );
  return { subject, changes };
}

describe('IntakeThrottle', () => {
  it('pauses at the chunk limit and resumes at half of it', () => {
    const { subject, changes } = throttle(10);
    for (let i = 0; i < 9; i++) subject.chunkStarted();
    expect(subject.isPaused()).toBe(false);
    subject.chunkStarted();
    expect(subject.isPaused()).toBe(true);
    for (let i = 0; i < 4; i++) subject.chunkFinished();
    expect(subject.isPaused()).toBe(true);
    subject.chunkFinished();
    expect(subject.isPaused()).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it('pauses while the event loop lags, with hysteresis', () => {
    const { subject, changes } = throttle();
    subject.loopLag(40);
    expect(subject.isPaused()).toBe(false);
    subject.loopLag(150);
    expect(subject.isPaused()).toBe(true);
    subject.loopLag(60);
    expect(subject.isPaused()).toBe(true);
    subject.loopLag(10);
    expect(subject.isPaused()).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it('stays paused while either signal says so, and reports each change once', () => {
    const { subject, changes } = throttle(2);
    subject.loopLag(150);
    subject.chunkStarted();
    subject.chunkStarted();
    subject.loopLag(5);
    expect(subject.isPaused()).toBe(true);
    subject.chunkFinished();
    expect(subject.isPaused()).toBe(false);
    expect(changes).toEqual([true, false]);
  });
});
