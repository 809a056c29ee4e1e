import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AddressSpace,
  CR4_PAE,
  CR4_PCIDE,
  CR4_PGE,
  CR4_SMEP,
  GeneralProtection,
  LARGE_PAGE_SIZE,
  Mmu,
  PAGE_SIZE,
  PageFault,
  type PageSize,
  TLB_WRITABLE,
  Tlb,
} from "../src/index.js";
import { machine } from "./helpers.js";

const PAGE_A = 0x1000;
/** First linear address of the kernel half. */
const HIGH_BASE = 2 ** 47;
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
  it("insertFromWalk caches what insert caches, in the same slots", () => {
    const a = new Tlb({ l1: { entries: 4, ways: 2 }, stlb: { entries: 8, ways: 2 } });
    const b = new Tlb({ l1: { entries: 4, ways: 2 }, stlb: { entries: 8, ways: 2 } });
    const pages = [0x1000, 0x3000, 0x5000, 0x7000, 0x9000, LARGE_PAGE_SIZE * 3, 0x3000];
    pages.forEach((va, i) => {
      const size: PageSize = va >= LARGE_PAGE_SIZE ? LARGE_PAGE_SIZE : PAGE_SIZE;
      a.insert(i & 1, va, size, size * (i + 1), TLB_WRITABLE, i === 2, i & 7);
      b.insertFromWalk(i & 1, va, size, size * (i + 1), TLB_WRITABLE, i === 2, i & 7);
    });
    for (const va of pages) for (const pcid of [0, 1]) expect(b.peek(va, pcid)).toEqual(a.peek(va, pcid));
    expect(b.occupancy).toEqual(a.occupancy);
    expect(b.peek(0x3000, 0)).toBeDefined();
  });

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

  it("keeps in the STLB, in LRU order, what the L1 evicts (default geometry)", () => {
    // 16 L1 sets of 4 ways, 128 STLB sets of 12: pages 16 apart share an L1 set, 128 apart an
    // STLB set. Until the L1 first evicts a present entry, the STLB arrays are not written
    // (shadow mode); the fill that evicts writes the L1's entries there first.
    const tlb = new Tlb();
    const page = (i: number) => HIGH_BASE + i * 128 * PAGE_SIZE;
    const pa = (i: number) => 0x100000 + i * PAGE_SIZE;
    for (let i = 0; i < 4; i++) tlb.insert(0, page(i), PAGE_SIZE, pa(i), 0, i === 1);
    expect(tlb.occupancy).toEqual({ l1: 4, stlb: 4 });
    expect(tlb.find(page(0), 0)).toBe(true); // page 0 is now the L1's most recent
    tlb.flushPcid(0, { keepGlobal: true }); // pages 0, 2, 3 go from both levels; page 1 stays
    expect(tlb.occupancy).toEqual({ l1: 1, stlb: 1 });
    for (let i = 4; i < 8; i++) tlb.insert(0, page(i), PAGE_SIZE, pa(i), 0, false);
    // The fourth of these fills found four present entries in the L1 set and evicted page 1,
    // the least recently used; the STLB, with 12 ways, kept every one.
    expect(tlb.occupancy).toEqual({ l1: 4, stlb: 5 });
    expect(tlb.peek(page(1), 0)?.pa).toBe(pa(1));
    expect(tlb.find(page(1), 0)).toBe(true); // an STLB hit, copied into the L1 (evicting page 4)
    expect(tlb.hitPa).toBe(pa(1));
    expect(tlb.peek(page(4), 0)?.pa).toBe(pa(4)); // from the STLB
    expect(tlb.stats).toMatchObject({ hits: 2, misses: 0 });
    // Ten more pages in the same STLB set: the STLB evicts its least recently used (page 4
    // was filled before 5, 6, 7; page 1's STLB hit made it the most recent there).
    for (let i = 8; i < 16; i++) tlb.insert(0, page(i), PAGE_SIZE, pa(i), 0, false);
    expect(tlb.occupancy).toEqual({ l1: 4, stlb: 12 });
    expect(tlb.peek(page(4), 0)).toBeUndefined();
    expect(tlb.peek(page(1), 0)?.pa).toBe(pa(1));
    // A flush of everything empties both levels; filling again works as from new.
    tlb.flushAll();
    expect(tlb.occupancy).toEqual({ l1: 0, stlb: 0 });
    tlb.insert(0, page(3), PAGE_SIZE, pa(3), 0, false);
    expect(tlb.occupancy).toEqual({ l1: 1, stlb: 1 });
    expect(tlb.peek(page(1), 0)).toBeUndefined();
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
    expect(m.mmu.tlb.misses).toBe(1);
    expect(m.mmu.accesses).toBe(10);
    m.mmu.resetCounters();
    expect(m.mmu.tlb.misses).toBe(0);
  });
});

