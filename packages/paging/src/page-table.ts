/**
 * x86-64 4-level page tables kept in simulated physical memory (hardware.md 1.1, 1.3).
 *
 *   CR3 -> PML4 (512 x 512 GiB) -> PDPT (512 x 1 GiB) -> PD (512 x 2 MiB) -> PT (512 x 4 KiB)
 *
 * Tables are frames from a FrameAllocator. A table belongs to the address space that created
 * it (or that created its parent table); PDPTs reached through shared root entries are
 * "pinned" and never freed by unmap, only by their owner's destroy().
 */
import {
  PK_MASK_HI,
  PTE_A,
  PTE_ADDR_LO_MASK,
  PTE_D,
  PTE_P,
  PTE_PAT_LARGE,
  PTE_PS,
  PTE_RW,
  PTE_US,
  PTE_XD_HI,
} from "./bits.js";
import type { FrameAllocator } from "./frames.js";
import {
  ENTRIES_PER_TABLE,
  ENTRY_SIZE,
  formatLinear,
  formatPhysical,
  HUGE_PAGE_SIZE,
  isLinearAddress,
  LARGE_PAGE_SIZE,
  LEVEL_SHIFTS,
  PAGE_SIZE,
  type PageSize,
  PHYSICAL_ADDRESS_LIMIT,
  tableIndex,
} from "./layout.js";
import { DEFAULT_MAX_PHYS_ADDR_BITS } from "./limits.js";
import type { PhysicalMemory } from "./memory.js";
import {
  decodeLeafFlags,
  encodeLeaf,
  entryAddress,
  flagBitsHi,
  flagBitsLo,
  type PageFlags,
  type ResolvedPageFlags,
  reservedBitsProblem,
  reservedHiMask,
} from "./pte.js";

/** One mapping as `query` and `audit` report it. */
export interface Mapping {
  /** First linear address of the page. */
  va: number;
  /** Physical address of the page. */
  pa: number;
  /** Page size in bytes. */
  size: PageSize;
  /** Flags of the leaf entry. */
  flags: ResolvedPageFlags;
  /** A bit of the leaf entry. */
  accessed: boolean;
  /** D bit of the leaf entry. */
  dirty: boolean;
}

/** A reserved-bit (or out-of-memory pointer) problem `audit` found in a present entry. */
export interface AuditProblem {
  /** 0 = PML4E, 1 = PDPTE, 2 = PDE, 3 = PTE. */
  level: number;
  /** Physical address of the table holding the entry. */
  tablePa: number;
  /** Index of the entry. */
  index: number;
  /** First linear address the entry covers. */
  va: number;
  lo: number;
  hi: number;
  /** What is wrong. */
  reason: string;
}

/** `audit` result: the mappings (ascending va) plus the problems found. */
export type AuditReport = Mapping[] & { problems: AuditProblem[] };

/** Options of `map` for the intermediate tables it creates (existing ones are left as they are). */
export interface MapOptions {
  /** U/S of created intermediate entries (default true: the leaf decides). */
  intermediateUser?: boolean;
  /** R/W of created intermediate entries (default true: the leaf decides). */
  intermediateWritable?: boolean;
}

/** Options of `AddressSpace`. */
export interface AddressSpaceOptions {
  /** MAXPHYADDR used by `audit` for reserved-bit checks (default 46). */
  maxPhysAddrBits?: number;
}

interface TableInfo {
  owner: AddressSpace;
  pinned: boolean;
}

const registries = new WeakMap<PhysicalMemory, Map<number, TableInfo>>();

function registryOf(memory: PhysicalMemory): Map<number, TableInfo> {
  let r = registries.get(memory);
  if (r === undefined) {
    r = new Map();
    registries.set(memory, r);
  }
  return r;
}

const LEVEL_NAMES = ["PML4", "PDPT", "PD", "PT"];
const SIZE_NAMES: Record<number, string> = {
  [PAGE_SIZE]: "4 KiB",
  [LARGE_PAGE_SIZE]: "2 MiB",
  [HUGE_PAGE_SIZE]: "1 GiB",
};

function leafLevelOf(size: number): number {
  if (size === PAGE_SIZE) return 3;
  if (size === LARGE_PAGE_SIZE) return 2;
  if (size === HUGE_PAGE_SIZE) return 1;
  return -1;
}

/** Size mapped by a leaf at `level` (1, 2 or 3). */
function sizeAtLevel(level: number): PageSize {
  return level === 3 ? PAGE_SIZE : level === 2 ? LARGE_PAGE_SIZE : HUGE_PAGE_SIZE;
}

