/**
 * The kernel heap: size classes for small blocks (slabs of one page each, as SLUB's kmalloc-N
 * caches) and page runs for large ones. It sits over a `PageSource`: the kernel's heap takes
 * physically contiguous frames seen through the direct map; a driver domain's private pool
 * (isolated mode) takes pages mapped in the domain's own region. Every block has an owner (0 =
 * the kernel, else a driver instance id) and a kind, so that freeing twice, freeing what is not
 * a block, freeing someone else's block or freeing with the wrong service is a precise
 * `KernelBug`.
 */
import { AddrMap } from "@side-kernel/kservice";
import { hexAddr, KernelBug } from "./errors.js";
import { FREED_HISTORY, KMALLOC_MIN, KMALLOC_SLAB_MAX } from "./limits.js";

const PAGE = 4096;
/** PAGE - 1: the offset bits of an address in its page. */
const PAGE_MASK = PAGE - 1;

/**
 * Start of the page holding `va` (a non-negative integer below 2^53): ToUint32 keeps va modulo
 * 2^32, which PAGE divides, so the low bits are va % PAGE without a floating-point modulo.
 */
function pageOf(va: number): number {
  return va - ((va >>> 0) & PAGE_MASK);
}

/** Where a heap gets its pages. */
export interface PageSource {
  /** `count` zeroed, physically contiguous pages; returns the first linear address, or 0 when out of memory. */
  allocPages(count: number): number;
  /** Give back pages obtained from allocPages (same first address and count). */
  freePages(va: number, count: number): void;
  /** Physical address of linear address `va` inside pages handed out by this source. */
  physical(va: number): number;
  /** True if `va` lies in the linear range this source hands out. */
  contains(va: number): boolean;
}

/** Memory the heap zeroes blocks in (PhysicalMemory satisfies it). */
export interface ZeroableMemory {
  fill(pa: number, length: number, byte: number): void;
}

/** Kinds of block; freeing with the service of another kind is a bug. */
export type BlockKind = "kmalloc" | "coherent" | "skb" | "kernel";

/** One live block. */
export interface HeapBlock {
  readonly va: number;
  /** Bytes asked for. */
  readonly size: number;
  /** Bytes reserved (the size class, or whole pages). */
  readonly capacity: number;
  readonly kind: BlockKind;
  readonly owner: number;
  /** Pages of a page run; 0 for a slab block. */
  readonly pages: number;
}

interface Slab {
  readonly va: number;
  readonly blockSize: number;
  readonly classIndex: number;
  readonly free: number[];
  inUse: number;
  /** Empty and kept for reuse (counted in Heap.emptyKept). */
  kept: boolean;
}

/** Figures for tests and reports. */
export interface HeapStats {
  blocks: number;
  bytesInUse: number;
  slabPages: number;
  runPages: number;
}

/** Marks a free slot of the FreedHistory table (no address is negative). */
const EMPTY = -1;
/** Smallest FreedHistory table, in slots (a power of two). */
const MIN_SLOTS = 16;
/** 2^32, to split an address into its high and low 32 bits. */
const TWO_32 = 4294967296;

/**
 * The last `capacity` distinct addresses freed and not handed out again (oldest evicted first),
 * to tell a double free from a wild free. The same behaviour as a Set trimmed by deleting its
 * oldest element, but O(1) amortized: a Set's delete-oldest (`values().next()`) rescans the
 * holes earlier deletions left at its front, which made every free of a busy heap slow.
 *
 * Addresses and their sequence numbers sit side by side in one Float64Array (open addressing,
 * linear probing, backward-shift deletion): a full history is a table of megabytes that every
 * free and allocation probes at a random place, so a lookup touches one cache line, not two.
 */
export class FreedHistory {
  /** [address, sequence number of its live queue entry] per slot; address EMPTY when free. */
  private table = new Float64Array(2 * MIN_SLOTS).fill(EMPTY);
  private mask = MIN_SLOTS - 1;
  private shift = 32 - Math.log2(MIN_SLOTS);
  private count = 0;
  /** Insertion queue [head, length): addresses and sequence numbers; stale entries are skipped. */
  private addrs: number[] = [];
  private seqs: number[] = [];
  private head = 0;
  private nextSeq = 0;

