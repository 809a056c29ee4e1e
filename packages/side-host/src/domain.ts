/**
 * A SIDE driver domain (DESIGN.md, "The isolated driver domain"): one PML4 slot of the kernel
 * half (layout.ts, slots 416..431) holds everything an isolated driver touches, mapped
 * user-accessible; the domain has its own top-level table that shares every kernel PML4 entry
 * (so every lower-level kernel table) and differs only in U/S=1 on its region's entry, with no
 * user half; it has its own TSS whose I/O bitmap grants its device's ports only.
 *
 * Region map (offsets from the region's first address, 0xffffd0XX00000000):
 *
 *   +0x000000  module text: one 16-byte slot per entry point (as MODULES_VADDR slots),
 *              user, read-only, executable; the kernel upcalls these addresses
 *   +0x010000  guard page(s)
 *   +0x020000  driver stack: DRIVER_STACK_SIZE, user, RW, NX
 *   +0x100000  pool: the private heap (slabs and page runs: its kmallocs, net_device, skbs,
 *              DMA-coherent rings), vzalloc areas, shadow pci_devs and the MMIO mappings of its
 *              own BARs (uncached). Every page user, NX, NOT global (a global entry would
 *              survive the CR3 switch into a process and hand it the page).
 *
 * In the kernel's own PML4 the region's entry stays supervisor, so kernel code (in the kernel's
 * or any process's CR3) reaches driver memory as supervisor memory and no process can. The
 * `sharedPageTable` variant has no own PML4: the region's entry is U/S=1 in the kernel's table
 * (and so in every process that copies it): the simpler design's hole.
 */
import { PciDev } from "@side-kernel/kservice";
import { AddressSpace, CR4_SMAP, OutOfFramesError, PAGE_SIZE } from "@side-kernel/paging";
import { Tss } from "@side-kernel/privilege";
import { hexAddr, KernelBug } from "./errors.js";
import { Heap, type PageSource } from "./heap.js";
import type { Kernel } from "./kernel.js";
import {
  DRIVER_REGION_SIZE,
  driverRegionStart,
  ENTRY_POINT_STRIDE,
  KERNEL_PML4_COUNT,
  KERNEL_PML4_FIRST,
  MODULE_SLOT_SIZE,
  pml4Slot,
} from "./layout.js";
import { VirtualRegion } from "./vmem.js";

/** Offset of the module text in a region. */
export const REGION_TEXT_OFFSET = 0;
/** Offset of the driver stack in a region (after the text slot and a guard). */
export const REGION_STACK_OFFSET = 2 * MODULE_SLOT_SIZE;
/** Driver stack: 16 KiB, as a kernel stack (Linux THREAD_SIZE on x86-64). */
export const DRIVER_STACK_SIZE = 16 * 1024;
/** Offset of the pool (heap, vzalloc, shadows, MMIO) in a region: 1 MiB. */
export const REGION_POOL_OFFSET = 0x10_0000;

/** Options of a driver domain. */
export interface DomainOptions {
  /**
   * Map the region user-accessible in the kernel's own top-level table (and so in every process
   * that shares it) instead of giving the domain its own: no CR3 switch per crossing, and no
   * protection of driver memory from user processes. Needs SMAP off (see DriverDomain).
   */
  readonly sharedPageTable?: boolean;
}

interface IoArea {
  readonly pages: number;
  readonly pdev: number;
}

interface VmArea {
  readonly pages: number;
  readonly frames: number[];
}

/**
 * One driver domain. Owns its region's pages (text, stack, pool), its top-level table and its
 * TSS. It is the page source of the domain's private heap. Built by the isolated loader.
 */
export class DriverDomain implements PageSource {
  /** PML4 slot index 0..15 among the driver-domain slots. */
  readonly slot: number;
  /** First and last+1 linear addresses of the region. */
  readonly start: number;
  readonly end: number;
  /** The domain's own address space (null with sharedPageTable). */
  readonly space: AddressSpace | null;
  /** CR3 of the domain: its PML4, or the kernel's with sharedPageTable. */
  readonly cr3: number;
  /** The domain's TSS: RSP0 set per upcall, I/O bitmap granting its device's ports only. */
  readonly tss = new Tss();
  /** The private heap over the region's pool. */
  readonly heap: Heap;
  /** Module text: first code address (entry point i at textBase + 16 i). */
  readonly textBase: number;
  /** Top of the driver stack. */
  readonly stackTop: number;
  readonly sharedPageTable: boolean;
  /** Kernel pci_dev -> its shadow in the region, and back. */
  private readonly shadows = new Map<number, number>();
  private readonly shadowOwners = new Map<number, number>();
  /** The last shadow pdevOfShadow found and its pci_dev (shadows are only added until destroy). */
  private lastShadow = -1;
  private lastShadowOwner = 0;
  private readonly pool: VirtualRegion;
  /** Page va -> frame pa of every page this domain mapped (text, stack, pool). */
  private readonly frameOf = new Map<number, number>();
  private readonly textPages: number;
  private readonly iomaps = new Map<number, IoArea>();
  private readonly vmAreas = new Map<number, VmArea>();
  private readonly grants: { first: number; count: number }[] = [];
  private smapWasOn = false;
  private destroyed = false;

