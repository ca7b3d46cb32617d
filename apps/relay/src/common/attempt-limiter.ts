/**
 * Fixed-window attempt counting per key (a device id, a remote address). Bounded: when
 * more keys than `maxKeys` are tracked, the oldest windows are forgotten first, so a
 * flood of made-up ids cannot grow memory without limit.
 */
export class AttemptLimiter {
  private readonly windows = new Map<string, { startedAt: number; attempts: number }>();

  constructor(
    private readonly maxAttempts: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one attempt; false when the key has used up its window. */
  tryAttempt(key: string): boolean {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= this.windowMs) {
      this.windows.delete(key);
      window = { startedAt: now, attempts: 0 };
      this.windows.set(key, window);
      this.evictOverflow();
    }
    window.attempts += 1;
    return window.attempts <= this.maxAttempts;
  }

  /** Whether the key has used up its current window (without counting an attempt). */
  exhausted(key: string): boolean {
    const window = this.windows.get(key);
    return (
      window !== undefined &&
      this.now() - window.startedAt < this.windowMs &&
      window.attempts >= this.maxAttempts
    );
  }

  private evictOverflow(): void {
    // Maps iterate in insertion order, and a renewed window is re-inserted: oldest first.
    for (const key of this.windows.keys()) {
      if (this.windows.size <= this.maxKeys) return;
      this.windows.delete(key);
    }
  }
}