  /** Remembers at most `capacity` addresses (a positive integer). */
  constructor(readonly capacity: number) {}

  /** Addresses remembered. */
  get size(): number {
    return this.count;
  }

  /** True if `va` was freed and not handed out again (and is still remembered). */
  has(va: number): boolean {
    return this.find(va) >= 0;
  }

  /**
   * Remember `va` as freed (no-op if remembered); forgets the oldest past `capacity`. Throws
   * RangeError for an address that is not a non-negative integer below 2^53.
   */
  add(va: number): void {
    if (!Number.isSafeInteger(va) || va < 0) {
      throw new RangeError(`FreedHistory.add: ${String(va)} is not a non-negative integer address`);
    }
    const t = this.table;
    const mask = this.mask;
    let i = this.home(va);
    for (;;) {
      const k = t[2 * i];
      if (k === va) return;
      if (k === EMPTY) break;
      i = (i + 1) & mask;
    }
    const seq = this.nextSeq++;
    t[2 * i] = va;
    t[2 * i + 1] = seq;
    if (++this.count * 2 > mask + 1) this.grow();
    this.addrs.push(va);
    this.seqs.push(seq);
    if (this.count > this.capacity) this.evictOldest();
    if (this.addrs.length - this.head > 2 * this.capacity) this.compact();
  }

  /** Forget `va` (it was handed out again). */
  delete(va: number): void {
    const i = this.find(va);
    if (i >= 0) this.removeSlot(i);
  }

