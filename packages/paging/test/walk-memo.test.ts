import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AddressSpace,
  FrameAllocator,
  Mmu,
  PAGE_SIZE,
  PhysicalMemory,
  PTE_A,
  PTE_D,
  PTE_P,
  PTE_RW,
  PTE_US,
  readEntry,
  tableIndex,
  writeEntry,
} from "../src/index.js";
import { KERNEL } from "./helpers.js";

const MEMORY = 1024 * 1024;
const PAGES = [0x1000, 0x2000, 0x40_0000, KERNEL + 0x1000];
const SPACES = 2;
const DATA_FRAMES = 6;
/** Bits a raw table write may toggle: P, R/W, U/S, A, D. */
const BITS = [PTE_P, PTE_RW, PTE_US, PTE_A, PTE_D];

/** One machine: memory, two spaces, data frames, and an Mmu with or without the walk memo. */
function build(walkMemo: boolean) {
  const memory = new PhysicalMemory(MEMORY);
  const frames = new FrameAllocator(memory);
  const spaces = Array.from({ length: SPACES }, () => new AddressSpace(memory, frames));
  const data = Array.from({ length: DATA_FRAMES }, () => frames.alloc());
  spaces.forEach((space, i) => {
    PAGES.forEach((va, k) => {
      space.map(va, data[(i + k) % DATA_FRAMES], PAGE_SIZE, { writable: true, user: true });
    });
  });
  const mmu = new Mmu(memory, { walkMemo });
  mmu.writeCr3(spaces[0].root);
  return { memory, frames, spaces, data, mmu };
}
type Machine = ReturnType<typeof build>;

/** Physical address of the table at `level` (0 = PML4) on `va`'s path in `space`, or undefined. */
function tableOf(m: Machine, space: AddressSpace, va: number, level: number): number | undefined {
  let table = space.root;
  for (let l = 0; l < level; l++) {
    const e = readEntry(m.memory, table, tableIndex(va, l));
    if ((e.lo & PTE_P) === 0 || (e.lo & 0x80) !== 0) return undefined;
    const next = (e.hi & 0xfffff) * 2 ** 32 + ((e.lo & 0xfffff000) >>> 0);
    if (next + PAGE_SIZE > MEMORY) return undefined;
    table = next;
  }
  return table;
}

