import { describe, expect, it } from "vitest";
import { copyCycles, DEFAULT_COSTS, MMIO_READ_NS, makeCostModel } from "../src/index.js";

describe("cost model", () => {
  it("has the hardware.md section 2 figures as defaults at 3 GHz", () => {
    expect(DEFAULT_COSTS.hz).toBe(3e9);
    expect(DEFAULT_COSTS.tlbHit).toBe(0);
    expect(DEFAULT_COSTS.pageWalk).toBe(30);
    expect(DEFAULT_COSTS.exceptionEntry).toBe(440);
    expect(DEFAULT_COSTS.iret).toBe(270);
    expect(DEFAULT_COSTS.cr3Write).toBeLessThan(DEFAULT_COSTS.cr3WriteFlush);
    expect(DEFAULT_COSTS.mmioRead).toBe(MMIO_READ_NS * 3);
    expect(Object.isFrozen(DEFAULT_COSTS)).toBe(true);
  });

  it("makeCostModel overrides fields and rescales the MMIO read with the clock rate", () => {
    const c = makeCostModel({ syscall: 5, hz: 2e9 });
    expect(c.syscall).toBe(5);
    expect(c.mmioRead).toBe(MMIO_READ_NS * 2);
    expect(makeCostModel({ hz: 2e9, mmioRead: 7 }).mmioRead).toBe(7);
    expect(c.iret).toBe(DEFAULT_COSTS.iret);
  });

  it("rejects unknown keys and bad values", () => {
    expect(() => makeCostModel({ sycall: 1 } as never)).toThrow(/unknown cost "sycall"/);
    expect(() => makeCostModel({ iret: -1 })).toThrow(RangeError);
    expect(() => makeCostModel({ hz: 0 })).toThrow(RangeError);
    expect(() => makeCostModel({ copyBytesPerCycle: 0 })).toThrow(RangeError);
  });

  it("copyCycles rounds up bytes over bandwidth", () => {
    expect(copyCycles(DEFAULT_COSTS, 1514)).toBe(Math.ceil(1514 / 4));
    expect(copyCycles(DEFAULT_COSTS, 0)).toBe(0);
  });
});
