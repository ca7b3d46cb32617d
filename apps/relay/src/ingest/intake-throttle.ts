/**
 * Decides when the relay stops reading from the boxes, so that under more load than it
 * can store it degrades to what it can store instead of collapsing. Two signals, either
 * one pauses:
 * - chunks in hand: past `maxChunksInHand` the relay is seconds behind; reading on would
 *   only queue more, and a queue without bound ends with nothing acknowledged at all.
 *   Reading resumes at half.
 * - event-loop lag: the closes of finished recordings, the review console's Socket.IO and
 *   REST, and diagnosis delivery share the event loop with the chunks. Without this, a
 *   relay busy with chunks acknowledged every one while finishing no recording at all
 *   (measured: 1000 boxes on PostgreSQL, 0 of 3,296 closed recordings complete). Past
 *   `pauseAboveLagMs` reading stops until the lag is below `resumeBelowLagMs`.
 * While paused, TCP pushes back on the boxes, which keep their unacknowledged chunks.
 */
export class IntakeThrottle {
  private chunksInHand = 0;
  private full = false;
  private lagging = false;
  private paused = false;

  constructor(
    private readonly limits: {
      maxChunksInHand: number;
      pauseAboveLagMs: number;
      resumeBelowLagMs: number;
    },
    private readonly onChange: (paused: boolean) => void,
  ) {}

  chunkStarted(): void {
    this.chunksInHand += 1;
    if (this.chunksInHand >= this.limits.maxChunksInHand) this.full = true;
    this.update();
  }

  chunkFinished(): void {
    this.chunksInHand -= 1;
    if (this.chunksInHand <= this.limits.maxChunksInHand / 2) this.full = false;
    this.update();
  }

  /** The event loop's latest measured delay. */
  loopLag(ms: number): void {
    if (ms > this.limits.pauseAboveLagMs) this.lagging = true;
    else if (ms < this.limits.resumeBelowLagMs) this.lagging = false;
    this.update();
  }

  isPaused(): boolean {
    return this.paused;
  }

  private update(): void {
    const paused = this.full || this.lagging;
    if (paused === this.paused) return;
    this.paused = paused;
    this.onChange(paused);
  }
}
