/**
 * What a sweep display shows: for each lead, the last `sweepSeconds` of samples in
 * millivolts, written round and round like a monitor's beam (sample n at position
 * n mod width). Positions never written, or skipped by lost frames, hold NaN, so a gap
 * is drawn as a gap rather than a straight line.
 */
export class SweepBuffer {
  readonly width: number;
  readonly values: Float32Array[];
  /** Absolute index of the sample after the newest written; -1 before the first. */
  private next = -1;
  private readonly baseline: number[];
  private readonly alpha: number;
  private readonly millivoltsPerLsb: number;

  constructor(
    readonly leadCount: number,
    readonly sampleRateHz: number,
    microvoltsPerLsb: number,
    sweepSeconds: number,
    /** Time constant of the baseline (DC and drift) removal, as a monitor's high-pass filter. */
    baselineSeconds = 1.5,
  ) {
    this.width = Math.round(sweepSeconds * sampleRateHz);
    this.values = Array.from({ length: leadCount }, () =>
      new Float32Array(this.width).fill(Number.NaN),
    );
    this.baseline = new Array<number>(leadCount).fill(Number.NaN);
    this.alpha = 1 / (baselineSeconds * sampleRateHz);
    this.millivoltsPerLsb = microvoltsPerLsb / 1000;
  }

  /** Where the next sample goes (the beam), or -1 before any sample arrived. */
  get cursor(): number {
    return this.next < 0 ? -1 : this.next % this.width;
  }

  /** Interleaved int16 samples whose first is absolute sample `first`. Old samples are ignored. */
  write(first: number, samples: ArrayLike<number>): void {
    const count = Math.floor(samples.length / this.leadCount);
    if (count === 0 || first + count <= this.next) return;
    if (this.next >= 0 && first > this.next) this.blank(this.next, first);
    for (let i = Math.max(0, this.next - first); i < count; i++) {
      const position = (first + i) % this.width;
      for (let lead = 0; lead < this.leadCount; lead++) {
        const millivolts = samples[i * this.leadCount + lead]! * this.millivoltsPerLsb;
        const previous = this.baseline[lead]!;
        const baseline = Number.isNaN(previous)
          ? millivolts
          : previous + (millivolts - previous) * this.alpha;
        this.baseline[lead] = baseline;
        this.values[lead]![position] = millivolts - baseline;
      }
    }
    this.next = first + count;
  }

  /** Marks absolute samples [from, to) as missing (at most one sweep's worth). */
  private blank(from: number, to: number): void {
    const start = Math.max(from, to - this.width);
    for (let sample = start; sample < to; sample++) {
      for (const lead of this.values) lead[sample % this.width] = Number.NaN;
    }
  }
}