/**
 * The TLB as it was before flushes became epoch thresholds: every flush clears the valid bit
 * of each entry it invalidates, at once. Same geometry, victim choice and LRU clock as Tlb.
 */
class EagerTlb {
  private readonly levels: EagerLevel[];
  private clock = 0;
  constructor(l1: [number, number], l2: [number, number]) {
    this.levels = [new EagerLevel(...l1), new EagerLevel(...l2)];
  }
  find(va: number, pcid: number): number | undefined {
    const [l1, l2] = this.levels;
    let a = l1;
    let k = l1.find(va, pcid);
    if (k < 0) {
      a = l2;
      k = l2.find(va, pcid);
      if (k >= 0) {
        const j = l1.victim(l2.page[k], l2.size[k], l2.pcid[k]);
        for (const key of ["valid", "pcid", "page", "size", "pa", "global"] as const) l1[key][j] = l2[key][k];
        l1.stamp[j] = ++this.clock;
        l2.stamp[k] = ++this.clock;
        a = l1;
        k = j;
      }
    }
    if (k < 0) return undefined;
    a.stamp[k] = ++this.clock;
    return a.pa[k];
  }
  peek(va: number, pcid: number): number | undefined {
    for (const a of this.levels) {
      const k = a.find(va, pcid);
      if (k >= 0) return a.pa[k];
    }
    return undefined;
  }
  insert(pcid: number, va: number, size: number, pa: number, global: boolean): void {
    for (const a of this.levels) {
      const k = a.victim(va, size, pcid);
      Object.assign(a.valid, { [k]: 1 });
      a.pcid[k] = pcid;
      a.page[k] = va;
      a.size[k] = size;
      a.pa[k] = pa;
      a.global[k] = global ? 1 : 0;
      a.stamp[k] = ++this.clock;
    }
  }
  /** Clears every valid entry `pred` selects (a flush or an invalidation). */
  drop(pred: (a: EagerLevel, k: number) => boolean): void {
    for (const a of this.levels)
      for (let k = 0; k < a.valid.length; k++) if (a.valid[k] && pred(a, k)) a.valid[k] = 0;
  }
  occupancy(): { l1: number; stlb: number } {
    const [l1, l2] = this.levels.map((a) => a.valid.reduce((n, v) => n + v, 0));
    return { l1, stlb: l2 };
  }
}

class EagerLevel {
  readonly sets: number;
  readonly valid: number[];
  readonly pcid: number[];
  readonly page: number[];
  readonly size: number[];
  readonly pa: number[];
  readonly global: number[];
  readonly stamp: number[];
  constructor(
    entries: number,
    readonly ways: number,
  ) {
    this.sets = entries / ways;
    const zeros = () => new Array<number>(entries).fill(0);
    this.valid = zeros();
    this.pcid = zeros();
    this.page = zeros();
    this.size = zeros();
    this.pa = zeros();
    this.global = zeros();
    this.stamp = zeros();
  }
  private first(page: number, size: number): number {
    return ((page / size) % this.sets) * this.ways;
  }
  find(va: number, pcid: number): number {
    for (const size of [PAGE_SIZE, LARGE_PAGE_SIZE]) {
      const page = va - (va % size);
      const first = this.first(page, size);
      for (let k = first; k < first + this.ways; k++) {
        if (
          this.valid[k] &&
          this.page[k] === page &&
          this.size[k] === size &&
          (this.pcid[k] === pcid || this.global[k])
        )
          return k;
      }
    }
    return -1;
  }
  victim(page: number, size: number, pcid: number): number {
    const first = this.first(page, size);
    for (let k = first; k < first + this.ways; k++)
      if (this.valid[k] && this.page[k] === page && this.size[k] === size && this.pcid[k] === pcid) return k;
    let best = first;
    for (let k = first; k < first + this.ways; k++) {
      if (!this.valid[k]) return k;
      if (this.stamp[k] < this.stamp[best]) best = k;
    }
    return best;
  }
}

