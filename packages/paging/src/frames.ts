/**
 * Physical frame allocator (a state byte per 4 KiB frame, like xv6's kalloc but with
 * contiguous runs and precise misuse errors). `alloc` finds the next free frame through a
 * two-level bitmap of free frames (a bit per frame, and a bit per 32-frame word that has a free
 * frame), so it skips 1024 used frames per summary word it reads instead of scanning them
 * one by one (at most 64 words for 256 MiB of frames all in use).
 */
import { formatPhysical, PAGE_SIZE } from "./layout.js";
import type { PhysicalMemory } from "./memory.js";

/** Thrown by `FrameAllocator.alloc` / `allocContiguous` when no (suitable) free frames remain. */
export class OutOfFramesError extends Error {
  override name = "OutOfFramesError";
}

/** Thrown on a misuse of `FrameAllocator.free` / `freeContiguous`: double free, foreign or unaligned address. */
export class FrameAllocatorError extends Error {
  override name = "FrameAllocatorError";
}

/** Options of `FrameAllocator`: the physical range [base, limit) it manages (page aligned). */
export interface FrameAllocatorOptions {
  base?: number;
  limit?: number;
}

const NEVER_ALLOCATED = 0;
const IN_USE = 1;
const FREED = 2;

/** Frames per bitmap word (a Uint32Array element). */
const WORD_BITS = 32;
const WORD_SHIFT = 5;
const BIT_MASK = 31;

/** Index of the lowest set bit of a non-zero 32-bit value. */
function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * Hands out 4 KiB physical frames of `memory` in [base, limit), zeroed on allocation.
 * Allocation is lowest-address-first from a rolling cursor, so runs are deterministic;
 * `alloc` and `free` touch a few bitmap words (see the module comment), not every used frame.
 */
export class FrameAllocator {
  /** The memory the frames belong to. */
  readonly memory: PhysicalMemory;
  /** First managed physical address. */
  readonly base: number;
  /** End (exclusive) of the managed physical range. */
  readonly limit: number;
  /** Number of managed frames. */
  readonly totalFrames: number;
  private readonly state: Uint8Array;
  /** Bit i set: frame i is not in use (state NEVER_ALLOCATED or FREED). */
  private readonly freeBits: Uint32Array;
  /** Bit w set: freeBits[w] is not 0. */
  private readonly freeWords: Uint32Array;
  private used = 0;
  private cursor = 0;

  /**
   * Manages [base, limit) of `memory`. Throws RangeError if the range is not page aligned,
   * empty, or outside memory.
   */
  constructor(memory: PhysicalMemory, options: FrameAllocatorOptions = {}) {
    const base = options.base ?? 0;
    const limit = options.limit ?? memory.size;
    if (
      !Number.isInteger(base) ||
      !Number.isInteger(limit) ||
      base % PAGE_SIZE !== 0 ||
      limit % PAGE_SIZE !== 0
    ) {
      throw new RangeError(
        `frame range [${formatPhysical(base)}, ${formatPhysical(limit)}) must be integers aligned to ${PAGE_SIZE}`,
      );
    }
    if (base < 0 || limit <= base || limit > memory.size) {
      throw new RangeError(
        `frame range [${formatPhysical(base)}, ${formatPhysical(limit)}) is empty or outside memory of ${formatPhysical(memory.size)} bytes`,
      );
    }
    this.memory = memory;
    this.base = base;
    this.limit = limit;
    this.totalFrames = (limit - base) / PAGE_SIZE;
    this.state = new Uint8Array(this.totalFrames);
    const words = Math.ceil(this.totalFrames / WORD_BITS);
    this.freeBits = new Uint32Array(words);
    this.freeWords = new Uint32Array(Math.ceil(words / WORD_BITS));
    this.markFree(0, this.totalFrames);
  }

  /** Frames currently handed out. */
  get usedFrames(): number {
    return this.used;
  }

  /** Frames currently free. */
  get freeFrames(): number {
    return this.totalFrames - this.used;
  }

  /**
   * Returns the physical address of a zeroed 4 KiB frame: the first frame not in use at or
   * after the one following the last frame `alloc` handed out, wrapping to the start.
   * Throws OutOfFramesError when none is free.
   */
  alloc(): number {
    const n = this.totalFrames;
    if (this.used === n) throw new OutOfFramesError(`out of frames: all ${n} frames are in use`);
    let i = this.nextFree(this.cursor);
    if (i < 0) i = this.nextFree(0);
    this.state[i] = IN_USE;
    this.markUsed(i, i + 1);
    this.used++;
    this.cursor = i + 1 === n ? 0 : i + 1;
    const pa = this.base + i * PAGE_SIZE;
    this.memory.u8.fill(0, pa, pa + PAGE_SIZE);
    return pa;
  }

  /** Index of the first frame not in use at or after `from`, or -1 if there is none. */
  private nextFree(from: number): number {
    const bits = this.freeBits;
    let w = from >>> WORD_SHIFT;
    if (w >= bits.length) return -1;
    const here = bits[w] & (0xffffffff << (from & BIT_MASK));
    if (here !== 0) return (w << WORD_SHIFT) + lowestBit(here);
    // The next word with a free frame, through the summary.
    w++;
    const words = this.freeWords;
    let s = w >>> WORD_SHIFT;
    if (s >= words.length) return -1;
    let summary = words[s] & (0xffffffff << (w & BIT_MASK));
    while (summary === 0) {
      s++;
      if (s === words.length) return -1;
      summary = words[s];
    }
    w = (s << WORD_SHIFT) + lowestBit(summary);
    return (w << WORD_SHIFT) + lowestBit(bits[w]);
  }

