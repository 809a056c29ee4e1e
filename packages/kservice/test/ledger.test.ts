import { describe, expect, it } from "vitest";
import { Ledger } from "../src/index.js";

describe("Ledger", () => {
  it("records, finds and releases resources by kind", () => {
    const l = new Ledger();
    expect(l.acquire("heap", 0x1000, "kmalloc", 64)).toBe(true);
    expect(l.acquire("irq", 11, "request_irq")).toBe(true);
    expect(l.has("heap", 0x1000)).toBe(true);
    expect(l.has("vmem", 0x1000)).toBe(false);
    expect(l.count()).toBe(2);
    expect(l.summary()).toEqual({ heap: 1, irq: 1 });
    expect(l.release("heap", 0x1000)?.detail).toBe(64);
    expect(l.release("heap", 0x1000)).toBeUndefined();
    expect(l.entries().map((e) => e.kind)).toEqual(["irq"]);
  });

  it("treats re-acquiring a held resource as the same resource", () => {
    const l = new Ledger();
    l.acquire("timer", 0x2000, "mod_timer");
    expect(l.acquire("timer", 0x2000, "mod_timer")).toBe(false);
    expect(l.count("timer")).toBe(1);
    l.clear();
    expect(l.count()).toBe(0);
  });
});