  /**
   * Builds the domain in region `slot` for a module with `entryPoints` entry points: maps its
   * text and stack, builds its PML4 (or, with sharedPageTable, opens the kernel's entry and
   * turns SMAP off), copies RSP0 from the kernel's TSS. Throws RangeError for a bad slot and
   * OutOfFramesError when memory runs out (nothing is left mapped then).
   */
  constructor(
    private readonly kn: Kernel,
    slot: number,
    entryPoints: number,
    options: DomainOptions = {},
  ) {
    this.slot = slot;
    this.start = driverRegionStart(slot);
    this.end = this.start + DRIVER_REGION_SIZE;
    this.sharedPageTable = options.sharedPageTable === true;
    this.pool = new VirtualRegion(
      `driver region ${slot}`,
      this.start + REGION_POOL_OFFSET,
      DRIVER_REGION_SIZE - REGION_POOL_OFFSET,
    );
    this.textBase = this.start + REGION_TEXT_OFFSET;
    this.stackTop = this.start + REGION_STACK_OFFSET + DRIVER_STACK_SIZE;
    this.textPages = Math.max(1, Math.ceil((entryPoints * ENTRY_POINT_STRIDE) / PAGE_SIZE));
    this.heap = new Heap(this, kn.machine.memory, (o) => kn.ownerName(o));
    const root = pml4Slot(this.start);
    let space: AddressSpace | null = null;
    try {
      for (let i = 0; i < this.textPages; i++) {
        this.mapNew(this.textBase + i * PAGE_SIZE, { writable: false, noExecute: false });
      }
      for (let off = 0; off < DRIVER_STACK_SIZE; off += PAGE_SIZE) {
        this.mapNew(this.start + REGION_STACK_OFFSET + off, { writable: true, noExecute: true });
      }
      if (this.sharedPageTable) {
        kn.space.setRootEntryUser(root, true);
        const cr4 = kn.machine.cpu.cr4;
        this.smapWasOn = (cr4 & CR4_SMAP) !== 0;
        if (this.smapWasOn) {
          kn.machine.cpu.movToCr(4, cr4 & ~CR4_SMAP);
          kn.log.write(
            "warn",
            "kernel",
            `driver region ${slot} is user-accessible in every address space (sharedPageTable): SMAP turned off`,
          );
        }
      } else {
        space = new AddressSpace(kn.machine.memory, kn.machine.frames);
        space.shareRootEntries(kn.space, KERNEL_PML4_FIRST, KERNEL_PML4_COUNT);
        space.setRootEntryUser(root, true);
      }
    } catch (e) {
      space?.destroy();
      this.unmapAll();
      throw e;
    }
    this.space = space;
    this.cr3 = space !== null ? space.root : kn.space.root;
    this.tss.setRsp(0, kn.machine.cpu.tss.rsp0);
  }

  /** True if [addr, addr + len) lies in the region. */
  contains(addr: number, len = 1): boolean {
    return addr >= this.start && addr + len <= this.end;
  }

  // ---------------------------------------------------------------- PageSource (the private heap)

  /** See PageSource.allocPages: contiguous zeroed frames mapped user RW NX in the pool; 0 when out of memory. */
  allocPages(count: number): number {
    const va = this.pool.alloc(count);
    if (va === 0) return 0;
    const frames = this.kn.machine.frames;
    let pa: number;
    try {
      pa = count === 1 ? frames.alloc() : frames.allocContiguous(count);
    } catch (e) {
      this.pool.free(va, "allocPages");
      if (e instanceof OutOfFramesError) return 0;
      throw e;
    }
    for (let i = 0; i < count; i++) this.mapAt(va + i * PAGE_SIZE, pa + i * PAGE_SIZE, DATA_FLAGS);
    return va;
  }

