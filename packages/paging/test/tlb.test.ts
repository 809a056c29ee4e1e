import { describe, expect, it } from "vitest";
import {
  CR4_PAE,
  CR4_PCIDE,
  CR4_PGE,
  CR4_SMEP,
  GeneralProtection,
  PAGE_SIZE,
  TLB_WRITABLE,
  Tlb,
} from "../src/index.js";
import { machine } from "./helpers.js";

const PAGE_A = 0x1000;
const PAGE_B = 0x2000;

/** A machine with PCIDs and global pages on, one global page and one non-global page mapped. */
function pcidMachine() {
  const m = machine();
  m.space.map(PAGE_A, 0x10000, PAGE_SIZE, { global: true });
  m.space.map(PAGE_B, 0x11000, PAGE_SIZE);
  m.mmu.writeCr4(CR4_PAE | CR4_PGE | CR4_PCIDE);
  m.mmu.writeCr3(m.space.root | 1);
  m.mmu.load32(PAGE_A);
  m.mmu.load32(PAGE_B);
  return m;
}

const cached = (m: ReturnType<typeof machine>, va: number, pcid: number) =>
  m.mmu.tlb.peek(va, pcid) !== undefined;

describe("Tlb structure", () => {
  it("caches entries by (PCID, page, size), with LRU replacement per set", () => {
    const tlb = new Tlb({ l1: { entries: 4, ways: 2 }, stlb: null });
    tlb.insert(1, 0x1000, PAGE_SIZE, 0x5000, TLB_WRITABLE, false);
    expect(tlb.find(0x1abc, 1)).toBe(true);
    expect(tlb.hitPa).toBe(0x5000);
    expect(tlb.find(0x1abc, 2)).toBe(false);
    // Pages 0x1000, 0x3000, 0x5000 map to set 1 of 2; the least recently used one goes.
    tlb.insert(1, 0x3000, PAGE_SIZE, 0x6000, 0, false);
    tlb.find(0x1000, 1);
    tlb.insert(1, 0x5000, PAGE_SIZE, 0x7000, 0, false);
    expect(tlb.peek(0x3000, 1)).toBeUndefined();
    expect(tlb.peek(0x1000, 1)?.pa).toBe(0x5000);
    expect(tlb.stats).toMatchObject({ hits: 2, misses: 1 });
    expect(() => new Tlb({ l1: { entries: 10, ways: 4 } })).toThrow(RangeError);
    expect(() => tlb.insert(1, 0x1001, PAGE_SIZE, 0, 0, false)).toThrow(RangeError);
  });
});

