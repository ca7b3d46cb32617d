import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PacketSizeGuard } from './packet-size-guard.js';

function publish(payloadBytes: number): Buffer {
  return mqttPacket.generate({
    cmd: 'publish',
    topic: 'telerelay/v1/box-1/rec/chunk',
    payload: Buffer.alloc(payloadBytes, 7),
    qos: 1,
    messageId: 1,
    retain: false,
    dup: false,
  });
}

describe('PacketSizeGuard', () => {
  it('lets a stream of packets under the limit through, however the bytes are split', () => {
    const stream = Buffer.concat([publish(100), publish(60_000), publish(0), publish(5)]);
    for (const split of [1, 3, 17, 4096, stream.length]) {
      const guard = new PacketSizeGuard(70_000);
      for (let offset = 0; offset < stream.length; offset += split) {
        expect(guard.inspect(stream.subarray(offset, offset + split))).toBeNull();
      }
    }
  });

  it('reports an oversize packet from its header alone', () => {
    const guard = new PacketSizeGuard(70_000);
    expect(guard.inspect(publish(100))).toBeNull();
    const big = publish(200_000);
    // Only the fixed header and a few bytes have arrived.
    expect(guard.inspect(big.subarray(0, 6))).toBeGreaterThan(70_000);
  });

  it('reports a remaining length with a fifth continuation byte as malformed', () => {
    const guard = new PacketSizeGuard(Number.MAX_SAFE_INTEGER);
    expect(guard.inspect(Uint8Array.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});