/**
 * One 4-level address space: a PML4 and the tables below it, in simulated memory.
 * Changing a mapping does not invalidate any TLB: the caller does that (INVLPG, CR3 write), as
 * on hardware.
 */
export class AddressSpace {
  /** The memory holding the tables. */
  readonly memory: PhysicalMemory;
  /** Where tables come from. */
  readonly frames: FrameAllocator;
  /** Physical address of the PML4 (what goes in CR3). */
  readonly root: number;
  private readonly owned = new Set<number>();
  private readonly registry: Map<number, TableInfo>;
  private readonly hiMask: number;
  private destroyed = false;

  /**
   * Allocates a zeroed PML4 from `frames`. Throws OutOfFramesError when none is free and
   * Error if `frames` manages another memory.
   */
  constructor(memory: PhysicalMemory, frames: FrameAllocator, options: AddressSpaceOptions = {}) {
    if (frames.memory !== memory)
      throw new Error("AddressSpace: the frame allocator manages a different memory");
    this.memory = memory;
    this.frames = frames;
    this.hiMask = reservedHiMask(options.maxPhysAddrBits ?? DEFAULT_MAX_PHYS_ADDR_BITS);
    this.registry = registryOf(memory);
    this.root = this.newTable(this);
  }

  /** Number of table frames this space owns (root included). */
  get ownedTables(): number {
    return this.owned.size;
  }

  private newTable(owner: AddressSpace): number {
    const pa = owner.frames.alloc();
    owner.owned.add(pa);
    this.registry.set(pa, { owner, pinned: false });
    return pa;
  }

  private alive(op: string): void {
    if (this.destroyed) throw new Error(`AddressSpace.${op}: this address space was destroyed`);
  }

  private lo(tablePa: number, index: number): number {
    return this.memory.u32[(tablePa + index * ENTRY_SIZE) >>> 2];
  }

  private hi(tablePa: number, index: number): number {
    return this.memory.u32[((tablePa + index * ENTRY_SIZE) >>> 2) + 1];
  }

  private set(tablePa: number, index: number, lo: number, hi: number): void {
    const w = (tablePa + index * ENTRY_SIZE) >>> 2;
    this.memory.u32[w] = lo;
    this.memory.u32[w + 1] = hi;
  }

  /** Next-table address of a present non-leaf entry; throws if it points outside memory. */
  private nextTable(tablePa: number, index: number, level: number, va: number): number {
    const next = entryAddress(this.lo(tablePa, index), this.hi(tablePa, index));
    if (next + PAGE_SIZE > this.memory.size) {
      throw new Error(
        `${LEVEL_NAMES[level]} entry ${index} at ${formatPhysical(tablePa)} (for ${formatLinear(va)}) points to ${formatPhysical(next)}, outside memory`,
      );
    }
    return next;
  }

  /**
   * Maps `size` bytes at linear `va` to physical `pa` with `flags` (P=1). Creates missing
   * intermediate tables with P, R/W and U/S set (see MapOptions). Throws RangeError for an
   * unaligned or invalid address, size or pkey; Error when any part of the range is already
   * mapped; OutOfFramesError when a table cannot be allocated.
   */
  map(va: number, pa: number, size: PageSize, flags: PageFlags = {}, options: MapOptions = {}): void {
    this.alive("map");
    const leaf = leafLevelOf(size);
    if (leaf < 0) throw new RangeError(`map: size ${String(size)} is not 4096, 2 MiB or 1 GiB`);
    if (!isLinearAddress(va) || va % size !== 0) {
      throw new RangeError(
        `map: linear address ${formatLinear(va)} is not a linear address aligned to ${SIZE_NAMES[size]}`,
      );
    }
    if (!Number.isInteger(pa) || pa < 0 || pa >= PHYSICAL_ADDRESS_LIMIT || pa % size !== 0) {
      throw new RangeError(
        `map: physical address ${formatPhysical(pa)} is not below 2^52 and aligned to ${SIZE_NAMES[size]}`,
      );
    }
    const entry = encodeLeaf(pa, leaf !== 3, flags);
    let inter = PTE_P;
    if (options.intermediateWritable ?? true) inter |= PTE_RW;
    if (options.intermediateUser ?? true) inter |= PTE_US;
    let table = this.root;
    for (let level = 0; level < leaf; level++) {
      const i = tableIndex(va, level);
      const lo = this.lo(table, i);
      if ((lo & PTE_P) === 0) {
        const owner = this.registry.get(table)?.owner ?? this;
        const t = this.newTable(owner);
        this.set(table, i, (t | inter) >>> 0, 0);
        table = t;
      } else if ((lo & PTE_PS) !== 0) {
        const base = va - (va % sizeAtLevel(level));
        throw new Error(
          `map: ${formatLinear(va)} lies in the ${SIZE_NAMES[sizeAtLevel(level)]} mapping at ${formatLinear(base)}`,
        );
      } else {
        table = this.nextTable(table, i, level, va);
      }
    }
    const i = tableIndex(va, leaf);
    const old = this.lo(table, i);
    if ((old & PTE_P) !== 0) {
      const what = leaf < 3 && (old & PTE_PS) === 0 ? "a page table already covers" : "already mapped:";
      throw new Error(`map: ${what} ${SIZE_NAMES[size]} at ${formatLinear(va)}`);
    }
    this.set(table, i, entry.lo, entry.hi);
  }