describe("flushes by epoch (O(1) in host time) against eager clearing", () => {
  /** 4 KiB pages 0..7 and two 2 MiB pages; PCIDs 0..2 (4095 too, the last one). */
  const vaArb = fc.oneof(
    { weight: 4, arbitrary: fc.nat(7).map((p) => p * PAGE_SIZE) },
    { weight: 1, arbitrary: fc.nat(1).map((p) => LARGE_PAGE_SIZE * (4 + p)) },
    // 4 KiB pages of the kernel half: page numbers above 2^31, whose set comes from the low
    // 32 bits of the page number when the set count is a power of two.
    { weight: 2, arbitrary: fc.nat(7).map((p) => HIGH_BASE + p * PAGE_SIZE) },
  );
  const sizeOf = (va: number): PageSize =>
    va >= LARGE_PAGE_SIZE && va < HIGH_BASE ? LARGE_PAGE_SIZE : PAGE_SIZE;
  const pcidArb = fc.constantFrom(0, 1, 2, 1, 4095);
  const opArb = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant("insert" as const),
        va: vaArb,
        pcid: pcidArb,
        global: fc.boolean(),
        frame: fc.nat(7),
      }),
    },
    { weight: 8, arbitrary: fc.record({ t: fc.constant("find" as const), va: vaArb, pcid: pcidArb }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant("invlpg" as const), va: vaArb, pcid: pcidArb }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("invpcid0" as const), va: vaArb, pcid: pcidArb }) },
    {
      weight: 2,
      arbitrary: fc.record({ t: fc.constant("flushPcid" as const), pcid: pcidArb, keepGlobal: fc.boolean() }),
    },
    { weight: 2, arbitrary: fc.record({ t: fc.constant("flushAll" as const), keepGlobal: fc.boolean() }) },
  );

  // Power-of-two set counts (sets found by a mask) and others (found by division); the last
  // two geometries do not allow the STLB's shadow mode (an L1 set count that does not divide
  // the STLB's, more L1 ways than STLB ways).
  it.each([
    [
      [4, 2],
      [8, 2],
    ],
    [
      [6, 2],
      [12, 4],
    ],
    [
      [8, 2],
      [12, 2],
    ],
    [
      [8, 4],
      [12, 2],
    ],
  ] as [number, number][][])(
    "answers every lookup, fills the same slots and evicts the same entries as eager clearing, L1 %j STLB %j (fast-check)",
    (l1, l2) => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
          const tlb = new Tlb({ l1: { entries: l1[0], ways: l1[1] }, stlb: { entries: l2[0], ways: l2[1] } });
          const ref = new EagerTlb([l1[0], l1[1]], [l2[0], l2[1]]);
          let flushes = 0;
          let invalidations = 0;
          for (const o of ops) {
            if (o.t === "insert") {
              const size = sizeOf(o.va);
              const pa = size * (o.frame + 1);
              tlb.insert(o.pcid, o.va, size, pa, 0, o.global);
              ref.insert(o.pcid, o.va, size, pa, o.global);
            } else if (o.t === "find") {
              const want = ref.find(o.va, o.pcid);
              expect(tlb.find(o.va, o.pcid) ? tlb.hitPa : undefined).toBe(want);
            } else if (o.t === "invlpg" || o.t === "invpcid0") {
              const globalToo = o.t === "invlpg";
              if (globalToo) tlb.invalidatePage(o.va, o.pcid);
              else tlb.invalidatePageNonGlobal(o.va, o.pcid);
              invalidations++;
              ref.drop(
                (a, k) =>
                  a.page[k] === o.va - (o.va % a.size[k]) && (a.global[k] ? globalToo : a.pcid[k] === o.pcid),
              );
            } else if (o.t === "flushPcid") {
              tlb.flushPcid(o.pcid, { keepGlobal: o.keepGlobal });
              flushes++;
              ref.drop((a, k) => a.pcid[k] === o.pcid && !(o.keepGlobal && a.global[k]));
            } else {
              tlb.flushAll({ keepGlobal: o.keepGlobal });
              flushes++;
              ref.drop((a, k) => !(o.keepGlobal && a.global[k]));
            }
            expect(tlb.occupancy).toEqual(ref.occupancy());
          }
          for (const va of [
            0,
            5 * PAGE_SIZE,
            7 * PAGE_SIZE,
            4 * LARGE_PAGE_SIZE,
            5 * LARGE_PAGE_SIZE,
            HIGH_BASE + 3 * PAGE_SIZE,
          ])
            for (const pcid of [0, 1, 2, 4095]) expect(tlb.peek(va, pcid)?.pa).toBe(ref.peek(va, pcid));
          expect(tlb.stats).toMatchObject({ flushes, invalidations });
        }),
        { numRuns: 300 },
      );
    },
  );

  /** Four cached entries, one per kind, each on its own page (same sets) and looked up under its own PCID. */
  const KINDS = [
    { pcid: 1, global: true },
    { pcid: 2, global: true },
    { pcid: 1, global: false },
    { pcid: 2, global: false },
  ];
  const kindVa = (i: number) => PAGE_A + i * 2 ** 30;
  const flushCases: [string, (t: Tlb) => void, boolean[]][] = [
    [
      "flushPcid(1, { keepGlobal: true })",
      (t) => t.flushPcid(1, { keepGlobal: true }),
      [true, true, false, true],
    ],
    ["flushPcid(1)", (t) => t.flushPcid(1), [false, true, false, true]],
    ["flushAll({ keepGlobal: true })", (t) => t.flushAll({ keepGlobal: true }), [true, true, false, false]],
    ["flushAll()", (t) => t.flushAll(), [false, false, false, false]],
    ["flushPcid(3)", (t) => t.flushPcid(3), [true, true, true, true]],
  ];
  it.each(flushCases)(
    "%s invalidates exactly the entries it should, and only those filled before it",
    (_, flush, survives) => {
      const tlb = new Tlb();
      const fill = (pa: number) => {
        for (const [i, k] of KINDS.entries()) tlb.insert(k.pcid, kindVa(i), PAGE_SIZE, pa, 0, k.global);
      };
      const present = () => KINDS.map((k, i) => tlb.peek(kindVa(i), k.pcid)?.pa);
      fill(0x5000);
      expect(present()).toEqual([0x5000, 0x5000, 0x5000, 0x5000]);
      flush(tlb);
      expect(present()).toEqual(survives.map((s) => (s ? 0x5000 : undefined)));
      expect(KINDS.map((k, i) => tlb.find(kindVa(i), k.pcid))).toEqual(survives);
      expect(tlb.occupancy.l1).toBe(survives.filter((s) => s).length);
      // Entries filled after the flush are present at once; a refill replaces a survivor in place.
      fill(0x6000);
      expect(present()).toEqual([0x6000, 0x6000, 0x6000, 0x6000]);
      expect(tlb.occupancy).toEqual({ l1: 4, stlb: 4 });
      // ... and a second flush of the same kind invalidates the refills exactly as the first did.
      flush(tlb);
      expect(present()).toEqual(survives.map((s) => (s ? 0x6000 : undefined)));
    },
  );

  it("never lets an entry filled before a flush hit after it, whatever fills and flushes come later", () => {
    const tlb = new Tlb({ l1: { entries: 4, ways: 4 }, stlb: null });
    tlb.insert(1, PAGE_A, PAGE_SIZE, 0x5000, 0, false);
    tlb.flushPcid(1, { keepGlobal: true });
    // Other PCIDs' flushes and fills (which advance the epoch) do not revive it.
    tlb.insert(2, PAGE_B, PAGE_SIZE, 0x6000, 0, false);
    tlb.flushPcid(2, { keepGlobal: true });
    tlb.flushAll({ keepGlobal: true });
    tlb.insert(1, PAGE_B, PAGE_SIZE, 0x7000, 0, false);
    expect(tlb.find(PAGE_A, 1)).toBe(false);
    expect(tlb.find(PAGE_B, 1) && tlb.hitPa).toBe(0x7000);
    // Its slot counts as free: three more PCID-1 entries fit the 4-way set without evicting B.
    for (let i = 1; i <= 3; i++) tlb.insert(1, PAGE_B + i * 4 * PAGE_SIZE, PAGE_SIZE, 0x8000, 0, false);
    expect(tlb.find(PAGE_B, 1)).toBe(true);
    expect(tlb.occupancy.l1).toBe(4);
    // A global entry flushed with its own PCID (flushPcid without keepGlobal) stays gone for every PCID.
    tlb.insert(3, PAGE_A, PAGE_SIZE, 0x9000, 0, true);
    tlb.flushPcid(3);
    for (const p of [0, 1, 3, 4095]) expect(tlb.peek(PAGE_A, p)).toBeUndefined();
  });

  it("keeps an entry's fill epoch when an STLB hit copies it into the L1", () => {
    // L1: 2 sets of 2 ways; pages 0x0, 0x2000, 0x4000 share L1 set 0.
    const tlb = new Tlb({ l1: { entries: 4, ways: 2 }, stlb: { entries: 64, ways: 4 } });
    tlb.insert(0, 0x0, PAGE_SIZE, 0x10000, 0, true); // global G, filled in epoch 0
    tlb.flushAll({ keepGlobal: true }); // G survives; non-global entries of epoch 0 are gone
    tlb.insert(1, 0x2000, PAGE_SIZE, 0x20000, 0, false); // X
    tlb.find(0x0, 1); // G is now more recently used than X
    tlb.insert(1, 0x4000, PAGE_SIZE, 0x30000, 0, false); // evicts X from the L1 only
    tlb.invalidatePage(0x0, 1); // G's L1 slot becomes free, still marked with epoch 0
    expect(tlb.occupancy).toEqual({ l1: 1, stlb: 2 });
    // X comes back from the STLB into G's old slot and must be present there (not "flushed").
    expect(tlb.find(0x2000, 1) && tlb.hitPa).toBe(0x20000);
    expect(tlb.occupancy).toEqual({ l1: 2, stlb: 2 });
  });

  it("returns one stats object, refreshed on each read, and resets it", () => {
    const m = machine();
    m.space.map(PAGE_A, 0x10000, PAGE_SIZE);
    const stats = m.mmu.tlb.stats;
    for (let i = 0; i < 5; i++) m.mmu.load32(PAGE_A + 4 * i);
    m.mmu.writeCr3(m.space.root);
    expect(m.mmu.tlb.stats).toBe(stats);
    expect(stats).toEqual({ hits: 4, misses: 1, walks: 1, flushes: 2, invalidations: 0 });
    m.mmu.invpcid(2, 0);
    m.mmu.invlpg(PAGE_A);
    expect(m.mmu.tlb.stats).toEqual({ hits: 4, misses: 1, walks: 1, flushes: 3, invalidations: 1 });
    m.mmu.resetCounters();
    expect(m.mmu.tlb.stats).toEqual({ hits: 0, misses: 0, walks: 0, flushes: 0, invalidations: 0 });
    m.mmu.load32(PAGE_A);
    m.mmu.load32(PAGE_A);
    expect(m.mmu.tlb.stats).toMatchObject({ hits: 1, misses: 1, walks: 1 });
  });
});

