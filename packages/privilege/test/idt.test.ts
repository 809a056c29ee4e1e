import { describe, expect, it } from "vitest";
import { GATE_TYPE_INTERRUPT, GATE_TYPE_TRAP, Idt, KERNEL_CS } from "../src/index.js";

describe("Idt", () => {
  it("stores and decodes gates; clearGate removes them", () => {
    const idt = new Idt();
    expect(idt.gate(3).present).toBe(false);
    idt.setGate(3, { handler: 0x8000_0000_1234, type: "trap", dpl: 3, ist: 2 });
    expect(idt.gate(3)).toEqual({ handler: 0x8000_0000_1234, type: "trap", dpl: 3, ist: 2, present: true });
    expect(idt.gate(4).present).toBe(false);
    idt.clearGate(3);
    expect(idt.gate(3).present).toBe(false);
  });

  it("rejects bad gates", () => {
    const idt = new Idt();
    expect(() => idt.setGate(256, { handler: 0 })).toThrow(RangeError);
    expect(() => idt.setGate(1, { handler: 2 ** 48 })).toThrow(RangeError);
    expect(() => idt.setGate(1, { handler: 0, dpl: 4 })).toThrow(RangeError);
    expect(() => idt.setGate(1, { handler: 0, ist: 8 })).toThrow(RangeError);
    expect(() => idt.setGate(1, { handler: 0, type: "call" as never })).toThrow(TypeError);
  });

  it("encodes 16-byte gates in the hardware layout", () => {
    const idt = new Idt();
    idt.setGate(14, { handler: 0x8000_1234_5678 });
    idt.setGate(0x80, { handler: 0x1000, type: "trap", dpl: 3, ist: 1 });
    const v = new DataView(idt.toBytes().buffer);
    const g = 14 * 16;
    expect(v.getUint16(g, true)).toBe(0x5678);
    expect(v.getUint16(g + 2, true)).toBe(KERNEL_CS);
    expect(v.getUint8(g + 5)).toBe(0x80 | GATE_TYPE_INTERRUPT);
    expect(v.getUint16(g + 6, true)).toBe(0x1234);
    expect(v.getUint32(g + 8, true)).toBe(0xffff_8000);
    const t = 0x80 * 16;
    expect(v.getUint8(t + 4)).toBe(1);
    expect(v.getUint8(t + 5)).toBe(0x80 | (3 << 5) | GATE_TYPE_TRAP);
    expect(v.getUint32(0, true)).toBe(0);
  });
});
