import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COST_CATEGORIES, makeCostModel, SimClock } from "../src/index.js";

describe("SimClock", () => {
  it("chargeTo through category handles charges exactly as charge does, across resets (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 11 }),
            fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e6, noNaN: true })),
            fc.boolean(),
          ),
          { maxLength: 200 },
        ),
        (steps) => {
          const byName = new SimClock();
          const byHandle = new SimClock();
          const handles = Array.from({ length: 12 }, (_, i) => byHandle.category(`c${i}`));
          for (const [i, cycles, reset] of steps) {
            byName.charge(`c${i}`, cycles);
            byHandle.chargeTo(handles[i], cycles);
            if (reset && cycles > 5e5) {
              byName.reset();
              byHandle.reset();
            }
            byName.idleUntil(byName.nowNs + 1);
            byHandle.idleUntil(byHandle.nowNs + 1);
          }
          expect(Object.entries(byHandle.byCategory())).toEqual(Object.entries(byName.byCategory()));
          expect(byHandle.cycles).toBe(byName.cycles);
          expect(byHandle.busyCycles).toBe(byName.busyCycles);
          expect(byHandle.nowNs).toBe(byName.nowNs);
        },
      ),
    );
  });

  it("category handles: zero charges create nothing, bad input throws, a handle belongs to its clock", () => {
    const clock = new SimClock();
    const cat = clock.category("crossing");
    clock.chargeTo(cat, 0);
    expect(clock.byCategory()).toEqual({});
    expect(() => clock.chargeTo(cat, -1)).toThrow(RangeError);
    expect(() => clock.chargeTo(cat, Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => clock.category("")).toThrow(TypeError);
    expect(() => new SimClock().chargeTo(cat, 1)).toThrow(RangeError);
    clock.chargeTo(cat, 3);
    clock.charge("crossing", 4);
    expect(clock.categoryCycles("crossing")).toBe(7);
  });

  it("keeps exact per-category totals in first-charge order past its category cache, and after reset", () => {
    const clock = new SimClock();
    const model = new Map<string, number>();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 500; i++) {
        const cat = `c${(i * 7) % 13}`;
        const cycles = (i % 5) * 0.25 + 1 / 3;
        clock.charge(cat, cycles);
        model.set(cat, (model.get(cat) ?? 0) + cycles);
      }
      expect(Object.entries(clock.byCategory())).toEqual([...model]);
      for (const [k, v] of model) expect(clock.categoryCycles(k)).toBe(v);
      clock.reset();
      model.clear();
      expect(clock.byCategory()).toEqual({});
    }
  });

  it("defaults to 3 GHz and charges busy cycles by category", () => {
    const clock = new SimClock();
    expect(clock.hz).toBe(3e9);
    clock.charge("driver", 300);
    clock.charge("crossing", 600);
    clock.charge("driver", 3);
    expect(clock.cycles).toBe(903);
    expect(clock.busyCycles).toBe(903);
    expect(clock.nowNs).toBe(301);
    expect(clock.byCategory()).toEqual({ driver: 303, crossing: 600 });
    expect(clock.categoryCycles("mmio")).toBe(0);
    expect(clock.utilization()).toBe(1);
    expect(COST_CATEGORIES).toContain("tlb-miss");
  });

  it("idles forward without busy cycles, never backward", () => {
    const clock = new SimClock();
    clock.charge("kernel", 3000); // 1000 ns
    clock.idleUntil(4000);
    expect(clock.nowNs).toBe(4000);
    expect(clock.cycles).toBe(12_000);
    expect(clock.busyCycles).toBe(3000);
    expect(clock.utilization()).toBe(0.25);
    clock.idleUntil(10);
    expect(clock.nowNs).toBe(4000);
    clock.idleUntil(4000.4); // fractional ns lands exactly
    expect(clock.nowNs).toBe(4000.4);
    expect(() => clock.idleUntil(Number.NaN)).toThrow(RangeError);
  });

  it("rejects bad charges and resets", () => {
    const clock = new SimClock({ hz: 1e9 });
    expect(() => clock.charge("kernel", -1)).toThrow(RangeError);
    expect(() => clock.charge("kernel", Number.NaN)).toThrow(RangeError);
    expect(() => clock.charge("", 1)).toThrow(TypeError);
    expect(() => new SimClock({ hz: 0 })).toThrow(RangeError);
    clock.charge("kernel", 5);
    expect(clock.nowNs).toBe(5);
    clock.reset();
    expect(clock.cycles).toBe(0);
    expect(clock.nowNs).toBe(0);
    expect(clock.byCategory()).toEqual({});
    expect(clock.utilization()).toBe(0);
  });

  it("chargeAccesses charges only the growth of the MMU counters since the last call", () => {
    const costs = makeCostModel({ memoryAccess: 2, pageWalk: 30, mmioRead: 1000, mmioWrite: 50 });
    const clock = new SimClock({ costs });
    const mmu = { accesses: 10, mmioReads: 1, mmioWrites: 1, tlb: { stats: { misses: 3 } } };
    // 10 accesses of which 2 MMIO: 8 * 2 + 3 * 30 + 1000 + 50
    expect(clock.chargeAccesses(mmu, "driver")).toBe(16 + 90 + 1050);
    expect(clock.byCategory()).toEqual({ driver: 16, "tlb-miss": 90, mmio: 1050 });
    expect(clock.chargeAccesses(mmu, "driver")).toBe(0);
    mmu.accesses += 5;
    mmu.tlb.stats.misses += 1;
    expect(clock.chargeAccesses(mmu, "kernel")).toBe(10 + 30);
    expect(clock.categoryCycles("kernel")).toBe(10);
    expect(() => clock.chargeAccesses({} as never, "driver")).toThrow(TypeError);
  });

  it("chargeAccesses can count MMIO outside `accesses`", () => {
    const clock = new SimClock({ mmioInAccesses: false });
    const mmu = { accesses: 4, mmioReads: 1, mmioWrites: 0, tlb: { stats: { misses: 0 } } };
    expect(clock.chargeAccesses(mmu, "driver")).toBe(4 + 2550);
  });
});
