import { describe, expect, it } from "vitest";
import { buildEepromImage, MicrowireEeprom, regs as R } from "../src/index.js";

function bitbang(e: MicrowireEeprom, addr: number): number {
  const w = (v: number) => e.write(v);
  let eecd = R.EECD_REQ | R.EECD_CS;
  w(eecd);
  const cmd = (R.EEPROM_READ_OPCODE << 6) | addr;
  for (let bit = 8; bit >= 0; bit--) {
    eecd = cmd & (1 << bit) ? eecd | R.EECD_DI : eecd & ~R.EECD_DI;
    w(eecd);
    w(eecd | R.EECD_SK);
    w(eecd);
  }
  let data = 0;
  for (let i = 0; i < 16; i++) {
    w(eecd | R.EECD_SK);
    data = (data << 1) | (e.read() & R.EECD_DO ? 1 : 0);
    w(eecd);
  }
  w(0);
  return data;
}

describe("EEPROM image", () => {
  it("holds the MAC in words 0-2, device ID in 11/13, and sums to 0xBABA", () => {
    const img = buildEepromImage(Uint8Array.of(1, 2, 3, 4, 5, 6), 0x100e);
    expect(Array.from(img.subarray(0, 3))).toEqual([0x0201, 0x0403, 0x0605]);
    expect([img[11], img[12], img[13], img[14]]).toEqual([0x100e, 0x8086, 0x100e, 0x8086]);
    expect(img.reduce((s, w) => (s + w) & 0xffff, 0)).toBe(0xbaba);
  });
  it("rejects a MAC that is not 6 bytes", () => {
    expect(() => buildEepromImage(new Uint8Array(5), 0x100e)).toThrow("MAC must be 6 bytes, got 5");
  });
});

describe("Microwire FSM", () => {
  it("reads every word MSB first", () => {
    const img = buildEepromImage(Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x00, 0x01), 0x100e);
    const e = new MicrowireEeprom(img);
    for (let a = 0; a < 64; a++) expect(bitbang(e, a)).toBe(img[a]);
  });
  it("a non-READ opcode outputs ones; CS low keeps the latched bits only", () => {
    const e = new MicrowireEeprom(buildEepromImage(new Uint8Array(6), 0x100e));
    e.write(R.EECD_CS);
    for (let bit = 8; bit >= 0; bit--) {
      const di = bit === 8 ? R.EECD_DI : 0; // opcode 100b: not a read
      e.write(R.EECD_CS | di);
      e.write(R.EECD_CS | di | R.EECD_SK);
      e.write(R.EECD_CS | di);
    }
    expect(e.read() & R.EECD_DO).toBe(R.EECD_DO);
    e.write(R.EECD_FWE_MASK);
    expect(e.read() & (R.EECD_FWE_MASK | R.EECD_PRES | R.EECD_GNT)).toBe(R.EECD_FWE_MASK | R.EECD_PRES);
  });
  it("snapshot/restore resumes a read mid-word", () => {
    const img = buildEepromImage(Uint8Array.of(9, 8, 7, 6, 5, 4), 0x100e);
    const a = new MicrowireEeprom(img);
    a.write(R.EECD_CS);
    const cmd = (R.EEPROM_READ_OPCODE << 6) | 2;
    for (let bit = 8; bit >= 0; bit--) {
      const di = cmd & (1 << bit) ? R.EECD_DI : 0;
      a.write(R.EECD_CS | di);
      a.write(R.EECD_CS | di | R.EECD_SK);
      a.write(R.EECD_CS | di);
    }
    const b = new MicrowireEeprom(img);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    let data = 0;
    for (let i = 0; i < 16; i++) {
      b.write(R.EECD_CS | R.EECD_SK);
      data = (data << 1) | (b.read() & R.EECD_DO ? 1 : 0);
      b.write(R.EECD_CS);
    }
    expect(data).toBe(img[2]);
  });
});
