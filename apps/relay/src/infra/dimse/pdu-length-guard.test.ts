import { describe, expect, it } from 'vitest';
import { PduLengthGuard } from './pdu-length-guard.js';

function pdu(type: number, length: number, body = Buffer.alloc(length)): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(length, 2);
  return Buffer.concat([header, body]);
}

describe('PduLengthGuard (PS3.8 §9.3 PDU boundaries)', () => {
  it('follows PDUs split anywhere across chunks, headers included', () => {
    const guard = new PduLengthGuard(100);
    const stream = Buffer.concat([pdu(0x01, 40), pdu(0x04, 100), pdu(0x05, 4)]);
    for (let i = 0; i < stream.length; i += 3) {
      expect(guard.feed(stream.subarray(i, i + 3))).toBeUndefined();
    }
  });

  it('names a PDU longer than the relay receives, even when its body never comes', () => {
    const guard = new PduLengthGuard(100);
    expect(guard.feed(pdu(0x04, 50))).toBeUndefined();
    expect(guard.feed(pdu(0x04, 0xffffffff, Buffer.alloc(0)))).toMatch(/4294967295 bytes/);
  });

  it('names bytes that are not a PDU', () => {
    expect(new PduLengthGuard(100).feed(Buffer.from('GET / HTTP/1.1\r\n'))).toMatch(
      /not a DICOM PDU/,
    );
  });
});
