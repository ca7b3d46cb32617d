import { isIP } from 'node:net';
import {
  IPv4ProxyAddress,
  IPv6ProxyAddress,
  V1BinaryProxyProtocol,
  V2ProxyProtocol,
} from 'proxy-protocol-js';

/**
 * What a connection from a load balancer starts with, by the PROXY protocol
 * (haproxy.org/download/2.8/doc/proxy-protocol.txt): the address of the box behind it.
 * `sourceAddress` is undefined for a connection the balancer makes itself (v2 LOCAL, v1
 * UNKNOWN: its health checks); `length` is how many bytes the header took.
 */
export type ProxyHeader =
  | { state: 'complete'; sourceAddress: string | undefined; length: number }
  | { state: 'incomplete' }
  | { state: 'invalid'; reason: string };

/** §2.2: "\r\n\r\n\0\r\nQUIT\n", then version/command, family, and a 16-bit length. */
const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
const V2_FIXED = 16;
/** §2.2: the v2 LOCAL command (the balancer's own connection). */
const V2_LOCAL = 0x20;
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** §2.1: a v1 line is at most 107 bytes, CRLF included. */
const V1_MAX = 107;

const startsWithPrefixOf = (buffer: Buffer, prefix: Buffer) =>
  buffer
    .subarray(0, prefix.length)
    .equals(prefix.subarray(0, Math.min(prefix.length, buffer.length)));

/** Reads the PROXY header at the start of `buffer` (the first bytes of a connection). */
export function readProxyHeader(buffer: Buffer): ProxyHeader {
  if (buffer.length === 0) return { state: 'incomplete' };
  if (startsWithPrefixOf(buffer, V2_SIGNATURE)) {
    if (buffer.length < V2_FIXED) return { state: 'incomplete' };
    const length = V2_FIXED + buffer.readUInt16BE(14);
    if (buffer.length < length) return { state: 'incomplete' };
    if (buffer[12] === V2_LOCAL) return { state: 'complete', sourceAddress: undefined, length };
    try {
      const header = V2ProxyProtocol.parse(buffer.subarray(0, length));
      return { state: 'complete', sourceAddress: addressOf(header.proxyAddress), length };
    } catch (error) {
      return { state: 'invalid', reason: `PROXY v2 header: ${messageOf(error)}` };
    }
  }
  if (startsWithPrefixOf(buffer, V1_PREFIX)) {
    const end = buffer.subarray(0, V1_MAX).indexOf('\r\n');
    if (end < 0) {
      return buffer.length < V1_MAX
        ? { state: 'incomplete' }
        : { state: 'invalid', reason: 'PROXY v1 line longer than 107 bytes' };
    }
    const length = end + 2;
    if (buffer.subarray(0, length).toString('latin1').startsWith('PROXY UNKNOWN')) {
      return { state: 'complete', sourceAddress: undefined, length };
    }
    try {
      const header = V1BinaryProxyProtocol.parse(buffer.subarray(0, length));
      // The parser takes any word for an address; a limit keyed on it must not.
      if (isIP(header.source.ipAddress) === 0) {
        return { state: 'invalid', reason: 'PROXY v1 line without a source address' };
      }
      return { state: 'complete', sourceAddress: header.source.ipAddress, length };
    } catch (error) {
      return { state: 'invalid', reason: `PROXY v1 line: ${messageOf(error)}` };
    }
  }
  return { state: 'invalid', reason: 'no PROXY protocol header' };
}

function addressOf(address: unknown): string | undefined {
  if (address instanceof IPv4ProxyAddress) return address.sourceAddress.address.join('.');
  if (address instanceof IPv6ProxyAddress) {
    const bytes = address.sourceAddress.address;
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
    return groups.join(':');
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ||
    (typeof error === 'object' && error !== null && 'message' in error)
    ? String((error as { message: unknown }).message)
    : String(error);
}
