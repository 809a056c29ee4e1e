import { SimClock } from "@side-kernel/privilege";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Kernel, Machine, PAGE_OFFSET } from "../src/index.js";

const CATEGORIES = ["driver", "kernel", "user", "tlb-miss", "mmio"];

describe("Machine clock", () => {
  it("charges the machine's MMU accesses exactly as SimClock.chargeAccesses does", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 40 }),
            fc.integer({ min: 1, max: 64 }),
            fc.constantFrom("driver", "kernel", "user"),
          ),
          { maxLength: 40 },
        ),
        (steps) => {
          const m = new Machine({ peer: "none" });
          const kernel = Kernel.boot(m);
          const reference = new SimClock({ costs: m.clock.costs });
          // bring both snapshots to the counters' current values
          m.chargeAccesses("kernel");
          reference.chargeAccesses(m.mmu, "sync");
          const a0 = m.clock.byCategory();
          const r0 = reference.byCategory();
          for (const [n, stride, category] of steps) {
            // n loads spread over the direct map with 2 MiB pages: hits and TLB misses
            for (let i = 0; i < n; i++)
              m.mmu.load32(PAGE_OFFSET + ((i * stride * 0x10_1000) % (128 * 1024 * 1024)));
            expect(m.chargeAccesses(category)).toBe(reference.chargeAccesses(m.mmu, category));
          }
          const a1 = m.clock.byCategory();
          const r1 = reference.byCategory();
          for (const cat of CATEGORIES)
            expect((a1[cat] ?? 0) - (a0[cat] ?? 0)).toBe((r1[cat] ?? 0) - (r0[cat] ?? 0));
          expect(m.chargeAccesses("kernel")).toBe(0);
          expect(() => m.chargeAccesses("")).toThrow(TypeError);
          kernel.shutdown();
        },
      ),
      { numRuns: 15 },
    );
  });

  it("chargeAccessesTo (a category handle) charges exactly as chargeAccesses (a name) does", () => {
    const byName = new Machine({ peer: "none" });
    const byHandle = new Machine({ peer: "none" });
    const kernels = [Kernel.boot(byName), Kernel.boot(byHandle)];
    const handles = new Map(CATEGORIES.map((c) => [c, byHandle.clock.category(c)]));
    for (let step = 0; step < 60; step++) {
      const category = CATEGORIES[(step * 7) % CATEGORIES.length];
      for (const m of [byName, byHandle]) {
        for (let i = 0; i < step % 9; i++)
          m.mmu.load32(PAGE_OFFSET + ((i * step * 0x10_1000) % (64 * 1024 * 1024)));
      }
      expect(byHandle.chargeAccessesTo(handles.get(category)!)).toBe(byName.chargeAccesses(category));
    }
    expect(Object.entries(byHandle.clock.byCategory())).toEqual(Object.entries(byName.clock.byCategory()));
    expect(byHandle.clock.nowNs).toBe(byName.clock.nowNs);
    expect(() => byHandle.chargeAccessesTo(byName.clock.category("driver"))).toThrow(RangeError);
    for (const k of kernels) k.shutdown();
  });

  it("counts misses: loads over many 2 MiB pages charge page walks to tlb-miss", () => {
    const m = new Machine({ peer: "none" });
    const kernel = Kernel.boot(m);
    m.chargeAccesses("kernel");
    const before = m.clock.categoryCycles("tlb-miss");
    for (let i = 0; i < 100; i++) m.mmu.load32(PAGE_OFFSET + i * 2 * 1024 * 1024);
    expect(m.chargeAccesses("kernel")).toBeGreaterThan(100 * m.clock.costs.memoryAccess);
    expect(m.clock.categoryCycles("tlb-miss")).toBeGreaterThan(before);
    kernel.shutdown();
  });
});