describe("invalidation rules of hardware.md 1.7", () => {
  it("INVLPG drops the page for the current PCID and global entries of any PCID, nothing else", () => {
    const m = pcidMachine();
    m.mmu.writeCr3(m.space.root | 2, true);
    m.mmu.load32(PAGE_B);
    m.mmu.writeCr3(m.space.root | 1, true);
    m.mmu.invlpg(PAGE_B);
    expect(cached(m, PAGE_B, 1)).toBe(false);
    expect(cached(m, PAGE_B, 2)).toBe(true);
    m.mmu.writeCr3(m.space.root | 2, true);
    m.mmu.invlpg(PAGE_A);
    expect(cached(m, PAGE_A, 1)).toBe(false);
    expect(() => m.mmu.invlpg(2 ** 48)).toThrow(GeneralProtection);
  });

  it("MOV CR3 with PCIDE=0 drops non-global entries, keeps global ones", () => {
    const m = machine();
    m.space.map(PAGE_A, 0x10000, PAGE_SIZE, { global: true });
    m.space.map(PAGE_B, 0x11000, PAGE_SIZE);
    m.mmu.writeCr4(CR4_PAE | CR4_PGE);
    m.mmu.load32(PAGE_A);
    m.mmu.load32(PAGE_B);
    m.mmu.writeCr3(m.space.root);
    expect(cached(m, PAGE_A, 0)).toBe(true);
    expect(cached(m, PAGE_B, 0)).toBe(false);
    expect(() => m.mmu.writeCr3(m.space.root, true)).toThrow(/PCIDE=0/);
  });

  it("G without CR4.PGE is not global", () => {
    const m = machine();
    m.space.map(PAGE_A, 0x10000, PAGE_SIZE, { global: true });
    m.mmu.load32(PAGE_A);
    m.mmu.writeCr3(m.space.root);
    expect(cached(m, PAGE_A, 0)).toBe(false);
  });

  it("MOV CR3 with PCIDE=1 flushes the new PCID's non-global entries unless no-flush", () => {
    const m = pcidMachine();
    m.mmu.writeCr3(m.space.root | 2, true);
    expect(cached(m, PAGE_B, 1)).toBe(true);
    m.mmu.writeCr3(m.space.root | 1, true);
    expect(cached(m, PAGE_B, 1)).toBe(true);
    m.mmu.writeCr3(m.space.root | 1);
    expect(cached(m, PAGE_B, 1)).toBe(false);
    expect(cached(m, PAGE_A, 7)).toBe(true);
  });

  it("a CR4.PGE change flushes everything including globals; PCIDE 1->0 too", () => {
    const m = pcidMachine();
    m.mmu.writeCr4(CR4_PAE | CR4_PCIDE);
    expect(cached(m, PAGE_A, 1)).toBe(false);
    const n = pcidMachine();
    n.mmu.writeCr3(n.space.root, true);
    n.mmu.writeCr4(CR4_PAE | CR4_PGE);
    expect(cached(n, PAGE_A, 1)).toBe(false);
    expect(cached(n, PAGE_B, 1)).toBe(false);
  });

  it("SMEP 0->1 flushes the current PCID only", () => {
    const m = pcidMachine();
    m.mmu.writeCr3(m.space.root | 2, true);
    m.mmu.load32(PAGE_B);
    m.mmu.writeCr4(CR4_PAE | CR4_PGE | CR4_PCIDE | CR4_SMEP);
    expect(cached(m, PAGE_B, 2)).toBe(false);
    expect(cached(m, PAGE_B, 1)).toBe(true);
  });

  it("INVPCID types 0..3", () => {
    const m = pcidMachine();
    m.mmu.invpcid(0, 1, PAGE_A);
    expect(cached(m, PAGE_A, 1)).toBe(true);
    m.mmu.invpcid(0, 1, PAGE_B);
    expect(cached(m, PAGE_B, 1)).toBe(false);
    m.mmu.load32(PAGE_B);
    m.mmu.invpcid(1, 1);
    expect([cached(m, PAGE_A, 1), cached(m, PAGE_B, 1)]).toEqual([true, false]);
    m.mmu.load32(PAGE_B);
    m.mmu.invpcid(3, 0);
    expect([cached(m, PAGE_A, 1), cached(m, PAGE_B, 1)]).toEqual([true, false]);
    m.mmu.invpcid(2, 0);
    expect(cached(m, PAGE_A, 1)).toBe(false);
    expect(() => m.mmu.invpcid(4, 0)).toThrow(GeneralProtection);
    expect(() => m.mmu.invpcid(1, 4096)).toThrow(GeneralProtection);
    const n = machine();
    expect(() => n.mmu.invpcid(1, 5)).toThrow(/PCIDE=0/);
  });

  it("counts hits, misses, walks, flushes and invalidations, fast path included", () => {
    const m = machine();
    m.space.map(PAGE_A, 0x10000, PAGE_SIZE);
    m.mmu.resetCounters();
    for (let i = 0; i < 10; i++) m.mmu.load32(PAGE_A + 4 * i);
    m.mmu.invlpg(PAGE_A);
    m.mmu.tlb.flushAll();
    expect(m.mmu.tlb.stats).toEqual({ hits: 9, misses: 1, walks: 1, flushes: 1, invalidations: 1 });
    expect(m.mmu.accesses).toBe(10);
  });
});