  /**
   * Maps [va, va+length) to [pa, pa+length) with 4 KiB pages. `length` is rounded up to whole
   * pages. Throws as `map` does; on error the pages mapped so far by this call are unmapped again.
   */
  mapRange(va: number, pa: number, length: number, flags: PageFlags = {}, options: MapOptions = {}): void {
    if (!Number.isInteger(length) || length <= 0)
      throw new RangeError(`mapRange: length ${String(length)} must be a positive integer`);
    const pages = Math.ceil(length / PAGE_SIZE);
    let k = 0;
    try {
      for (; k < pages; k++) this.map(va + k * PAGE_SIZE, pa + k * PAGE_SIZE, PAGE_SIZE, flags, options);
    } catch (e) {
      for (let j = 0; j < k; j++) this.unmap(va + j * PAGE_SIZE);
      throw e;
    }
  }

  /** Walks to the leaf for `va`: returns [level, tablePa[] path] or throws a precise Error if unmapped. */
  private findLeaf(va: number, op: string): { level: number; path: number[] } {
    if (!isLinearAddress(va)) throw new RangeError(`${op}: ${formatLinear(va)} is not a linear address`);
    const path: number[] = [this.root];
    let table = this.root;
    for (let level = 0; level < 4; level++) {
      const i = tableIndex(va, level);
      const lo = this.lo(table, i);
      if ((lo & PTE_P) === 0)
        throw new Error(`${op}: ${formatLinear(va)} is not mapped (no ${LEVEL_NAMES[level]} entry)`);
      if (level === 3 || ((lo & PTE_PS) !== 0 && level > 0)) {
        const size = sizeAtLevel(level);
        if (va % size !== 0) {
          throw new Error(
            `${op}: ${formatLinear(va)} is inside the ${SIZE_NAMES[size]} mapping at ${formatLinear(va - (va % size))}, not its start`,
          );
        }
        return { level, path };
      }
      table = this.nextTable(table, i, level, va);
      path.push(table);
    }
    throw new Error("unreachable");
  }

  /**
   * Removes the mapping that starts at `va`; returns its size. Frees intermediate tables that
   * become empty (never the root, never pinned PDPTs). Throws Error when nothing is mapped at
   * `va` or `va` is not the start of a mapping.
   */
  unmap(va: number): PageSize {
    this.alive("unmap");
    const { level, path } = this.findLeaf(va, "unmap");
    this.set(path[level], tableIndex(va, level), 0, 0);
    for (let l = level; l >= 1; l--) {
      const t = path[l];
      const info = this.registry.get(t);
      if (info === undefined || info.pinned || !this.isEmpty(t)) break;
      this.set(path[l - 1], tableIndex(va, l - 1), 0, 0);
      this.registry.delete(t);
      info.owner.owned.delete(t);
      info.owner.frames.free(t);
    }
    return sizeAtLevel(level);
  }

  private isEmpty(tablePa: number): boolean {
    const u32 = this.memory.u32;
    const w = tablePa >>> 2;
    for (let i = 0; i < ENTRIES_PER_TABLE * 2; i += 2) if ((u32[w + i] & PTE_P) !== 0) return false;
    return true;
  }

