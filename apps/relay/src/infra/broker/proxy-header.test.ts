import {
  Command,
  IPv4Address,
  IPv4ProxyAddress,
  IPv6Address,
  IPv6ProxyAddress,
  TransportProtocol,
  V2ProxyProtocol,
} from 'proxy-protocol-js';
import { describe, expect, it } from 'vitest';
import { readProxyHeader } from './proxy-header.js';

const MQTT_CONNECT_START = Buffer.from([0x10, 0x1c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]);

function v2Ipv4(source: [number, number, number, number], command = Command.PROXY): Buffer {
  return Buffer.from(
    new V2ProxyProtocol(
      command,
      TransportProtocol.STREAM,
      new IPv4ProxyAddress(
        IPv4Address.createFrom(source),
        40_000,
        IPv4Address.createFrom([10, 0, 0, 11]),
        1883,
      ),
    ).build(),
  );
}

describe('readProxyHeader (PROXY protocol v1 and v2)', () => {
  it('reads the box address of a v2 header and says where the MQTT bytes start', () => {
    const header = v2Ipv4([203, 0, 113, 7]);
    expect(readProxyHeader(Buffer.concat([header, MQTT_CONNECT_START]))).toEqual({
      state: 'complete',
      sourceAddress: '203.0.113.7',
      length: header.length,
    });
  });

  it('reads an IPv6 source of a v2 header', () => {
    const source = [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(11).fill(0), 0x09];
    const header = Buffer.from(
      new V2ProxyProtocol(
        Command.PROXY,
        TransportProtocol.STREAM,
        new IPv6ProxyAddress(
          IPv6Address.createFrom(source),
          40_000,
          IPv6Address.createFrom(Array<number>(16).fill(0)),
          1883,
        ),
      ).build(),
    );
    const read = readProxyHeader(header);
    expect(read).toMatchObject({ state: 'complete', sourceAddress: '2001:db8:0:0:0:0:0:9' });
  });

  it("lets the balancer's own v2 LOCAL connection through without an address", () => {
    const header = v2Ipv4([0, 0, 0, 0], Command.LOCAL);
    expect(readProxyHeader(header)).toEqual({
      state: 'complete',
      sourceAddress: undefined,
      length: header.length,
    });
  });

  it('reads a v1 line, TCP4 and TCP6, and UNKNOWN without an address', () => {
    const tcp4 = Buffer.from('PROXY TCP4 198.51.100.4 10.0.0.11 51000 1883\r\n', 'latin1');
    expect(readProxyHeader(Buffer.concat([tcp4, MQTT_CONNECT_START]))).toEqual({
      state: 'complete',
      sourceAddress: '198.51.100.4',
      length: tcp4.length,
    });
    const tcp6 = Buffer.from('PROXY TCP6 2001:db8::9 2001:db8::1 51000 1883\r\n', 'latin1');
    expect(readProxyHeader(tcp6)).toMatchObject({
      state: 'complete',
      sourceAddress: '2001:db8::9',
    });
    const unknown = Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
    expect(readProxyHeader(unknown)).toEqual({
      state: 'complete',
      sourceAddress: undefined,
      length: unknown.length,
    });
  });

  it('waits for the rest of a header cut at any byte', () => {
    for (const header of [
      v2Ipv4([203, 0, 113, 7]),
      Buffer.from('PROXY TCP4 198.51.100.4 10.0.0.11 51000 1883\r\n', 'latin1'),
    ]) {
      for (let cut = 0; cut < header.length; cut++) {
        expect(readProxyHeader(header.subarray(0, cut))).toEqual({ state: 'incomplete' });
      }
    }
  });

  it('refuses a connection that starts with MQTT, a v1 line past 107 bytes, and a broken line', () => {
    expect(readProxyHeader(MQTT_CONNECT_START)).toMatchObject({
      state: 'invalid',
      reason: 'no PROXY protocol header',
    });
    expect(readProxyHeader(Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`, 'latin1'))).toMatchObject({
      state: 'invalid',
    });
    expect(
      readProxyHeader(Buffer.from('PROXY TCP4 not-an-address 10.0.0.1 1 2\r\n', 'latin1')),
    ).toMatchObject({ state: 'invalid' });
  });
});