  /** See PageSource.freePages. */
  freePages(va: number, count: number): void {
    const pa = this.frameOf.get(va)!;
    for (let i = 0; i < count; i++) this.unmapPage(va + i * PAGE_SIZE);
    const frames = this.kn.machine.frames;
    if (count === 1) frames.free(pa);
    else frames.freeContiguous(pa, count);
    this.pool.free(va, "freePages");
  }

  /** See PageSource.physical: the frame behind a mapped region address (-1 if unmapped). */
  physical(va: number): number {
    const off = va & (PAGE_SIZE - 1); // the low 12 bits survive ToInt32: no double `%`
    const pa = this.frameOf.get(va - off);
    return pa === undefined ? -1 : pa + off;
  }

  // ---------------------------------------------------------------- mappings

  private mapAt(
    va: number,
    pa: number,
    flags: { writable: boolean; noExecute: boolean; uncached?: boolean },
  ): void {
    this.kn.space.map(va, pa, PAGE_SIZE, {
      user: true,
      writable: flags.writable,
      noExecute: flags.noExecute,
      cacheDisable: flags.uncached === true,
      writeThrough: flags.uncached === true,
      global: false,
    });
    this.frameOf.set(va, pa);
  }

  private mapNew(va: number, flags: { writable: boolean; noExecute: boolean }): void {
    const pa = this.kn.machine.frames.alloc();
    try {
      this.mapAt(va, pa, flags);
    } catch (e) {
      this.kn.machine.frames.free(pa);
      throw e;
    }
  }

  private unmapPage(va: number): void {
    this.kn.space.unmap(va);
    this.kn.machine.mmu.invlpg(va);
    this.frameOf.delete(va);
  }

  private unmapAll(): void {
    for (const [va, pa] of [...this.frameOf]) {
      this.unmapPage(va);
      if (va < this.start + REGION_POOL_OFFSET) this.kn.machine.frames.free(pa);
    }
  }

  /**
   * pci_ioremap_bar for the domain: map `pages` pages of BAR space at `start` uncached,
   * user-accessible, NX in the pool (plus a guard page). Returns the address, 0 when the region
   * is full.
   */
  mapMmio(pdev: number, start: number, pages: number): number {
    const va = this.pool.alloc(pages + 1);
    if (va === 0) return 0;
    for (let i = 0; i < pages; i++) {
      this.mapAt(va + i * PAGE_SIZE, start + i * PAGE_SIZE, {
        writable: true,
        noExecute: true,
        uncached: true,
      });
    }
    this.iomaps.set(va, { pages, pdev });
    return va;
  }

  /** iounmap for the domain. Throws KernelBug for an address mapMmio did not return. */
  unmapMmio(va: number): void {
    const m = this.iomaps.get(va);
    if (m === undefined) throw new KernelBug("iounmap", va, `${hexAddr(va)} is not an ioremap mapping`);
    for (let i = 0; i < m.pages; i++) this.unmapPage(va + i * PAGE_SIZE);
    this.pool.free(va, "iounmap");
    this.iomaps.delete(va);
  }

  /** vzalloc for the domain: zeroed pages (frames need not be contiguous) plus a guard; 0 when out of memory. */
  vzalloc(size: number): number {
    if (!Number.isInteger(size) || size <= 0)
      throw new KernelBug("vzalloc", size, `size ${size} is not positive`);
    const pages = Math.ceil(size / PAGE_SIZE);
    const va = this.pool.alloc(pages + 1);
    if (va === 0) return 0;
    const frames: number[] = [];
    try {
      for (let i = 0; i < pages; i++) {
        const pa = this.kn.machine.frames.alloc();
        frames.push(pa);
        this.mapAt(va + i * PAGE_SIZE, pa, DATA_FLAGS);
      }
    } catch (e) {
      for (let i = 0; i < frames.length; i++) {
        if (this.frameOf.has(va + i * PAGE_SIZE)) this.unmapPage(va + i * PAGE_SIZE);
        this.kn.machine.frames.free(frames[i]);
      }
      this.pool.free(va, "vzalloc");
      if (e instanceof OutOfFramesError) return 0;
      throw e;
    }
    this.vmAreas.set(va, { pages, frames });
    return va;
  }

  /** vfree for the domain. Throws KernelBug for an address vzalloc did not return. */
  vfree(va: number): void {
    const a = this.vmAreas.get(va);
    if (a === undefined) throw new KernelBug("vfree", va, `${hexAddr(va)} is not a vzalloc area`);
    for (let i = 0; i < a.pages; i++) {
      this.unmapPage(va + i * PAGE_SIZE);
      this.kn.machine.frames.free(a.frames[i]);
    }
    this.pool.free(va, "vfree");
    this.vmAreas.delete(va);
  }

