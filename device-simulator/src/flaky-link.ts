/** Something whose network link can be cut; SimulatedBox implements it. */
export interface DroppableLink {
  /** Cuts the link now; false when there was no link to cut. */
  dropLink(): boolean;
}

export interface FlakyLinkOptions {
  /** Each box rolls the dice once per period, drawn uniformly from minMs..maxMs. */
  minMs: number;
  maxMs: number;
  /** Chance that a roll cuts the link. */
  probability: number;
  /** [0, 1) like Math.random; tests pass a deterministic one. */
  random?: () => number;
  /** Called after each cut. */
  onDrop?: () => void;
}

/** `--flaky` defaults: a roll every 2–10 s, and every other roll cuts the link. */
export const DEFAULT_FLAKY_MS = { minMs: 2_000, maxMs: 10_000 } as const;
export const FLAKY_DROP_PROBABILITY = 0.5;

/**
 * A bad cellular link for one box: at random moments it cuts the connection (the socket
 * is destroyed, no DISCONNECT), and the box has to reconnect with its backoff and finish
 * its recordings anyway. Only established links are cut; a box that is still reconnecting
 * is left alone until the next roll.
 */
export class FlakyLink {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private dropsValue = 0;
  private readonly random: () => number;

  constructor(
    private readonly link: DroppableLink,
    private readonly options: FlakyLinkOptions,
  ) {
    if (!(options.minMs > 0) || !(options.maxMs >= options.minMs)) {
      throw new RangeError('flaky link period must satisfy 0 < minMs <= maxMs');
    }
    if (!(options.probability >= 0 && options.probability <= 1)) {
      throw new RangeError('flaky link probability must be in 0..1');
    }
    this.random = options.random ?? Math.random;
  }

  /** Links cut so far. */
  get drops(): number {
    return this.dropsValue;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleNext();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private scheduleNext(): void {
    const { minMs, maxMs } = this.options;
    const delay = minMs + this.random() * (maxMs - minMs);
    this.timer = setTimeout(() => {
      if (!this.running) return;
      if (this.random() < this.options.probability && this.link.dropLink()) {
        this.dropsValue++;
        this.options.onDrop?.();
      }
      this.scheduleNext();
    }, delay);
  }
}
