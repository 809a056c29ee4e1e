/**
 * Ethernet / IPv4 / UDP builders and parsers, the Internet checksum (RFC 1071) and the UDP
 * pseudo-header checksum (RFC 768), MAC and IPv4 address formatting. Frames carry no FCS.
 * Shared with the kernel's UDP stack.
 */
import { ETH_HEADER_LEN } from "./limits.js";

/** EtherType of IPv4, and of an 802.1Q VLAN tag. */
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_VLAN = 0x8100;
/** IP protocol number of UDP. */
export const IPPROTO_UDP = 17;
/** IPv4 header without options, and the UDP header. */
export const IPV4_HEADER_LEN = 20;
export const UDP_HEADER_LEN = 8;
/** Offsets of the IPv4 header and UDP payload in an untagged UDP/IPv4 frame. */
export const IPV4_OFFSET = ETH_HEADER_LEN;
export const UDP_OFFSET = ETH_HEADER_LEN + IPV4_HEADER_LEN;
export const UDP_PAYLOAD_OFFSET = UDP_OFFSET + UDP_HEADER_LEN;
const IPV4_VERSION_IHL = 0x45;
/** Bytes of one 802.1Q tag (TPID + TCI). */
const VLAN_TAG_BYTES = 4;
const IPV4_DEFAULT_TTL = 64;
const IPV4_FLAG_DF = 0x4000;

/** Format 6 bytes of `bytes` at `offset` as "aa:bb:cc:dd:ee:ff". Throws a RangeError if short. */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  if (offset < 0 || offset + 6 > bytes.length)
    throw new RangeError(`formatMac: need 6 bytes at offset ${offset}, have ${bytes.length}`);
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(bytes[offset + i].toString(16).padStart(2, "0"));
  return parts.join(":");
}

/** Parse "aa:bb:cc:dd:ee:ff" (or with '-') into 6 bytes. Throws a RangeError naming the text. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p)))
    throw new RangeError(`parseMac: "${text}" is not a MAC address like 52:54:00:12:34:56`);
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}

/** Format a 32-bit IPv4 address as dotted quad. */
export function formatIpv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** Parse a dotted-quad IPv4 address into a 32-bit number. Throws a RangeError naming the text. */
export function parseIpv4(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255))
    throw new RangeError(`parseIpv4: "${text}" is not an IPv4 address like 10.0.0.1`);
  return parts.reduce((a, p) => a * 256 + Number(p), 0) >>> 0;
}

/**
 * The 32-bit one's-complement accumulation of `length` bytes at `offset` as big-endian 16-bit
 * words (odd byte padded with zero), added to `initial`. Fold and invert with `finishChecksum`.
 */
