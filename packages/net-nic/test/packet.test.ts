import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildUdpFrame,
  checksumAdd,
  formatIpv4,
  formatMac,
  internetChecksum,
  macToNumber,
  parseEthernet,
  parseIpv4,
  parseMac,
  parseUdp,
  UDP_OFFSET,
  UDP_PAYLOAD_OFFSET,
  udpChecksumsOk,
  udpHeaderOffset,
} from "../src/index.js";

/** Naive RFC 1071 reference: sum of 16-bit words with end-around carry. */
function referenceChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) {
    sum += (b[i] << 8) + (i + 1 < b.length ? b[i + 1] : 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

describe("addresses", () => {
  it("formats and parses MAC and IPv4 addresses", () => {
    expect(formatMac(parseMac("52:54:00:12:34:56"))).toBe("52:54:00:12:34:56");
    expect(formatMac(parseMac("02-AB-cd-00-00-01"))).toBe("02:ab:cd:00:00:01");
    expect(parseIpv4("10.0.0.1")).toBe(0x0a000001);
    expect(formatIpv4(0xc0a80101)).toBe("192.168.1.1");
  });
  it("rejects malformed addresses naming the input", () => {
    expect(() => parseMac("52:54:00:12:34")).toThrow('"52:54:00:12:34"');
    expect(() => parseMac("52:54:00:12:34:zz")).toThrow(RangeError);
    expect(() => parseIpv4("10.0.0.256")).toThrow('"10.0.0.256"');
    expect(() => formatMac(new Uint8Array(4))).toThrow(/need 6 bytes/);
  });
});

describe("Internet checksum", () => {
  it("matches RFC 1071's worked example", () => {
    // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
    const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(checksumAdd(b, 0, b.length)).toBe(0xddf2);
    expect(internetChecksum(b, 0, b.length)).toBe(~0xddf2 & 0xffff);
  });
  it("agrees with a naive reference on random data", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(internetChecksum(b, 0, b.length)).toBe(referenceChecksum(b));
      }),
    );
  });
});

describe("UDP frames", () => {
  it("build -> parse round trip with valid checksums", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 1472 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (payload, sp, dp, ip) => {
          const f = buildUdpFrame({
            dstMac: parseMac("ff:ff:ff:ff:ff:ff"),
            srcMac: parseMac("02:00:00:00:00:01"),
            srcIp: ip,
            dstIp: 0x0a000001,
            srcPort: sp,
            dstPort: dp,
            payload,
          });
          const u = parseUdp(f);
          expect(u).not.toBeNull();
          expect(u).toMatchObject({
            srcIp: ip,
            dstIp: 0x0a000001,
            srcPort: sp,
            dstPort: dp,
            checksumsOk: true,
          });
          expect(Array.from(f.subarray(u!.payloadOffset, u!.payloadOffset + u!.payloadLength))).toEqual(
            Array.from(payload),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
  it("detects a corrupted payload and rejects non-UDP or truncated frames", () => {
    const f = buildUdpFrame({
      dstMac: parseMac("02:00:00:00:00:02"),
      srcMac: parseMac("02:00:00:00:00:01"),
      srcIp: 1,
      dstIp: 2,
      srcPort: 7,
      dstPort: 9,
      payload: new Uint8Array(20).fill(7),
    });
    f[UDP_PAYLOAD_OFFSET] ^= 1;
    expect(parseUdp(f)?.checksumsOk).toBe(false);
    expect(parseUdp(f, 40)).toBeNull();
    expect(parseEthernet(f, 10)).toBeNull();
    const arp = f.slice();
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(parseUdp(arp)).toBeNull();
    expect(parseEthernet(arp)?.etherType).toBe(0x0806);
    expect(() =>
      buildUdpFrame({
        dstMac: f,
        srcMac: f,
        srcIp: 1,
        dstIp: 2,
        srcPort: 70000,
        dstPort: 1,
        payload: new Uint8Array(1),
      }),
    ).toThrow(/bad port 70000/);
  });
  it("udpHeaderOffset / udpChecksumsOk agree with parseUdp, also behind an 802.1Q tag", () => {
    const f = buildUdpFrame({
      dstMac: parseMac("02:00:00:00:00:02"),
      srcMac: parseMac("02:00:00:00:00:01"),
      srcIp: 0x0a000002,
      dstIp: 0x0a000001,
      srcPort: 7,
      dstPort: 9,
      payload: new Uint8Array(33).fill(3),
    });
    expect(udpHeaderOffset(f)).toBe(UDP_OFFSET);
    expect(udpChecksumsOk(f, UDP_OFFSET)).toBe(true);
    const tagged = new Uint8Array(f.length + 4);
    tagged.set(f.subarray(0, 12));
    tagged.set([0x81, 0x00, 0x20, 0x05], 12);
    tagged.set(f.subarray(12), 16);
    expect(udpHeaderOffset(tagged)).toBe(UDP_OFFSET + 4);
    expect(udpChecksumsOk(tagged, UDP_OFFSET + 4)).toBe(true);
    expect(parseUdp(tagged)).toMatchObject({ srcPort: 7, dstPort: 9, payloadLength: 33, checksumsOk: true });
    expect(udpHeaderOffset(tagged, 40)).toBe(-1); // truncated
    const badIp = f.slice();
    badIp[UDP_OFFSET - 1] ^= 0x40; // IPv4 destination changed: header checksum fails
    expect(udpHeaderOffset(badIp)).toBe(UDP_OFFSET);
    expect(udpChecksumsOk(badIp, UDP_OFFSET)).toBe(false);
    const noSum = f.slice();
    noSum[UDP_OFFSET + 6] = 0;
    noSum[UDP_OFFSET + 7] = 0;
    noSum[UDP_PAYLOAD_OFFSET] ^= 1; // a zero UDP checksum is not checked
    expect(udpChecksumsOk(noSum, UDP_OFFSET)).toBe(true);
  });
  it("macToNumber orders and compares MACs as 48-bit numbers", () => {
    expect(macToNumber(parseMac("52:54:00:12:34:56"))).toBe(0x525400123456);
    expect(macToNumber(parseMac("ff:ff:ff:ff:ff:ff"))).toBe(2 ** 48 - 1);
    const f = new Uint8Array(12);
    f.set(parseMac("02:00:00:00:00:02"), 6);
    expect(macToNumber(f, 6)).toBe(0x020000000002);
  });
});
