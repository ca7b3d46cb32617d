/** Nearest-rank percentile (p in 0..100) of already sorted values; undefined when empty. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Counts for the simulator's summary line. */
export class SimStats {
  private sentCount = 0;
  private storedCount = 0;
  private failedCount = 0;
  private resumedCount = 0;
  private linkDropCount = 0;
  private framesCount = 0;
  private readonly latencies: number[] = [];
  /** Frame count and time of the previous stream summary, for its frames per second. */
  private rateMark: { frames: number; atMs: number } | undefined;
  private streamStartMs: number | undefined;

  recordingSent(): void {
    this.sentCount++;
  }
  /** A recording an earlier run left in the buffer directory: counted as sent. */
  recordingResumed(): void {
    this.sentCount++;
    this.resumedCount++;
  }
  linkDropped(): void {
    this.linkDropCount++;
  }
  recordingStored(ackLatencyMs: number): void {
    this.storedCount++;
    this.latencies.push(ackLatencyMs);
  }
  recordingFailed(): void {
    this.failedCount++;
  }
  /** Starts the clock of the frames-per-second figures. */
  streamingStarted(nowMs: number = Date.now()): void {
    this.streamStartMs = nowMs;
    this.rateMark = { frames: this.framesCount, atMs: nowMs };
  }
  frameStreamed(): void {
    this.framesCount++;
  }

  get sent(): number {
    return this.sentCount;
  }
  get stored(): number {
    return this.storedCount;
  }
  get failed(): number {
    return this.failedCount;
  }
  get resumed(): number {
    return this.resumedCount;
  }
  get linkDrops(): number {
    return this.linkDropCount;
  }
  get framesStreamed(): number {
    return this.framesCount;
  }
  /** Neither stored nor failed yet; at exit these are the lost ones. */
  get unsettled(): number {
    return this.sentCount - this.storedCount - this.failedCount;
  }

  /**
   * `boxes N · recordings sent X · stored Y · failed Z · lost L · ack p50 A ms p99 B ms`.
   * While running, recordings not settled yet are "in flight", not lost; at exit they are
   * "kept" rather than lost when they stay in a buffer directory. `linkDrops` appends the
   * number of links cut by --flaky.
   */
  summaryLine(
    boxes: number,
    final: boolean,
    options: { kept?: boolean; linkDrops?: boolean } = {},
  ): string {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const ms = (value: number | undefined) => (value === undefined ? '-' : Math.round(value));
    return [
      `boxes ${boxes}`,
      `recordings sent ${this.sentCount}`,
      `stored ${this.storedCount}`,
      `failed ${this.failedCount}`,
      `${final ? (options.kept ? 'kept' : 'lost') : 'in flight'} ${this.unsettled}`,
      `ack p50 ${ms(percentile(sorted, 50))} ms p99 ${ms(percentile(sorted, 99))} ms`,
      ...(options.linkDrops ? [`link drops ${this.linkDropCount}`] : []),
    ].join(' · ');
  }

  /**
   * `boxes N · streaming S · frames sent X · F frames/s` while running, F over the time
   * since the previous line; the final line drops "streaming" and gives F over the whole
   * run. `linkDrops` appends the number of links cut by --flaky.
   */
  streamSummaryLine(
    boxes: number,
    streaming: number,
    final: boolean,
    options: { linkDrops?: boolean; nowMs?: number } = {},
  ): string {
    const now = options.nowMs ?? Date.now();
    const since = final
      ? { frames: 0, atMs: this.streamStartMs ?? now }
      : (this.rateMark ?? { frames: 0, atMs: this.streamStartMs ?? now });
    const seconds = (now - since.atMs) / 1_000;
    const rate = seconds > 0 ? (this.framesCount - since.frames) / seconds : 0;
    if (!final) this.rateMark = { frames: this.framesCount, atMs: now };
    return [
      `boxes ${boxes}`,
      ...(final ? [] : [`streaming ${streaming}`]),
      `frames sent ${this.framesCount}`,
      `${rate.toFixed(1)} frames/s`,
      ...(options.linkDrops ? [`link drops ${this.linkDropCount}`] : []),
    ].join(' · ');
  }
}
