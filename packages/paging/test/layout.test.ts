import { describe, expect, it } from "vitest";
import { formatLinear, isLinearAddress, tableIndex } from "../src/index.js";

describe("layout", () => {
  it("formats linear addresses in canonical form", () => {
    expect(formatLinear(0x8000_0000_1000)).toBe("0xffff800000001000");
    expect(formatLinear(0x1000)).toBe("0x0000000000001000");
    expect(formatLinear(2 ** 48)).toMatch(/non-canonical/);
  });
  it("splits addresses into table indices", () => {
    const va = 0x8000_0000_0000 + 3 * 2 ** 30 + 5 * 2 ** 21 + 7 * 4096;
    expect([0, 1, 2, 3].map((l) => tableIndex(va, l))).toEqual([256, 3, 5, 7]);
    expect(isLinearAddress(-1)).toBe(false);
  });
});