  /**
   * Replaces the flags of the mapping that starts at `va`, keeping its address and A/D bits.
   * Throws as `unmap` does when there is no such mapping, RangeError for a bad pkey.
   */
  protect(va: number, flags: PageFlags): void {
    this.alive("protect");
    const { level, path } = this.findLeaf(va, "protect");
    const t = path[level];
    const i = tableIndex(va, level);
    const large = level < 3;
    const lo = this.lo(t, i);
    const hi = this.hi(t, i);
    const keepLo = (lo & (PTE_ADDR_LO_MASK | PTE_P | PTE_A | PTE_D | (large ? PTE_PS : 0))) >>> 0;
    // For a large leaf bit 12 is PAT, not address: take it from flags instead.
    const addrLo = large ? keepLo & ~PTE_PAT_LARGE : keepLo;
    const keepHi = hi & ~(PTE_XD_HI | PK_MASK_HI);
    this.set(t, i, (addrLo | flagBitsLo(flags, large)) >>> 0, (keepHi | flagBitsHi(flags)) >>> 0);
  }

  /**
   * The physical address `va` maps to, read from the tables as `query` reads them (no A/D, no
   * rights), or -1 where `query` would return undefined. Allocates nothing: for hot callers
   * that need only the address (DMA mapping, copies).
   */
  physicalAddress(va: number): number {
    if (!isLinearAddress(va)) return -1;
    let table = this.root;
    for (let level = 0; level < 4; level++) {
      const i = tableIndex(va, level);
      const lo = this.lo(table, i);
      const hi = this.hi(table, i);
      if ((lo & PTE_P) === 0) return -1;
      const addr = entryAddress(lo, hi);
      if (level === 3 || ((lo & PTE_PS) !== 0 && level > 0)) {
        const size = sizeAtLevel(level);
        // va and the frame base are integers below 2^52 and size a power of two: exact.
        return addr - (addr % size) + (va % size);
      }
      if (addr + PAGE_SIZE > this.memory.size) return -1;
      table = addr;
    }
    return -1;
  }

  /**
   * The mapping covering `va`, read from the tables without setting A/D, or undefined if none
   * (also undefined for a non-linear address or a table pointer outside memory).
   */
  query(va: number): Mapping | undefined {
    if (!isLinearAddress(va)) return undefined;
    let table = this.root;
    for (let level = 0; level < 4; level++) {
      const i = tableIndex(va, level);
      const lo = this.lo(table, i);
      const hi = this.hi(table, i);
      if ((lo & PTE_P) === 0) return undefined;
      if (level === 3 || ((lo & PTE_PS) !== 0 && level > 0)) {
        const size = sizeAtLevel(level);
        return this.mapping(va - (va % size), lo, hi, size);
      }
      const next = entryAddress(lo, hi);
      if (next + PAGE_SIZE > this.memory.size) return undefined;
      table = next;
    }
    return undefined;
  }

  private mapping(va: number, lo: number, hi: number, size: PageSize): Mapping {
    const large = size !== PAGE_SIZE;
    // For a large leaf, bit 12 is PAT and the bits below the page size are not address bits.
    const pa = entryAddress(lo, hi);
    return {
      va,
      pa: pa - (pa % size),
      size,
      flags: decodeLeafFlags(lo, hi, large),
      accessed: (lo & PTE_A) !== 0,
      dirty: (lo & PTE_D) !== 0,
    };
  }

  /**
   * Every mapping reachable from the root, ascending by va, plus `problems`: present entries
   * with reserved bits set (hardware.md 1.3; XD is not flagged since EFER is not known here)
   * or pointing to tables outside memory. Never throws for corrupt tables.
   */
  audit(): AuditReport {
    const out = [] as unknown as AuditReport;
    out.problems = [];
    this.auditTable(this.root, 0, 0, out);
    return out;
  }

  private auditTable(table: number, level: number, base: number, out: AuditReport): void {
    const span = 2 ** LEVEL_SHIFTS[level];
    for (let i = 0; i < ENTRIES_PER_TABLE; i++) {
      const lo = this.lo(table, i);
      if ((lo & PTE_P) === 0) continue;
      const hi = this.hi(table, i);
      const va = base + i * span;
      const problem = reservedBitsProblem(level, lo, hi, this.hiMask, true);
      if (problem !== undefined) {
        out.problems.push({ level, tablePa: table, index: i, va, lo, hi, reason: problem });
        continue;
      }
      if (level === 3 || (lo & PTE_PS) !== 0) {
        out.push(this.mapping(va, lo, hi, sizeAtLevel(level)));
        continue;
      }
      const next = entryAddress(lo, hi);
      if (next + PAGE_SIZE > this.memory.size) {
        out.problems.push({
          level,
          tablePa: table,
          index: i,
          va,
          lo,
          hi,
          reason: "points to a table outside memory",
        });
        continue;
      }
      this.auditTable(next, level + 1, va, out);
    }
  }

