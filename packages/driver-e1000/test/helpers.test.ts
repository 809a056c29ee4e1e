import { buildEepromImage, E1000_DEVICE_ID } from "@side-kernel/net-nic";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeRxDescriptor,
  descUnused,
  eepromChecksum,
  eepromChecksumValid,
  eepromChecksumWord,
  encodeTxDescriptor,
  itrRegister,
  mtaBit,
  mtaHash,
  mtaRegister,
  newRxDescriptor,
  ringBytes,
  rxDescVerdict,
  txDescDone,
  txDescLower,
} from "../src/helpers.js";
import * as R from "../src/regs.js";

const u16 = fc.integer({ min: 0, max: 0xffff });

describe("EEPROM checksum", () => {
  it("accepts QEMU's image (words sum to 0xBABA) and rejects any single-bit flip", () => {
    // the image net-nic's 82540EM holds (QEMU's template with this MAC and device ID)
    const img = buildEepromImage(Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56), E1000_DEVICE_ID);
    expect(eepromChecksum(img)).toBe(0xbaba);
    expect(eepromChecksumValid(img)).toBe(true);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 15 }), (word, bit) => {
        const bad = Uint16Array.from(img);
        bad[word] ^= 1 << bit;
        expect(eepromChecksumValid(bad)).toBe(false);
      }),
    );
  });

  it("eepromChecksumWord completes any 63 words to a valid image", () => {
    fc.assert(
      fc.property(fc.array(u16, { minLength: 64, maxLength: 64 }), (words) => {
        words[63] = eepromChecksumWord(words);
        expect(eepromChecksum(words)).toBe(R.EEPROM_SUM);
      }),
    );
  });

  it("names a short image and a word that is not a u16", () => {
    expect(() => eepromChecksum(new Uint16Array(10))).toThrow(
      "EEPROM image has 10 words; the checksum covers 64",
    );
    const w = new Array(64).fill(0);
    w[7] = 0x10000;
    expect(() => eepromChecksum(w)).toThrow("EEPROM word 7 is 65536, not a 16-bit value");
  });
});

describe("multicast hash", () => {
  it("takes bits 47:36 for filter type 0 (e1000_hash_mc_addr)", () => {
    // 01:00:5e:00:00:fb (mDNS): byte4 = 0x00, byte5 = 0xfb -> (0x00 >> 4) | (0xfb << 4) = 0xfb0
    const h = mtaHash([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]);
    expect(h).toBe(0xfb0);
    expect(mtaRegister(h)).toBe(0x7d);
    expect(mtaBit(h)).toBe(0x10);
    expect(mtaHash([0, 0, 0, 0, 0xab, 0xcd], 3)).toBe(0xdab);
  });

  it("always yields a 12-bit hash whose register and bit index the 4096-bit table", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.integer({ min: 0, max: 3 }), (mac, t) => {
        const h = mtaHash(mac, t);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThan(4096);
        expect(mtaRegister(h) * 32 + mtaBit(h)).toBe(h);
      }),
    );
  });

  it("rejects a short address and an unknown filter type", () => {
    expect(() => mtaHash([1, 2, 3])).toThrow("MAC address has 3 bytes, not 6");
    expect(() => mtaHash([1, 2, 3, 4, 5, 6], 4)).toThrow("multicast filter type 4 is not in 0..3");
  });
});

describe("descriptors", () => {
  it("encodes a legacy TX descriptor little-endian, as hardware.md 5.4 lays it out", () => {
    const buf = new DataView(new ArrayBuffer(32));
    const cmd = R.E1000_TXD_CMD_EOP | R.E1000_TXD_CMD_IFCS | R.E1000_TXD_CMD_RS;
    encodeTxDescriptor(buf, 16, 0x1_2345_6780, 1514, cmd);
    const b = new Uint8Array(buf.buffer, 16, 16);
    expect([...b]).toEqual([0x80, 0x67, 0x45, 0x23, 1, 0, 0, 0, 0xea, 0x05, 0, 0x0b, 0, 0, 0, 0]);
    expect(txDescLower(60, cmd | R.E1000_TXD_CMD_IDE)).toBe(0x8b00003c);
  });

  it("round-trips any address and length through encode and a DataView read", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 48 - 1 }),
        fc.integer({ min: 1, max: 0xffff }),
        (addr, len) => {
          const v = new DataView(new ArrayBuffer(16));
          encodeTxDescriptor(v, 0, addr, len, R.E1000_TXD_CMD_EOP);
          expect(v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32).toBe(addr);
          expect(v.getUint32(8, true) & 0xffff).toBe(len);
          expect(v.getUint32(8, true) >>> 24).toBe(1);
        },
      ),
    );
  });

  it("rejects lengths and addresses a descriptor cannot hold", () => {
    const v = new DataView(new ArrayBuffer(16));
    expect(() => txDescLower(0, 0)).toThrow("TX descriptor length 0 is not in 1..65535");
    expect(() => txDescLower(65536, 0)).toThrow("TX descriptor length 65536 is not in 1..65535");
    expect(() => encodeTxDescriptor(v, 0, -1, 60, 0)).toThrow("TX buffer address -1 is invalid");
  });

  it("reads DD from the upper dword", () => {
    expect(txDescDone(R.E1000_TXD_STAT_DD)).toBe(true);
    expect(txDescDone(0x100)).toBe(false);
  });

  it("decodes an RX descriptor written back by the device", () => {
    const b = new Uint8Array([
      0x00, 0x10, 0x20, 0x00, 0, 0, 0, 0, 0x40, 0x00, 0x34, 0x12, 0x07, 0x00, 0x05, 0x00,
    ]);
    const d = decodeRxDescriptor(new DataView(b.buffer), 0, newRxDescriptor());
    expect(d).toEqual({ addr: 0x201000, length: 64, csum: 0x1234, status: 7, errors: 0, special: 5 });
    expect(rxDescVerdict(d.status, d.errors)).toBe("ok");
    expect(rxDescVerdict(0, 0)).toBe("pending");
    expect(rxDescVerdict(R.E1000_RXD_STAT_DD, 0)).toBe("partial");
    expect(rxDescVerdict(R.E1000_RXD_STAT_DD | R.E1000_RXD_STAT_EOP, R.E1000_RXD_ERR_CE)).toBe("error");
    expect(rxDescVerdict(R.E1000_RXD_STAT_DD | R.E1000_RXD_STAT_EOP, 0x20)).toBe("ok"); // TCPE alone
  });
});

describe("ring arithmetic", () => {
  it("keeps one descriptor unused (E1000_DESC_UNUSED)", () => {
    expect(descUnused(0, 0, 256)).toBe(255);
    expect(descUnused(0, 255, 256)).toBe(0);
    expect(descUnused(10, 9, 256)).toBe(0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (ntc, ntu) => {
        const free = descUnused(ntc, ntu, 256);
        const used = (ntu - ntc + 256) % 256;
        expect(free + used).toBe(255);
      }),
    );
  });

  it("rounds ring memory to 4 KiB and computes ITR from the interrupt rate", () => {
    expect(ringBytes(256, 4096)).toBe(4096);
    expect(ringBytes(80, 4096)).toBe(4096);
    expect(ringBytes(257, 4096)).toBe(8192);
    expect(itrRegister(20_000)).toBe(195);
    expect(itrRegister(0)).toBe(0);
    expect(() => itrRegister(-1)).toThrow("interrupt rate -1 is invalid");
  });
});
