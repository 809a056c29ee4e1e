import { describe, expect, it } from "vitest";
import { TSS_HW_SIZE, TSS_IO_MAP_BASE, TSS_IST1, TSS_RSP0, Tss } from "../src/index.js";

describe("Tss", () => {
  it("denies every port until granted; grant and revoke ranges", () => {
    const tss = new Tss();
    expect(tss.isPortGranted(0x60)).toBe(false);
    tss.grantPorts(0x60, 5);
    expect(tss.isPortGranted(0x60)).toBe(true);
    expect(tss.isPortGranted(0x64)).toBe(true);
    expect(tss.isPortGranted(0x65)).toBe(false);
    expect(tss.ioAllowed(0x62, 2)).toBe(true);
    expect(tss.ioAllowed(0x63, 4)).toBe(false); // 0x65, 0x66 not granted
    tss.revokePorts(0x61, 1);
    expect(tss.ioAllowed(0x60, 2)).toBe(false);
  });

  it("bytes past port 0xffff hit the trailing byte of ones", () => {
    const tss = new Tss();
    tss.grantPorts(0xfffc, 4);
    expect(tss.ioAllowed(0xfffc, 4)).toBe(true);
    expect(tss.ioAllowed(0xfffe, 4)).toBe(false);
  });

  it("a bitmap beyond the TSS limit denies", () => {
    const tss = new Tss();
    tss.grantPorts(0, 0x1_0000);
    expect(tss.ioAllowed(0x8000, 1)).toBe(true);
    tss.limit = TSS_HW_SIZE + 0x10; // bitmap covers ports 0..0x87 only
    expect(tss.ioAllowed(0x80, 1)).toBe(true);
    expect(tss.ioAllowed(0x88, 1)).toBe(false);
  });

  it("validates its inputs", () => {
    const tss = new Tss();
    expect(() => tss.grantPorts(0x1_0000, 1)).toThrow(RangeError);
    expect(() => tss.grantPorts(0xffff, 2)).toThrow(RangeError);
    expect(() => tss.grantPorts(0, 0)).toThrow(RangeError);
    expect(() => tss.setIst(0, 0)).toThrow(RangeError);
    expect(() => tss.setIst(8, 0)).toThrow(RangeError);
    expect(() => {
      tss.rsp0 = 2 ** 48;
    }).toThrow(RangeError);
  });

  it("encodes the hardware layout", () => {
    const tss = new Tss();
    tss.rsp0 = 0x8000_0001_2000;
    tss.setIst(3, 0x1000);
    tss.grantPorts(8, 1);
    const b = tss.toBytes();
    const v = new DataView(b.buffer);
    expect(v.getUint32(TSS_RSP0, true)).toBe(0x0001_2000);
    expect(v.getUint32(TSS_RSP0 + 4, true)).toBe(0xffff_8000);
    expect(v.getUint32(TSS_IST1 + 16, true)).toBe(0x1000);
    expect(v.getUint16(TSS_IO_MAP_BASE, true)).toBe(0x68);
    expect(b[TSS_HW_SIZE + 1]).toBe(0xfe);
    expect(b[b.length - 1]).toBe(0xff);
  });
});
