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

  it("behaves as a Map per kind over many 48-bit keys, odd keys and churn, in acquisition order", () => {
    const l = new Ledger();
    const model = new Map<number, { service: string; detail: number }>();
    let seed = 12345;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const odd = [-1, 0.5, Number.NaN, 2 ** 53, -(2 ** 40)];
    for (let step = 0; step < 20000; step++) {
      const r = rnd();
      const key = r % 50 === 0 ? odd[r % odd.length] : 0xffff_8000_0000_0000 / 2 ** 16 + (rnd() % 3000) * 64;
      if (r % 7 === 0) {
        expect(l.drop("skb", key)).toBe(model.has(key));
        model.delete(key);
      } else if (r % 3 === 0) {
        const e = l.release("skb", key);
        const m = model.get(key);
        expect(e?.detail).toBe(m?.detail);
        if (m !== undefined) expect(e).toEqual({ kind: "skb", key, service: m.service, detail: m.detail });
        model.delete(key);
      } else {
        const added = l.acquire("skb", key, `s${step}`, step);
        expect(added).toBe(!model.has(key));
        if (added) model.set(key, { service: `s${step}`, detail: step });
      }
      expect(l.has("skb", key)).toBe(model.has(key));
    }
    expect(l.count("skb")).toBe(model.size);
    expect(l.has("heap", [...model.keys()][0])).toBe(false);
    const got = l.entries("skb").map((e) => [e.key, e.service, e.detail]);
    expect(got).toEqual([...model].map(([k, v]) => [k, v.service, v.detail]));
    for (const [k, v] of model) expect(l.get("skb", k)?.service).toBe(v.service);
  });

  it("lists odd keys (negative, fractional) and table keys interleaved in acquisition order", () => {
    const l = new Ledger();
    l.acquire("dma-map", -1, "a", 1);
    l.acquire("dma-map", 0x1000, "b", 2);
    l.acquire("dma-map", 0.5, "c", 3);
    l.acquire("dma-map", -2, "d", 4);
    l.acquire("dma-map", 0x2000, "e", 5);
    l.drop("dma-map", 0x1000);
    l.acquire("dma-map", 0x1000, "f", 6);
    expect(l.entries("dma-map").map((e) => [e.key, e.service, e.detail])).toEqual([
      [-1, "a", 1],
      [0.5, "c", 3],
      [-2, "d", 4],
      [0x2000, "e", 5],
      [0x1000, "f", 6],
    ]);
    expect(l.release("dma-map", 0.5)).toEqual({ kind: "dma-map", key: 0.5, service: "c", detail: 3 });
    expect(l.get("dma-map", 0x2000)).toEqual({ kind: "dma-map", key: 0x2000, service: "e", detail: 5 });
  });

  it("rejects a kind that is not a resource kind", () => {
    expect(() => new Ledger().acquire("nope" as never, 1, "x")).toThrow(/not a resource kind/);
  });
});