describe("refills into a vacant set (Tlb.vacant, fillVacant)", () => {
  /** The same TLB with the shortcut off: every walk's fill goes through `insertFromWalk`. */
  class PlainTlb extends Tlb {
    override find(va: number, pcid: number): boolean {
      const hit = super.find(va, pcid);
      this.vacant = -1;
      return hit;
    }
  }
  /**
   * 4 KiB pages (user and kernel, some global) over both sets of the small L1, and one 2 MiB
   * page: set 0 holds no global 4 KiB page, so it is often vacant after a flush, also once the
   * L1 has evicted a present entry (the STLB out of shadow mode).
   */
  const PAGES = [0x1000, 0x2000, 0x4000, 0x7000, HIGH_BASE + 0x2000, HIGH_BASE + 0x5000, 0x60_0000];
  const GEOMETRIES = [
    { l1: { entries: 4, ways: 2 }, stlb: { entries: 8, ways: 2 } },
    { l1: { entries: 4, ways: 2 }, stlb: null },
    {},
  ];
  const op = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        t: fc.constant("access" as const),
        page: fc.nat(PAGES.length - 1),
        write: fc.boolean(),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant("cr3" as const),
        s: fc.nat(1),
        pcid: fc.nat(2),
        noFlush: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ t: fc.constant("invlpg" as const), page: fc.nat(PAGES.length - 1) }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("cpl" as const), cpl: fc.constantFrom(0, 3) }) },
    // another CPU walks a page: its A bits get set without a fill of this TLB
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant("other" as const),
        s: fc.nat(1),
        page: fc.nat(PAGES.length - 1),
      }),
    },
  );

  /** One machine: two address spaces mapping PAGES to different frames, CR4.PGE and PCIDE as given. */
  function rig(tlb: Tlb, pcide: boolean) {
    const m = machine();
    const mmu = new Mmu(m.memory, { tlb });
    const spaces = [m.space, new AddressSpace(m.memory, m.frames)];
    const data = m.frames.allocContiguous(2 * PAGES.length);
    for (const [s, sp] of spaces.entries()) {
      for (const [i, va] of PAGES.entries()) {
        const flags = { user: va < HIGH_BASE, writable: true, global: i % 3 === 0 };
        // the 2 MiB page in the top quarter of the 16 MiB, clear of the allocator's frames
        if (i === PAGES.length - 1) sp.map(va, 12 * 2 ** 20 + s * LARGE_PAGE_SIZE, LARGE_PAGE_SIZE, flags);
        else sp.map(va, data + (PAGES.length * s + i) * PAGE_SIZE, PAGE_SIZE, flags);
      }
    }
    mmu.writeCr4(CR4_PAE | CR4_PGE | (pcide ? CR4_PCIDE : 0));
    mmu.writeCr3(spaces[0].root);
    return { mmu, spaces, pcide, other: new Mmu(m.memory) };
  }
  type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;
  function step(r: ReturnType<typeof rig>, o: Op): string {
    const { mmu } = r;
    try {
      if (o.t === "access") {
        const va = PAGES[o.page] + 8;
        if (o.write) mmu.store32(va, 0x1234);
        return `value ${mmu.load32(va)}`;
      }
      if (o.t === "cr3") mmu.writeCr3(r.spaces[o.s].root | (r.pcide ? o.pcid : 0), r.pcide && o.noFlush);
      else if (o.t === "invlpg") mmu.invlpg(PAGES[o.page]);
      else if (o.t === "other") {
        r.other.writeCr3(r.spaces[o.s].root);
        r.other.load32(PAGES[o.page]);
      } else mmu.cpl = o.cpl;
      return "ok";
    } catch (e) {
      if (e instanceof PageFault) return `fault ${e.errorCode}`;
      throw e;
    }
  }
  /** Everything the TLB shows: every page's entry under every PCID, the occupancy, the counters. */
  const snapshot = (tlb: Tlb) => ({
    entries: PAGES.flatMap((va) => [0, 1, 2].map((pcid) => tlb.peek(va, pcid) ?? null)),
    occupancy: tlb.occupancy,
    stats: { ...tlb.stats },
  });

  it("leaves the TLB as the general refill does, op by op", () => {
    fc.assert(
      fc.property(
        fc.nat(GEOMETRIES.length - 1),
        fc.boolean(),
        fc.array(op, { minLength: 20, maxLength: 150 }),
        (g, pcide, ops) => {
          const fast = rig(new Tlb(GEOMETRIES[g]), pcide);
          const plain = rig(new PlainTlb(GEOMETRIES[g]), pcide);
          ops.forEach((o, i) => {
            expect(step(fast, o), `op ${i}`).toBe(step(plain, o));
            expect(snapshot(fast.mmu.tlb), `TLB after op ${i}`).toEqual(snapshot(plain.mmu.tlb));
          });
        },
      ),
      { numRuns: 200 },
    );
  }, 30_000);

  it("keeps another PCID's entry that a vacant-set fill must not take", () => {
    // PCID 1 fills page 0x2000's set through the shortcut; PCID 2 is flushed, then fills page
    // 0x4000 (same L1 set): the set is not vacant for PCID 2, since PCID 1's entry is live.
    for (const tlb of [new Tlb(GEOMETRIES[0]), new PlainTlb(GEOMETRIES[0])]) {
      const r = rig(tlb, true);
      // another CPU's walks set the A bits, so that this TLB's first fills take the shortcut
      step(r, { t: "other", s: 0, page: 1 });
      step(r, { t: "other", s: 1, page: 2 });
      r.mmu.writeCr3(r.spaces[0].root | 1);
      r.mmu.load32(0x2000);
      r.mmu.writeCr3(r.spaces[1].root | 2);
      r.mmu.load32(0x4000);
      r.mmu.writeCr3(r.spaces[0].root | 1, true);
      const misses = tlb.stats.misses;
      r.mmu.load32(0x2008);
      expect(tlb.stats.misses, tlb.constructor.name).toBe(misses);
      expect(tlb.peek(0x2000, 1)).toBeDefined();
    }
  });

  it("takes the shortcut after a flush", () => {
    const r = rig(new Tlb(), false);
    step(r, { t: "access", page: 1, write: false });
    r.mmu.writeCr3(r.spaces[1].root);
    r.mmu.tlb.find(PAGES[1], 0);
    expect(r.mmu.tlb.vacant).toBeGreaterThanOrEqual(0);
  });
});