  /** Home slot of `key` (Fibonacci hashing of both 32-bit halves). */
  private home(key: number): number {
    const lo = key >>> 0;
    const hi = (key / TWO_32) | 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** Slot holding `key`, or -1. */
  private find(key: number): number {
    if (!(key >= 0)) return -1;
    const t = this.table;
    const mask = this.mask;
    let i = this.home(key);
    for (;;) {
      const k = t[2 * i];
      if (k === key) return i;
      if (k === EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }

  /** Empty slot `i`, pulling later entries of its probe run into the hole. */
  private removeSlot(i: number): void {
    const t = this.table;
    const mask = this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = t[2 * j];
      if (k === EMPTY) break;
      const h = this.home(k);
      // the entry at j may move to i unless its home lies cyclically in (i, j]
      const stays = i <= j ? i < h && h <= j : i < h || h <= j;
      if (!stays) {
        t[2 * i] = k;
        t[2 * i + 1] = t[2 * j + 1];
        i = j;
      }
    }
    t[2 * i] = EMPTY;
    this.count--;
  }

  private grow(): void {
    const old = this.table;
    const slots = old.length; // twice the old slot count
    this.table = new Float64Array(2 * slots).fill(EMPTY);
    this.mask = slots - 1;
    this.shift = 32 - Math.log2(slots);
    const t = this.table;
    for (let s = 0; s < old.length; s += 2) {
      const k = old[s];
      if (k === EMPTY) continue;
      let i = this.home(k);
      while (t[2 * i] !== EMPTY) i = (i + 1) & this.mask;
      t[2 * i] = k;
      t[2 * i + 1] = old[s + 1];
    }
  }

  /** Sequence number of `va`'s live entry, or -1. */
  private seqOf(va: number): number {
    const i = this.find(va);
    return i < 0 ? -1 : this.table[2 * i + 1];
  }

  private evictOldest(): void {
    const addrs = this.addrs;
    const seqs = this.seqs;
    for (;;) {
      const va = addrs[this.head];
      const seq = seqs[this.head];
      this.head++;
      const i = this.find(va);
      if (i >= 0 && this.table[2 * i + 1] === seq) {
        this.removeSlot(i);
        return;
      }
    }
  }

  /** Drop consumed and stale queue entries (at most `capacity` live ones stay). */
  private compact(): void {
    const addrs: number[] = [];
    const seqs: number[] = [];
    for (let i = this.head; i < this.addrs.length; i++) {
      const va = this.addrs[i];
      const seq = this.seqs[i];
      if (this.seqOf(va) === seq) {
        addrs.push(va);
        seqs.push(seq);
      }
    }
    this.addrs = addrs;
    this.seqs = seqs;
    this.head = 0;
  }
}

/** Size classes 16, 32, ... KMALLOC_SLAB_MAX. */
const CLASSES: number[] = [];
for (let s = KMALLOC_MIN; s <= KMALLOC_SLAB_MAX; s *= 2) CLASSES.push(s);

/** log2(KMALLOC_MIN): class i holds blocks of 2^(i + MIN_SHIFT) bytes. */
const MIN_SHIFT = Math.log2(KMALLOC_MIN);

/** Size class index of a positive integer `size`, or -1 above KMALLOC_SLAB_MAX. */
function classOf(size: number): number {
  if (size > KMALLOC_SLAB_MAX) return -1;
  if (size <= KMALLOC_MIN) return 0;
  // smallest power of two >= size is 2^(32 - clz32(size - 1))
  return 32 - Math.clz32(size - 1) - MIN_SHIFT;
}

/** The allocator. One per kernel, and later one per driver domain pool. */
export class Heap {
  private readonly blocks = new AddrMap<HeapBlock>();
  private readonly slabs = new AddrMap<Slab>();
  private readonly partial: Slab[][] = CLASSES.map(() => []);
  /** Empty slabs kept per class (at most one, as SLUB keeps a slab for the next allocation). */
  private readonly emptyKept: number[] = CLASSES.map(() => 0);
  private readonly freed = new FreedHistory(FREED_HISTORY);
  private bytes = 0;
  private runPages = 0;

  /**
   * `source` supplies pages, `memory` is where blocks are zeroed, `ownerName` names an owner
   * id in error messages.
   */
  constructor(
    readonly source: PageSource,
    private readonly memory: ZeroableMemory,
    private readonly ownerName: (owner: number) => string = (o) => (o === 0 ? "the kernel" : `driver #${o}`),
  ) {}

  /**
   * Allocate `size` bytes for `owner`. Blocks up to KMALLOC_SLAB_MAX come from slabs (aligned
   * to their size class), larger ones are whole pages. `zero` clears the block. Returns the
   * linear address, or 0 when out of memory. Throws RangeError for a size that is not a
   * positive integer.
   */
  alloc(size: number, owner: number, zero: boolean, kind: BlockKind = "kmalloc"): number {
    if (!Number.isInteger(size) || size <= 0)
      throw new RangeError(`Heap.alloc: size ${String(size)} is not a positive integer`);
    const c = classOf(size);
    if (c < 0) return this.allocRun(size, owner, kind);
    const list = this.partial[c];
    let slab = list[list.length - 1];
    if (slab === undefined) {
      const va = this.source.allocPages(1);
      if (va === 0) return 0;
      const blockSize = CLASSES[c];
      const free: number[] = [];
      for (let off = PAGE - blockSize; off >= 0; off -= blockSize) free.push(va + off);
      slab = { va, blockSize, classIndex: c, free, inUse: 0, kept: false };
      this.slabs.set(va, slab);
      list.push(slab);
    }
    const va = slab.free.pop()!;
    if (slab.inUse++ === 0 && slab.kept) {
      slab.kept = false;
      this.emptyKept[c]--;
    }
    if (slab.free.length === 0) list.pop();
    if (zero) this.memory.fill(this.source.physical(va), slab.blockSize, 0);
    this.record({ va, size, capacity: slab.blockSize, kind, owner, pages: 0 });
    return va;
  }

  /**
   * Allocate whole pages (page-aligned, physically contiguous, zeroed) for `owner`: large
   * kmallocs and DMA-coherent buffers. Returns the linear address or 0 when out of memory.
   */
  allocRun(size: number, owner: number, kind: BlockKind): number {
    if (!Number.isInteger(size) || size <= 0)
      throw new RangeError(`Heap.allocRun: size ${String(size)} is not a positive integer`);
    const pages = Math.ceil(size / PAGE);
    const va = this.source.allocPages(pages);
    if (va === 0) return 0;
    this.runPages += pages;
    this.record({ va, size, capacity: pages * PAGE, kind, owner, pages });
    return va;
  }

  private record(block: HeapBlock): void {
    this.blocks.set(block.va, block);
    this.freed.delete(block.va);
    this.bytes += block.capacity;
  }

  /**
   * Free the block at `va` on behalf of `owner` through `service`, expecting `kind`. Returns the
   * freed block. Throws KernelBug naming the address when it was already freed, is not the
   * start of a block, belongs to another owner, or is of another kind.
   */
  free(va: number, owner: number, service: string, kind: BlockKind = "kmalloc"): HeapBlock {
    const block = this.blocks.get(va);
    if (block === undefined) {
      if (this.freed.has(va)) throw new KernelBug(service, va, `double free of ${hexAddr(va)}`);
      throw new KernelBug(service, va, `${hexAddr(va)} is not an allocated block (${this.describe(va)})`);
    }
    if (block.owner !== owner) {
      throw new KernelBug(
        service,
        va,
        `block ${hexAddr(va)} belongs to ${this.ownerName(block.owner)}, not ${this.ownerName(owner)}`,
      );
    }
    if (block.kind !== kind) {
      throw new KernelBug(service, va, `block ${hexAddr(va)} is a ${block.kind} block, not ${kind}`);
    }
    this.release(block);
    return block;
  }

  private release(block: HeapBlock): void {
    this.blocks.delete(block.va);
    this.bytes -= block.capacity;
    this.freed.add(block.va);
    if (block.pages > 0) {
      this.runPages -= block.pages;
      this.source.freePages(block.va, block.pages);
      return;
    }
    const slab = this.slabs.get(pageOf(block.va))!;
    if (slab.free.length === 0) this.partial[slab.classIndex].push(slab);
    slab.free.push(block.va);
    slab.inUse--;
    if (slab.inUse === 0) {
      // keep one empty slab per class (as SLUB keeps a partial slab); `trim` gives it back
      if (this.emptyKept[slab.classIndex] >= 1) this.dropSlab(slab);
      else {
        slab.kept = true;
        this.emptyKept[slab.classIndex]++;
      }
    }
  }

  private dropSlab(slab: Slab): void {
    const list = this.partial[slab.classIndex];
    list.splice(list.indexOf(slab), 1);
    this.slabs.delete(slab.va);
    this.source.freePages(slab.va, 1);
  }

  /** Give every empty slab's page back to the page source; returns how many pages. */
  trim(): number {
    let n = 0;
    for (const list of this.partial) {
      for (const slab of [...list]) {
        if (slab.inUse === 0) {
          this.dropSlab(slab);
          if (slab.kept) this.emptyKept[slab.classIndex]--;
          n++;
        }
      }
    }
    return n;
  }

  private describe(va: number): string {
    const slab = this.slabs.get(va - (va % PAGE));
    if (slab !== undefined) return `inside a kmalloc-${slab.blockSize} slab, not at a live block's start`;
    for (const b of this.blocks.values()) {
      if (b.pages > 0 && va > b.va && va < b.va + b.capacity) return `inside the block at ${hexAddr(b.va)}`;
    }
    return this.source.contains(va) ? "no block here" : "not a heap address";
  }

  /** The live block starting at `va`, if any. */
  lookup(va: number): HeapBlock | undefined {
    return this.blocks.get(va);
  }

  /** Every live block of `owner` (for cleanup after a driver fault and for leak reports). */
  blocksOf(owner: number): HeapBlock[] {
    const out: HeapBlock[] = [];
    for (const b of this.blocks.values()) if (b.owner === owner) out.push(b);
    return out;
  }

  /** Free every block of `owner` regardless of kind; returns how many. */
  freeAllOf(owner: number): number {
    const list = this.blocksOf(owner);
    for (const b of list) this.release(b);
    return list.length;
  }

  /** Current figures. */
  get stats(): HeapStats {
    return {
      blocks: this.blocks.size,
      bytesInUse: this.bytes,
      slabPages: this.slabs.size,
      runPages: this.runPages,
    };
  }
}
