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

  it("keeps a side number per entry through updates, deletions and growth", () => {
    const m = new AddrMap<string>(4);
    const model = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      const key = BASE + ((i * 37) % 150) * 64;
      if (i % 5 === 4) {
        expect(m.delete(key)).toBe(model.delete(key));
      } else if (i % 3 === 0) {
        m.set(key, "s", i + 0.25);
        model.set(key, i + 0.25);
      } else {
        expect(m.insert(key, "i", -i)).toBe(!model.has(key));
        if (!model.has(key)) model.set(key, -i);
      }
    }
    for (let s = 0; s < 150; s++) expect(m.aux(BASE + s * 64)).toBe(model.get(BASE + s * 64));
    for (let s = 0; s < 150; s += 7) {
      const key = BASE + s * 64;
      const had = model.get(key);
      const value = m.take(key);
      expect(value === undefined).toBe(had === undefined);
      if (had !== undefined) expect(m.takenAux).toBe(had);
      expect(m.has(key)).toBe(false);
      model.delete(key);
    }
    expect(m.size).toBe(model.size);
    for (let s = 0; s < 150; s++) expect(m.aux(BASE + s * 64)).toBe(model.get(BASE + s * 64));
    m.set(7, "plain");
    expect(m.aux(7)).toBe(0);
    expect(m.aux(-1)).toBeUndefined();
  });

  it("counts insertions of new keys only, and gives each key the count at its insertion", () => {
    const m = new AddrMap<number>();
    expect(m.insertions).toBe(0);
    m.set(BASE, 1);
    m.set(BASE, 2);
    expect(m.insert(BASE, 3)).toBe(false);
    expect(m.insertions).toBe(1);
    m.delete(BASE);
    m.insert(BASE + 16, 4);
    expect(m.seqOf(BASE + 16)).toBe(1);
    m.clear();
    expect(m.insertions).toBe(2);
    m.set(BASE, 5);
    expect(m.seqOf(BASE)).toBe(2);
  });
});
