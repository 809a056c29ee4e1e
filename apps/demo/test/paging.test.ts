import { describe, expect, it } from "vitest";
import { runPagingScenario } from "../src/commands/paging.js";

describe("demo paging command", () => {
  it("every access ends as the row expects", () => {
    const { outcomes, stats } = runPagingScenario();
    for (const o of outcomes) {
      if (o.expected === "ok") expect(o.result, o.what).toMatch(/^ok -> 0x/);
      else expect(o.result, o.what).toContain(o.expected);
    }
    expect(stats.walks).toBeGreaterThan(0);
  });
});