  private checkSlots(op: string, firstIndex: number, count: number): void {
    if (
      !Number.isInteger(firstIndex) ||
      !Number.isInteger(count) ||
      firstIndex < 0 ||
      count < 1 ||
      firstIndex + count > ENTRIES_PER_TABLE
    ) {
      throw new RangeError(`${op}: root slots ${String(firstIndex)}+${String(count)} are not inside 0..511`);
    }
  }

  /**
   * Creates empty PDPTs for root slots [firstIndex, firstIndex+count) that are not present, so
   * the slots can be shared with `shareRootEntries`; marks every PDPT in the range pinned.
   * Created entries get P, R/W and U/S=`user` (default true). Throws RangeError for bad slots.
   */
  preallocateRoot(firstIndex: number, count: number, options: { user?: boolean } = {}): void {
    this.alive("preallocateRoot");
    this.checkSlots("preallocateRoot", firstIndex, count);
    const flags = PTE_P | PTE_RW | ((options.user ?? true) ? PTE_US : 0);
    for (let i = firstIndex; i < firstIndex + count; i++) {
      let lo = this.lo(this.root, i);
      if ((lo & PTE_P) === 0) {
        const t = this.newTable(this);
        lo = (t | flags) >>> 0;
        this.set(this.root, i, lo, 0);
      }
      const info = this.registry.get(this.nextTable(this.root, i, 0, 0));
      if (info !== undefined) info.pinned = true;
    }
  }

  /**
   * Copies root entries [firstIndex, firstIndex+count) of `from` into this space, so both use
   * the same lower tables. `user: true` sets U/S in the copies, `false` clears it, undefined
   * copies as is. Throws RangeError for bad slots, Error when a source slot is not present
   * (preallocate it first) or a destination slot already points to a different table.
   */
  shareRootEntries(
    from: AddressSpace,
    firstIndex: number,
    count: number,
    options: { user?: boolean } = {},
  ): void {
    this.alive("shareRootEntries");
    this.checkSlots("shareRootEntries", firstIndex, count);
    if (from.memory !== this.memory) throw new Error("shareRootEntries: the spaces use different memories");
    for (let i = firstIndex; i < firstIndex + count; i++) {
      const lo = from.lo(from.root, i);
      const hi = from.hi(from.root, i);
      if ((lo & PTE_P) === 0) {
        throw new Error(
          `shareRootEntries: root slot ${i} of the source space is not present (call preallocateRoot first)`,
        );
      }
      const target = entryAddress(lo, hi);
      const mine = this.lo(this.root, i);
      if ((mine & PTE_P) !== 0 && entryAddress(mine, this.hi(this.root, i)) !== target) {
        throw new Error(`shareRootEntries: root slot ${i} already points to another table`);
      }
    }
    for (let i = firstIndex; i < firstIndex + count; i++) {
      let lo = from.lo(from.root, i);
      if (options.user === true) lo |= PTE_US;
      else if (options.user === false) lo &= ~PTE_US;
      this.set(this.root, i, lo >>> 0, from.hi(from.root, i));
      const info = this.registry.get(entryAddress(lo, from.hi(from.root, i)));
      if (info !== undefined) info.pinned = true;
    }
  }

  /**
   * Sets (true) or clears U/S of root entry `index`. Throws RangeError for a bad index and
   * Error when the entry is not present. The caller invalidates TLBs.
   */
  setRootEntryUser(index: number, user: boolean): void {
    this.alive("setRootEntryUser");
    this.checkSlots("setRootEntryUser", index, 1);
    const lo = this.lo(this.root, index);
    if ((lo & PTE_P) === 0) throw new Error(`setRootEntryUser: root slot ${index} is not present`);
    this.set(this.root, index, (user ? lo | PTE_US : lo & ~PTE_US) >>> 0, this.hi(this.root, index));
  }

  /**
   * Frees every table page this space owns (root, and tables created below it, including
   * pinned PDPTs; destroy spaces that share them first). Mapped frames and tables owned by
   * other spaces are left alone. Throws Error when called twice.
   */
  destroy(): void {
    this.alive("destroy");
    this.destroyed = true;
    for (const t of this.owned) {
      this.registry.delete(t);
      this.frames.free(t);
    }
    this.owned.clear();
  }
}
