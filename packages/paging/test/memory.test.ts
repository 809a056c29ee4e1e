import { describe, expect, it } from "vitest";
import { PhysicalMemory } from "../src/index.js";

describe("PhysicalMemory", () => {
  it("reads back what it wrote, little-endian, at any alignment", () => {
    const m = new PhysicalMemory(8192);
    m.write32(1, 0x11223344);
    expect(m.read8(1)).toBe(0x44);
    expect(m.read16(3)).toBe(0x1122);
    expect(m.read32(1)).toBe(0x11223344);
    m.write64(16, 2 ** 52 + 7);
    expect(m.read64(16)).toBe(2 ** 52 + 7);
    expect(m.read64Parts(16)).toEqual({ lo: 7, hi: 0x100000 });
    m.write64Parts(24, 0xdeadbeef, 0xffffffff);
    expect(m.read32(28)).toBe(0xffffffff);
  });

  it("rejects sizes that are not positive page multiples", () => {
    expect(() => new PhysicalMemory(4097)).toThrow(RangeError);
    expect(() => new PhysicalMemory(0)).toThrow(/positive multiple of 4096/);
  });

  it("throws a RangeError naming address, size and memory size instead of wrapping", () => {
    const m = new PhysicalMemory(4096);
    expect(() => m.read32(4094)).toThrow(
      "physical access of 4 bytes at 0xffe is outside memory of 0x1000 bytes",
    );
    expect(() => m.write8(-1, 0)).toThrow(RangeError);
    expect(() => m.read8(1.5)).toThrow(RangeError);
    expect(() => m.write64(0, -1)).toThrow(/not an integer in \[0, 2\^64\)/);
    expect(() => m.fill(4000, 200, 0)).toThrow(RangeError);
  });

  it("copies bytes in and out, and within memory like memmove", () => {
    const m = new PhysicalMemory(4096);
    m.writeBytes(10, new Uint8Array([1, 2, 3, 4, 5]), 1, 3);
    const out = new Uint8Array(4);
    m.readBytes(10, out, 1);
    expect([...out]).toEqual([0, 2, 3, 4]);
    m.copy(11, 10, 3);
    expect([m.read8(11), m.read8(12), m.read8(13)]).toEqual([2, 3, 4]);
    m.fill(100, 4, 0xab);
    expect(m.read32(100)).toBe(0xabababab);
    expect(() => m.readBytes(0, out, 2, 3)).toThrow(/host buffer range/);
  });

  it("copies like memmove when the host array is a view of the memory itself, short or long", () => {
    for (const n of [5, 16, 17, 100]) {
      const m = new PhysicalMemory(4096);
      const ref = new Uint8Array(4096);
      for (let i = 0; i < 300; i++) {
        m.write8(i, i & 0xff);
        ref[i] = i & 0xff;
      }
      const view = new Uint8Array(m.buffer, 0, 4096);
      // Destination overlaps the source 3 bytes higher, then the source 3 bytes higher.
      m.readBytes(10, view, 13, n);
      ref.copyWithin(13, 10, 10 + n);
      m.writeBytes(150, view, 153, n);
      ref.copyWithin(150, 153, 153 + n);
      const got = new Uint8Array(300);
      m.readBytes(0, got);
      expect([...got]).toEqual([...ref.subarray(0, 300)]);
    }
  });
});
