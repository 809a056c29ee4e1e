import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AddressSpace,
  LARGE_PAGE_SIZE,
  PAGE_SIZE,
  PTE_PS,
  readEntry,
  tableIndex,
  writeEntry,
} from "../src/index.js";
import { expectNoFrameLeak, KERNEL, machine } from "./helpers.js";

describe("AddressSpace", () => {
  it("maps, queries and unmaps 4 KiB and 2 MiB pages, freeing emptied tables", () => {
    const { memory, frames, space } = machine();
    expectNoFrameLeak(frames, () => {
      space.map(KERNEL + 0x1000, 0x5000, PAGE_SIZE, {
        writable: true,
        global: true,
        noExecute: true,
        pkey: 3,
      });
      space.map(KERNEL + LARGE_PAGE_SIZE, LARGE_PAGE_SIZE * 2, LARGE_PAGE_SIZE, { user: true, pat: true });
      const q = space.query(KERNEL + 0x1234);
      expect(q).toMatchObject({
        va: KERNEL + 0x1000,
        pa: 0x5000,
        size: PAGE_SIZE,
        accessed: false,
        dirty: false,
      });
      expect(q?.flags).toEqual({
        writable: true,
        user: false,
        global: true,
        noExecute: true,
        writeThrough: false,
        cacheDisable: false,
        pat: false,
        pkey: 3,
      });
      const big = space.query(KERNEL + LARGE_PAGE_SIZE + 12345);
      expect(big).toMatchObject({
        va: KERNEL + LARGE_PAGE_SIZE,
        pa: LARGE_PAGE_SIZE * 2,
        size: LARGE_PAGE_SIZE,
      });
      expect(big?.flags.pat).toBe(true);
      const pd = space.audit();
      expect(pd.map((m) => m.va)).toEqual([KERNEL + 0x1000, KERNEL + LARGE_PAGE_SIZE]);
      expect(pd.problems).toEqual([]);
      // Intermediate entries have P, R/W, U/S so the leaf decides.
      expect(readEntry(memory, space.root, 256).lo & 7).toBe(7);
      expect(space.unmap(KERNEL + 0x1000)).toBe(PAGE_SIZE);
      expect(space.unmap(KERNEL + LARGE_PAGE_SIZE)).toBe(LARGE_PAGE_SIZE);
      expect(space.query(KERNEL + 0x1000)).toBeUndefined();
      expect(readEntry(memory, space.root, 256).lo).toBe(0);
    });
  });

  it("physicalAddress agrees with query for mapped, unmapped and non-linear addresses (fast-check)", () => {
    const { space } = machine();
    space.map(KERNEL, 0x30000, PAGE_SIZE, { writable: true });
    space.map(KERNEL + LARGE_PAGE_SIZE, LARGE_PAGE_SIZE * 3, LARGE_PAGE_SIZE);
    space.map(0x7000, 0x41000, PAGE_SIZE, { user: true });
    const vaArb = fc.oneof(
      fc.nat(3 * LARGE_PAGE_SIZE).map((o) => KERNEL + o),
      fc.nat(0x10000),
      fc.constantFrom(-1, 2 ** 48, 0.5, KERNEL + 0.5),
    );
    fc.assert(
      fc.property(vaArb, (va) => {
        const q = space.query(va);
        expect(space.physicalAddress(va)).toBe(q === undefined ? -1 : q.pa + (va - q.va));
      }),
    );
  });

  it("refuses overlapping maps, bad alignment and unmapping nothing, with precise errors", () => {
    const { frames, space } = machine();
    expectNoFrameLeak(frames, () => {
      space.map(KERNEL, 0, LARGE_PAGE_SIZE);
      expect(() => space.map(KERNEL + 0x3000, 0x3000, PAGE_SIZE)).toThrow(
        "map: 0xffff800000003000 lies in the 2 MiB mapping at 0xffff800000000000",
      );
      expect(() => space.map(KERNEL, 0, LARGE_PAGE_SIZE)).toThrow(/already mapped/);
      expect(() => space.map(KERNEL + 1, 0, PAGE_SIZE)).toThrow(RangeError);
      expect(() => space.map(2 ** 48, 0, PAGE_SIZE)).toThrow(RangeError);
      expect(() => space.map(0, 0x100, PAGE_SIZE)).toThrow(/physical address 0x100/);
      expect(() => space.map(0, 0, 8192 as 4096)).toThrow(/size 8192/);
      expect(() => space.map(0, 0, PAGE_SIZE, { pkey: 16 })).toThrow(/protection key 16/);
      expect(() => space.unmap(KERNEL + 0x1000)).toThrow(/inside the 2 MiB mapping/);
      expect(() => space.unmap(0x1000)).toThrow("unmap: 0x0000000000001000 is not mapped (no PML4 entry)");
      space.unmap(KERNEL);
    });
  });

  it("protect changes flags and keeps address and A/D", () => {
    const { memory, frames, space, mmu } = machine();
    expectNoFrameLeak(frames, () => {
      space.map(0x1000, 0x7000, PAGE_SIZE, { writable: true });
      mmu.store32(0x1000, 1);
      space.protect(0x1000, { user: true, noExecute: true });
      const q = space.query(0x1000);
      expect(q).toMatchObject({ pa: 0x7000, accessed: true, dirty: true });
      expect(q?.flags).toMatchObject({ writable: false, user: true, noExecute: true });
      space.unmap(0x1000);
      expect(memory.read32(0x7000)).toBe(1);
    });
  });

  it("mapRange undoes its pages when it fails part-way", () => {
    const { frames, space } = machine();
    expectNoFrameLeak(frames, () => {
      space.map(0x3000, 0, PAGE_SIZE);
      expect(() => space.mapRange(0x1000, 0x10000, 3 * PAGE_SIZE)).toThrow(/already mapped/);
      expect(space.query(0x1000)).toBeUndefined();
      space.unmap(0x3000);
    });
  });

  it("shares root entries between spaces; unmap never frees a pinned PDPT; destroy frees only owned tables", () => {
    const { memory, frames } = machine();
    expectNoFrameLeak(frames, () => {
      const kernel = new AddressSpace(memory, frames);
      const slot = tableIndex(KERNEL, 0);
      kernel.preallocateRoot(slot, 2);
      kernel.setRootEntryUser(slot, false);
      const driver = new AddressSpace(memory, frames);
      driver.shareRootEntries(kernel, slot, 2, { user: true });
      expect(readEntry(memory, driver.root, slot).lo & 4).toBe(4);
      expect(readEntry(memory, kernel.root, slot).lo & 4).toBe(0);
      driver.map(KERNEL + 0x5000, 0x9000, PAGE_SIZE, { user: true });
      expect(kernel.query(KERNEL + 0x5000)?.pa).toBe(0x9000);
      kernel.unmap(KERNEL + 0x5000);
      expect(readEntry(memory, kernel.root, slot).lo & 1).toBe(1);
      expect(() => driver.shareRootEntries(kernel, 300, 1)).toThrow(/not present/);
      expect(() => kernel.setRootEntryUser(512, true)).toThrow(RangeError);
      driver.destroy();
      expect(() => driver.destroy()).toThrow(/destroyed/);
      // Root + 2 pinned PDPTs survive the unmap; the PD and PT it emptied were freed.
      expect(kernel.ownedTables).toBe(3);
      kernel.destroy();
    });
  });

  it("audit reports reserved-bit problems", () => {
    const { memory, space } = machine();
    space.map(KERNEL, 0x2000, PAGE_SIZE);
    const e = readEntry(memory, space.root, 256);
    writeEntry(memory, space.root, 256, e.lo | PTE_PS, e.hi);
    space.map(0x1000, 0x3000, PAGE_SIZE);
    const r = space.audit();
    expect(r.map((m) => m.va)).toEqual([0x1000]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ level: 0, index: 256, reason: "PS is set in a PML4 entry" });
  });
});
