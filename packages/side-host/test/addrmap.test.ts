import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AddrMap } from "../src/addrmap.js";

const BASE = 0x8880_0000_0000;

describe("AddrMap", () => {
  it("behaves as a Map (values, size, insertion order) under random set/delete/get", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom("set", "insert", "delete", "get"),
            fc.integer({ min: 0, max: 300 }),
            fc.integer(),
          ),
          {
            maxLength: 600,
          },
        ),
        (ops) => {
          const m = new AddrMap<number>();
          const model = new Map<number, number>();
          for (const [op, slot, v] of ops) {
            // 48-bit kernel addresses 16 bytes apart, and a few small ones
            const key = slot < 280 ? BASE + slot * 16 : slot - 280;
            if (op === "set") {
              m.set(key, v);
              model.set(key, v);
            } else if (op === "insert") {
              expect(m.insert(key, v)).toBe(!model.has(key));
              if (!model.has(key)) model.set(key, v);
            } else if (op === "delete") {
              expect(m.delete(key)).toBe(model.delete(key));
            } else {
              expect(m.get(key)).toBe(model.get(key));
              expect(m.has(key)).toBe(model.has(key));
            }
            expect(m.size).toBe(model.size);
          }
          expect(m.keyList()).toEqual([...model.keys()]);
          expect(m.values()).toEqual([...model.values()]);
        },
      ),
    );
  });

  it("finds nothing for keys that are not addresses and refuses to store them", () => {
    const m = new AddrMap<string>();
    m.set(0, "zero");
    for (const k of [-1, Number.NaN, 0.5, Number.POSITIVE_INFINITY]) {
      expect(m.get(k)).toBeUndefined();
      expect(m.has(k)).toBe(false);
      expect(m.delete(k)).toBe(false);
      expect(() => m.set(k, "x")).toThrow(RangeError);
    }
    expect(m.get(-0)).toBe("zero");
    expect(m.seqOf(0)).toBe(0);
    expect(m.seqOf(16)).toBe(-1);
  });
});