  // ---------------------------------------------------------------- I/O ports

  /** Grant ports [first, first + count) in the domain's TSS I/O bitmap. */
  grantPorts(first: number, count: number): void {
    this.tss.grantPorts(first, count);
    this.grants.push({ first, count });
  }

  /** Revoke a grant made by grantPorts (no-op if there is none). */
  revokePorts(first: number, count: number): void {
    const i = this.grants.findIndex((g) => g.first === first && g.count === count);
    if (i < 0) return;
    this.grants.splice(i, 1);
    this.tss.revokePorts(first, count);
  }

  /** Ports granted, as [first, count] ranges. */
  get portGrants(): readonly { first: number; count: number }[] {
    return this.grants;
  }

  // ---------------------------------------------------------------- shadow pci_devs

  /**
   * The shadow of kernel pci_dev `pdev` in the region, made (a copy of the kernel's struct) on
   * first use. Returns 0 when the pool is out of memory.
   */
  shadowFor(pdev: number): number {
    const s = this.shadows.get(pdev);
    if (s !== undefined) return s;
    const shadow = this.heap.alloc(PciDev.SIZE, 0, true, "kernel");
    if (shadow === 0) return 0;
    this.shadows.set(pdev, shadow);
    this.shadowOwners.set(shadow, pdev);
    this.refreshShadow(pdev);
    return shadow;
  }

  /**
   * Re-write the shadow of `pdev` from the kernel's pci_dev (identity, IRQ, DMA mask, resources),
   * keeping only driver_data, which is the driver's own. No-op without a shadow.
   */
  refreshShadow(pdev: number): void {
    const shadow = this.shadows.get(pdev);
    if (shadow === undefined) return;
    const mem = this.kn.machine.memory;
    const src = this.kn.physicalOf(pdev);
    const dst = this.physical(shadow);
    const keep = mem.u8.slice(dst + PciDev.driverData, dst + PciDev.driverData + 8);
    mem.u8.copyWithin(dst, src, src + PciDev.SIZE);
    mem.u8.set(keep, dst + PciDev.driverData);
  }

  /** The kernel pci_dev behind shadow `shadow`, or 0 if it is not one. */
  pdevOfShadow(shadow: number): number {
    // every checked call naming the device asks twice (check, then translation): remember the last
    if (shadow === this.lastShadow) return this.lastShadowOwner;
    const pdev = this.shadowOwners.get(shadow);
    if (pdev === undefined) return 0;
    this.lastShadow = shadow;
    this.lastShadowOwner = pdev;
    return pdev;
  }

  /** The shadow of kernel pci_dev `pdev`, or 0. */
  shadowOf(pdev: number): number {
    return this.shadows.get(pdev) ?? 0;
  }

  // ---------------------------------------------------------------- teardown

  /** Pages of the region currently mapped (text, stack, pool). */
  get mappedPages(): number {
    return this.frameOf.size;
  }

  /** True once destroy() ran. */
  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /**
   * Tear down after a clean unload: free the shadows, trim the heap, unmap text and stack,
   * revoke grants, destroy the PML4 (or close the kernel's entry and restore SMAP). Throws
   * KernelBug when heap blocks, vzalloc areas or MMIO mappings are still live (naming how many).
   */
  destroy(): void {
    if (this.destroyed) return;
    for (const shadow of this.shadowOwners.keys()) this.heap.free(shadow, 0, "domain teardown", "kernel");
    this.shadows.clear();
    this.shadowOwners.clear();
    this.lastShadow = -1;
    this.heap.trim();
    const blocks = this.heap.stats.blocks;
    if (blocks > 0 || this.vmAreas.size > 0 || this.iomaps.size > 0) {
      throw new KernelBug(
        "domain teardown",
        this.start,
        `driver region ${this.slot} still holds ${blocks} heap blocks, ${this.vmAreas.size} vzalloc areas, ${this.iomaps.size} MMIO mappings`,
      );
    }
    for (const g of [...this.grants]) this.revokePorts(g.first, g.count);
    this.unmapAll();
    const root = pml4Slot(this.start);
    if (this.space !== null) {
      this.space.destroy();
    } else {
      this.kn.space.setRootEntryUser(root, false);
      if (this.smapWasOn) this.kn.machine.cpu.movToCr(4, this.kn.machine.cpu.cr4 | CR4_SMAP);
    }
    this.kn.machine.mmu.tlb.flushAll({ keepGlobal: true });
    this.destroyed = true;
  }
}

/** Flags of data pages in the region. */
const DATA_FLAGS = { writable: true, noExecute: true } as const;