  /** Clears the free bits of frames [from, to). */
  private markUsed(from: number, to: number): void {
    const bits = this.freeBits;
    for (let i = from; i < to; i++) {
      const w = i >>> WORD_SHIFT;
      bits[w] &= ~(1 << (i & BIT_MASK));
      if (bits[w] === 0) this.freeWords[w >>> WORD_SHIFT] &= ~(1 << (w & BIT_MASK));
    }
  }

  /** Sets the free bits of frames [from, to). */
  private markFree(from: number, to: number): void {
    const bits = this.freeBits;
    for (let i = from; i < to; i++) {
      const w = i >>> WORD_SHIFT;
      bits[w] |= 1 << (i & BIT_MASK);
      this.freeWords[w >>> WORD_SHIFT] |= 1 << (w & BIT_MASK);
    }
  }

  /**
   * Returns the physical address of `count` zeroed, physically contiguous frames whose first
   * frame number (physical address / 4096) is a multiple of `alignFrames` (e.g. 512, 512 for
   * a 2 MiB page). Throws RangeError for bad arguments and OutOfFramesError when no such run is free.
   */
  allocContiguous(count: number, alignFrames = 1): number {
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(alignFrames) || alignFrames < 1) {
      throw new RangeError(
        `allocContiguous(${String(count)}, ${String(alignFrames)}): count and alignFrames must be positive integers`,
      );
    }
    const firstFrame = this.base / PAGE_SIZE;
    let i = (alignFrames - (firstFrame % alignFrames)) % alignFrames;
    while (i + count <= this.totalFrames) {
      let j = 0;
      while (j < count && this.state[i + j] !== IN_USE) j++;
      if (j === count) {
        this.state.fill(IN_USE, i, i + count);
        this.markUsed(i, i + count);
        this.used += count;
        const pa = this.base + i * PAGE_SIZE;
        this.memory.u8.fill(0, pa, pa + count * PAGE_SIZE);
        return pa;
      }
      // Skip past the used frame, to the next aligned start.
      const next = i + j + 1;
      i = next + ((alignFrames - ((firstFrame + next) % alignFrames)) % alignFrames);
    }
    throw new OutOfFramesError(
      `out of frames: no free run of ${count} frames aligned to ${alignFrames} frames (${this.freeFrames} frames free)`,
    );
  }

  /** Returns frame `pa` to the allocator. Throws FrameAllocatorError on double free, a foreign or unaligned address. */
  free(pa: number): void {
    const i = this.indexOf(pa);
    this.release(i, pa);
    this.markFree(i, i + 1);
    this.used--;
  }

  /**
   * Returns `count` contiguous frames starting at `pa`. All must be in use; nothing is freed
   * otherwise. Throws FrameAllocatorError naming the first bad frame.
   */
  freeContiguous(pa: number, count: number): void {
    if (!Number.isInteger(count) || count < 1) {
      throw new FrameAllocatorError(`freeContiguous count ${String(count)} must be a positive integer`);
    }
    const first = this.indexOf(pa);
    if (first + count > this.totalFrames) {
      throw new FrameAllocatorError(
        `freeContiguous(${formatPhysical(pa)}, ${count}) runs past the managed range ending at ${formatPhysical(this.limit)}`,
      );
    }
    for (let k = 0; k < count; k++) {
      if (this.state[first + k] !== IN_USE) this.release(first + k, pa + k * PAGE_SIZE);
    }
    this.state.fill(FREED, first, first + count);
    this.markFree(first, first + count);
    this.used -= count;
  }

  /** True when frame `pa` is currently handed out. Never throws (false for foreign addresses). */
  isAllocated(pa: number): boolean {
    const off = pa - this.base;
    if (!Number.isInteger(pa) || off < 0 || pa >= this.limit || off % PAGE_SIZE !== 0) return false;
    return this.state[off / PAGE_SIZE] === IN_USE;
  }

  private indexOf(pa: number): number {
    if (!Number.isInteger(pa) || pa < this.base || pa >= this.limit) {
      throw new FrameAllocatorError(
        `free of ${formatPhysical(pa)}: not a frame of this allocator [${formatPhysical(this.base)}, ${formatPhysical(this.limit)})`,
      );
    }
    if ((pa - this.base) % PAGE_SIZE !== 0) {
      throw new FrameAllocatorError(`free of ${formatPhysical(pa)}: not aligned to ${PAGE_SIZE}`);
    }
    return (pa - this.base) / PAGE_SIZE;
  }

  /** Marks frame i freed; throws if it is not in use. Does not touch `used`. */
  private release(i: number, pa: number): void {
    const s = this.state[i];
    if (s === FREED) throw new FrameAllocatorError(`double free of frame ${formatPhysical(pa)}`);
    if (s === NEVER_ALLOCATED)
      throw new FrameAllocatorError(`free of frame ${formatPhysical(pa)}, which was never allocated`);
    this.state[i] = FREED;
  }
}
