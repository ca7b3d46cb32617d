/**
 * Watches the bytes of one MQTT connection and reports the first packet whose declared
 * size exceeds the limit, as soon as its fixed header arrives — before the packet parser
 * has buffered it. Aedes and mqtt-packet have no size limit of their own.
 *
 * Fixed header [MQTT-2.2]: one byte of type and flags, then the Remaining Length in 1–4
 * bytes, 7 bits each, least significant group first, high bit = "more bytes follow"
 * [MQTT-2.2.3]. The guard keeps only this small state between chunks.
 */
export class PacketSizeGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Returns the declared size of an oversize packet, or null while everything fits. */
  inspect(chunk: Uint8Array): number | null {
    let offset = 0;
    while (offset < chunk.length) {
      switch (this.state) {
        case 'type':
          offset += 1;
          this.state = 'length';
          this.remaining = 0;
          this.multiplier = 1;
          this.lengthBytes = 0;
          break;
        case 'length': {
          const byte = chunk[offset++] ?? 0;
          this.remaining += (byte & 0x7f) * this.multiplier;
          this.multiplier *= 128;
          this.lengthBytes += 1;
          if (this.remaining > this.maxPacketBytes) return this.remaining;
          if ((byte & 0x80) === 0) {
            this.state = this.remaining === 0 ? 'type' : 'body';
          } else if (this.lengthBytes === 4) {
            return Number.POSITIVE_INFINITY; // malformed: a fifth length byte [MQTT-2.2.3]
          }
          break;
        }
        case 'body': {
          const take = Math.min(this.remaining, chunk.length - offset);
          offset += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'type';
          break;
        }
      }
    }
    return null;
  }
}
