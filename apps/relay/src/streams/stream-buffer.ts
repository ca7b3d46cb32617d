/**
 * The last few seconds of a live stream, per stream: a ring of interleaved int16 samples
 * indexed by absolute sample number. Frames arrive at QoS 0, so some may be missing; a
 * snapshot takes only the newest stretch without gaps.
 */
export class StreamBuffer {
  private readonly ring: Int16Array;
  private readonly present: Uint8Array;
  /** One past the highest sample index written. */
  private end = 0;

  constructor(
    readonly leadCount: number,
    readonly capacityPerLead: number,
  ) {
    this.ring = new Int16Array(leadCount * capacityPerLead);
    this.present = new Uint8Array(capacityPerLead);
  }

  /** Writes a frame's samples (interleaved) starting at `firstSample`. Old samples are overwritten. */
  write(firstSample: number, samples: Int16Array): void {
    const count = samples.length / this.leadCount;
    if (firstSample + count <= this.end - this.capacityPerLead) return; // too old to keep
    // Samples skipped between the old end and this frame are gaps.
    for (let index = this.end; index < firstSample; index += 1)
      this.present[index % this.capacityPerLead] = 0;
    for (let i = 0; i < count; i += 1) {
      const index = firstSample + i;
      if (index < this.end - this.capacityPerLead) continue;
      const slot = index % this.capacityPerLead;
      this.ring.set(
        samples.subarray(i * this.leadCount, (i + 1) * this.leadCount),
        slot * this.leadCount,
      );
      this.present[slot] = 1;
    }
    this.end = Math.max(this.end, firstSample + count);
  }

  /** The newest gap-free stretch of at most `maxPerLead` samples, oldest first. */
  latest(maxPerLead: number): { firstSample: number; samples: Int16Array } {
    const oldest = Math.max(0, this.end - Math.min(maxPerLead, this.capacityPerLead));
    let start = this.end;
    while (start > oldest && this.present[(start - 1) % this.capacityPerLead] === 1) start -= 1;
    const count = this.end - start;
    const samples = new Int16Array(count * this.leadCount);
    for (let i = 0; i < count; i += 1) {
      const slot = (start + i) % this.capacityPerLead;
      samples.set(
        this.ring.subarray(slot * this.leadCount, (slot + 1) * this.leadCount),
        i * this.leadCount,
      );
    }
    return { firstSample: start, samples };
  }
}