const flagsArb = fc.record({ user: fc.boolean(), writable: fc.boolean(), global: fc.boolean() });
const pageArb = fc.nat(PAGES.length - 1);
const spaceArb = fc.nat(SPACES - 1);
const levelArb = fc.nat(3);
const HOWS = ["writeEntry", "write32", "write8", "writeBytes", "fill", "copy"] as const;
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const op = fc.oneof(
  w(
    2,
    fc.record({
      t: fc.constant("map" as const),
      s: spaceArb,
      page: pageArb,
      frame: fc.nat(DATA_FRAMES - 1),
      /** Map the page onto one of the space's own tables instead of a data frame. */
      table: fc.option(levelArb),
      flags: flagsArb,
    }),
  ),
  w(1, fc.record({ t: fc.constant("unmap" as const), s: spaceArb, page: pageArb })),
  w(2, fc.record({ t: fc.constant("protect" as const), s: spaceArb, page: pageArb, flags: flagsArb })),
  w(
    6,
    fc.record({
      t: fc.constant("raw" as const),
      /** null: the space CR3 holds now. */
      s: fc.option(spaceArb),
      page: pageArb,
      level: levelArb,
      bit: fc.nat(BITS.length - 1),
      how: fc.constantFrom(...HOWS),
      /** Follow with a flushing CR3 write of the current root, so the next access walks. */
      flush: fc.boolean(),
    }),
  ),
  w(3, fc.record({ t: fc.constant("cr3" as const), s: spaceArb })),
  w(1, fc.record({ t: fc.constant("cpl" as const), cpl: fc.constantFrom(0, 3) })),
  w(
    10,
    fc.record({
      t: fc.constant("access" as const),
      page: pageArb,
      off: fc.nat(511).map((n) => n * 8),
      kind: fc.constantFrom("load", "store", "fetch", "storeBytes"),
      value: fc.nat(0xffffffff),
    }),
  ),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** Applies `o` to `m` and returns what happened (a value or the error's text). */
function apply(m: Machine, o: Op): string {
  try {
    switch (o.t) {
      case "map": {
        const space = m.spaces[o.s];
        const pa = o.table === null ? m.data[o.frame] : tableOf(m, space, PAGES[o.page], o.table);
        if (pa === undefined) return "no table";
        space.map(PAGES[o.page], pa, PAGE_SIZE, o.flags);
        return "mapped";
      }
      case "unmap":
        return String(m.spaces[o.s].unmap(PAGES[o.page]));
      case "protect":
        m.spaces[o.s].protect(PAGES[o.page], o.flags);
        return "protected";
      case "raw": {
        const va = PAGES[o.page];
        const space = o.s === null ? m.spaces.find((x) => x.root === m.mmu.cr3) : m.spaces[o.s];
        const table = space === undefined ? undefined : tableOf(m, space, va, o.level);
        if (table === undefined) return "no table";
        const index = tableIndex(va, o.level);
        const ea = table + index * 8;
        const e = readEntry(m.memory, table, index);
        const lo = (e.lo ^ BITS[o.bit]) >>> 0;
        if (o.how === "writeEntry") writeEntry(m.memory, table, index, lo, e.hi);
        else if (o.how === "write32") m.memory.write32(ea, lo);
        else if (o.how === "write8") m.memory.write8(ea, lo & 0xff);
        else if (o.how === "writeBytes") m.memory.writeBytes(ea, new Uint8Array([lo & 0xff]));
        else if (o.how === "fill") m.memory.fill(ea, 1, lo & 0xff);
        else {
          m.memory.write8(m.data[0], lo & 0xff);
          m.memory.copy(ea, m.data[0], 1);
        }
        if (o.flush) m.mmu.writeCr3(m.mmu.cr3);
        return "raw";
      }
      case "cr3":
        m.mmu.writeCr3(m.spaces[o.s].root);
        return "cr3";
      case "cpl":
        m.mmu.cpl = o.cpl;
        return "cpl";
      case "access": {
        const va = PAGES[o.page] + o.off;
        if (o.kind === "load") return String(m.mmu.load64(va));
        if (o.kind === "store") {
          m.mmu.store32(va, o.value);
          return "stored";
        }
        if (o.kind === "storeBytes") {
          m.mmu.writeBytes(va, new Uint8Array([o.value & 0xff, o.value >>> 8]));
          return "stored";
        }
        return String(m.mmu.translate(va, 2));
      }
    }
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

describe("walk memo", () => {
  it("changes no result, A/D bit, statistic or memory byte (against the same Mmu without it)", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const a = build(true);
        const b = build(false);
        for (const o of ops) {
          expect(apply(a, o), JSON.stringify(o)).toBe(apply(b, o));
          expect({ ...a.mmu.tlb.stats }).toEqual({ ...b.mmu.tlb.stats });
          expect(a.mmu.accesses).toBe(b.mmu.accesses);
        }
        expect(Buffer.compare(a.memory.u8, b.memory.u8)).toBe(0);
      }),
      {
        numRuns: 500,
        // Besides random sequences: for every way of writing a table, fill the memo, clear a
        // PML4 entry's P with it, flush, and access again (a skipped invalidation serves the
        // stale walk here).
        examples: HOWS.map((how) => [
          [
            { t: "access", page: 1, off: 0, kind: "load", value: 0 },
            { t: "raw", s: null, page: 0, level: 0, bit: 0, how, flush: true },
            { t: "access", page: 1, off: 0, kind: "load", value: 0 },
          ] as Op[],
        ]),
      },
    );
  });

  it("serves a repeated walk after a flushing CR3 write from the memo, counting it as a walk", () => {
    const m = build(true);
    m.mmu.store32(0x1000, 7);
    for (let k = 0; k < 3; k++) {
      m.mmu.writeCr3(m.spaces[0].root);
      expect(m.mmu.load32(0x1000)).toBe(7);
    }
    expect(m.mmu.tlb.stats.walks).toBe(4);
    // A raw clear of P through PhysicalMemory must be seen at once.
    const pt = tableOf(m, m.spaces[0], 0x1000, 3) as number;
    m.memory.write32(pt + tableIndex(0x1000, 3) * 8, 0);
    m.mmu.writeCr3(m.spaces[0].root);
    expect(() => m.mmu.load32(0x1000)).toThrow(/PageFault|not present|#PF/);
  });
});
