/** PDU types of the DICOM upper layer (PS3.8 §9.3.1): A-ASSOCIATE-RQ 0x01 … A-ABORT 0x07. */
const FIRST_PDU_TYPE = 0x01;
const LAST_PDU_TYPE = 0x07;
const HEADER_BYTES = 6;

/**
 * Follows the PDU boundaries of a byte stream (PS3.8 §9.3: type, reserved, 4-byte length)
 * and names the first PDU that is not one or is longer than the relay receives. The library
 * buffers a whole PDU before it parses it, so without this a peer declaring a 4 GiB PDU
 * would make the relay hold whatever it sends.
 */
export class PduLengthGuard {
  private header = Buffer.alloc(0);
  private remaining = 0;

  constructor(private readonly maxPduBytes: number) {}

  /** The problem with the stream so far, or undefined while it is well-formed. */
  feed(chunk: Buffer): string | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const skipped = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= skipped;
        offset += skipped;
        continue;
      }
      const taken = chunk.subarray(offset, offset + HEADER_BYTES - this.header.length);
      this.header = Buffer.concat([this.header, taken]);
      offset += taken.length;
      if (this.header.length < HEADER_BYTES) return undefined;
      const type = this.header.readUInt8(0);
      const length = this.header.readUInt32BE(2);
      this.header = Buffer.alloc(0);
      if (type < FIRST_PDU_TYPE || type > LAST_PDU_TYPE) return `not a DICOM PDU (type ${type})`;
      if (length > this.maxPduBytes) {
        return `PDU of ${length} bytes, over the ${this.maxPduBytes} the relay receives`;
      }
      this.remaining = length;
    }
    return undefined;
  }
}