export function checksumAdd(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  const end = offset + length;
  let i = offset;
  for (; i + 1 < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Fold a sum from `checksumAdd` to 16 bits and take its complement. */
export function finishChecksum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** The Internet checksum (RFC 1071) of `length` bytes at `offset`. */
export function internetChecksum(buf: Uint8Array, offset: number, length: number): number {
  return finishChecksum(checksumAdd(buf, offset, length));
}

/**
 * The UDP checksum over the IPv4 pseudo-header (src, dst, protocol, UDP length) and the UDP
 * header and payload at `udpOffset` (checksum field included as stored). A result of 0 is sent
 * as 0xFFFF (RFC 768).
 */
export function udpChecksum(
  buf: Uint8Array,
  srcIp: number,
  dstIp: number,
  udpOffset: number,
  udpLength: number,
): number {
  let sum = (srcIp >>> 16) + (srcIp & 0xffff) + (dstIp >>> 16) + (dstIp & 0xffff) + IPPROTO_UDP + udpLength;
  sum = checksumAdd(buf, udpOffset, udpLength, sum);
  const c = finishChecksum(sum);
  return c === 0 ? 0xffff : c;
}

/** What `buildUdpFrame` needs. */
export interface UdpFrameSpec {
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
  /** IPv4 identification (default 0). */
  ipId?: number;
  ttl?: number;
}

/**
 * Build an untagged Ethernet/IPv4/UDP frame (no FCS) with valid IP and UDP checksums. Throws a
 * RangeError when the result would exceed 65535 bytes of IP datagram or a port is out of range.
 */
export function buildUdpFrame(spec: UdpFrameSpec): Uint8Array {
  const udpLength = UDP_HEADER_LEN + spec.payload.length;
  if (IPV4_HEADER_LEN + udpLength > 0xffff)
    throw new RangeError(`buildUdpFrame: payload of ${spec.payload.length} bytes is too large for IPv4`);
  for (const p of [spec.srcPort, spec.dstPort])
    if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw new RangeError(`buildUdpFrame: bad port ${p}`);
  const f = new Uint8Array(UDP_OFFSET + udpLength);
  writeEthernetHeader(f, spec.dstMac, spec.srcMac, ETHERTYPE_IPV4);
  writeIpv4Header(
    f,
    IPV4_OFFSET,
    IPV4_HEADER_LEN + udpLength,
    IPPROTO_UDP,
    spec.srcIp,
    spec.dstIp,
    spec.ipId ?? 0,
    spec.ttl,
  );
  f.set(spec.payload, UDP_PAYLOAD_OFFSET);
  writeUdpHeader(f, UDP_OFFSET, spec.srcPort, spec.dstPort, udpLength);
  const c = udpChecksum(f, spec.srcIp, spec.dstIp, UDP_OFFSET, udpLength);
  f[UDP_OFFSET + 6] = c >>> 8;
  f[UDP_OFFSET + 7] = c & 0xff;
  return f;
}

/** Write a 14-byte Ethernet header at offset 0 of `f`. */
export function writeEthernetHeader(
  f: Uint8Array,
  dst: Uint8Array,
  src: Uint8Array,
  etherType: number,
): void {
  f.set(dst.subarray(0, 6), 0);
  f.set(src.subarray(0, 6), 6);
  f[12] = etherType >>> 8;
  f[13] = etherType & 0xff;
}

/** Write a 20-byte IPv4 header (no options, DF set) at `o`, with its header checksum. */
export function writeIpv4Header(
  f: Uint8Array,
  o: number,
  totalLength: number,
  protocol: number,
  src: number,
  dst: number,
  id = 0,
  ttl = IPV4_DEFAULT_TTL,
): void {
  f[o] = IPV4_VERSION_IHL;
  f[o + 1] = 0;
  f[o + 2] = totalLength >>> 8;
  f[o + 3] = totalLength & 0xff;
  f[o + 4] = (id >>> 8) & 0xff;
  f[o + 5] = id & 0xff;
  f[o + 6] = IPV4_FLAG_DF >>> 8;
  f[o + 7] = 0;
  f[o + 8] = ttl;
  f[o + 9] = protocol;
  f[o + 10] = 0;
  f[o + 11] = 0;
  for (let i = 0; i < 4; i++) {
    f[o + 12 + i] = (src >>> (24 - 8 * i)) & 0xff;
    f[o + 16 + i] = (dst >>> (24 - 8 * i)) & 0xff;
  }
  const c = internetChecksum(f, o, IPV4_HEADER_LEN);
  f[o + 10] = c >>> 8;
  f[o + 11] = c & 0xff;
}

/** Write an 8-byte UDP header at `o` with a zero checksum. */
export function writeUdpHeader(
  f: Uint8Array,
  o: number,
  srcPort: number,
  dstPort: number,
  length: number,
): void {
  f[o] = srcPort >>> 8;
  f[o + 1] = srcPort & 0xff;
  f[o + 2] = dstPort >>> 8;
  f[o + 3] = dstPort & 0xff;
  f[o + 4] = length >>> 8;
  f[o + 5] = length & 0xff;
  f[o + 6] = 0;
  f[o + 7] = 0;
}

/** A parsed Ethernet header. `payloadOffset` skips one 802.1Q tag when present. */
export interface EthernetHeader {
  dst: string;
  src: string;
  etherType: number;
  vlanTci: number | null;
  payloadOffset: number;
}

/** Parse the Ethernet header of `frame`; returns null when the frame is shorter than a header. */
export function parseEthernet(frame: Uint8Array, length = frame.length): EthernetHeader | null {
  if (length < ETH_HEADER_LEN) return null;
  let etherType = (frame[12] << 8) | frame[13];
  let vlanTci: number | null = null;
  let payloadOffset = ETH_HEADER_LEN;
  if (etherType === ETHERTYPE_VLAN) {
    if (length < ETH_HEADER_LEN + 4) return null;
    vlanTci = (frame[14] << 8) | frame[15];
    etherType = (frame[16] << 8) | frame[17];
    payloadOffset += 4;
  }
  return { dst: formatMac(frame, 0), src: formatMac(frame, 6), etherType, vlanTci, payloadOffset };
}

/** A parsed IPv4 + UDP datagram. */
export interface UdpDatagram {
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  /** Offset and length of the UDP payload within the frame. */
  payloadOffset: number;
  payloadLength: number;
  /** Whether the IPv4 header checksum and the UDP checksum (if non-zero) verify. */
  checksumsOk: boolean;
}

/** Offset of the IPv4 header: after the Ethernet header and one 802.1Q tag if present. */
function ipOffset(frame: Uint8Array): number {
  return ((frame[12] << 8) | frame[13]) === ETHERTYPE_VLAN ? ETH_HEADER_LEN + VLAN_TAG_BYTES : ETH_HEADER_LEN;
}

/**
 * Offset of the UDP header of an Ethernet/IPv4/UDP frame of `length` bytes whose IPv4 and UDP
 * lengths fit in it, or -1 (not IPv4/UDP, or truncated). Reads bytes only: no allocation.
 */
export function udpHeaderOffset(frame: Uint8Array, length = frame.length): number {
  if (length < ETH_HEADER_LEN) return -1;
  const ip = ipOffset(frame);
  if (length < ip + IPV4_HEADER_LEN) return -1;
  if (((frame[ip - 2] << 8) | frame[ip - 1]) !== ETHERTYPE_IPV4 || frame[ip] >>> 4 !== 4) return -1;
  const ihl = (frame[ip] & 0xf) * 4;
  const totalLength = (frame[ip + 2] << 8) | frame[ip + 3];
  if (ihl < IPV4_HEADER_LEN || ip + totalLength > length || totalLength < ihl + UDP_HEADER_LEN) return -1;
  if (frame[ip + 9] !== IPPROTO_UDP) return -1;
  const u = ip + ihl;
  const udpLength = (frame[u + 4] << 8) | frame[u + 5];
  if (udpLength < UDP_HEADER_LEN || u + udpLength > ip + totalLength) return -1;
  return u;
}

/**
 * Whether the IPv4 header checksum and the UDP checksum (when non-zero) of a frame verify, given
 * the UDP header offset from `udpHeaderOffset`. No allocation.
 */
export function udpChecksumsOk(frame: Uint8Array, udpOffset: number): boolean {
  const ip = ipOffset(frame);
  if (internetChecksum(frame, ip, udpOffset - ip) !== 0) return false;
  if (((frame[udpOffset + 6] << 8) | frame[udpOffset + 7]) === 0) return true;
  const udpLength = (frame[udpOffset + 4] << 8) | frame[udpOffset + 5];
  const pseudo =
    ((frame[ip + 12] << 8) | frame[ip + 13]) +
    ((frame[ip + 14] << 8) | frame[ip + 15]) +
    ((frame[ip + 16] << 8) | frame[ip + 17]) +
    ((frame[ip + 18] << 8) | frame[ip + 19]) +
    IPPROTO_UDP +
    udpLength;
  return finishChecksum(checksumAdd(frame, udpOffset, udpLength, pseudo)) === 0;
}

/** The MAC address at `offset` of `bytes` as a 48-bit number (byte 0 most significant), for comparisons. */
export function macToNumber(bytes: Uint8Array, offset = 0): number {
  return (
    ((bytes[offset] << 8) | bytes[offset + 1]) * 0x100000000 +
    (((bytes[offset + 2] << 24) |
      (bytes[offset + 3] << 16) |
      (bytes[offset + 4] << 8) |
      bytes[offset + 5]) >>>
      0)
  );
}

/**
 * Parse an Ethernet/IPv4/UDP frame. Returns null when it is not IPv4/UDP or is truncated
 * (lengths in the headers beyond `length`). Allocates the result only (no MAC strings).
 */
export function parseUdp(frame: Uint8Array, length = frame.length): UdpDatagram | null {
  const u = udpHeaderOffset(frame, length);
  if (u < 0) return null;
  const ip = ipOffset(frame);
  const udpLength = (frame[u + 4] << 8) | frame[u + 5];
  return {
    srcIp: readU32(frame, ip + 12),
    dstIp: readU32(frame, ip + 16),
    srcPort: (frame[u] << 8) | frame[u + 1],
    dstPort: (frame[u + 2] << 8) | frame[u + 3],
    payloadOffset: u + UDP_HEADER_LEN,
    payloadLength: udpLength - UDP_HEADER_LEN,
    checksumsOk: udpChecksumsOk(frame, u),
  };
}

function readU32(f: Uint8Array, o: number): number {
  return ((f[o] << 24) | (f[o + 1] << 16) | (f[o + 2] << 8) | f[o + 3]) >>> 0;
}
