/**
 * Physical frame allocator (a bitmap over 4 KiB frames, like xv6's kalloc but with
 * contiguous runs and precise misuse errors).
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

/**
 * Hands out 4 KiB physical frames of `memory` in [base, limit), zeroed on allocation.
 * Allocation is lowest-address-first from a rolling cursor, so runs are deterministic.
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
  }

  /** Frames currently handed out. */
  get usedFrames(): number {
    return this.used;
  }

  /** Frames currently free. */
  get freeFrames(): number {
    return this.totalFrames - this.used;
  }

  /** Returns the physical address of a zeroed 4 KiB frame. Throws OutOfFramesError when none is free. */
  alloc(): number {
    const n = this.totalFrames;
    if (this.used === n) throw new OutOfFramesError(`out of frames: all ${n} frames are in use`);
    let i = this.cursor;
    while (this.state[i] === IN_USE) {
      i++;
      if (i === n) i = 0;
    }
    this.state[i] = IN_USE;
    this.used++;
    this.cursor = i + 1 === n ? 0 : i + 1;
    const pa = this.base + i * PAGE_SIZE;
    this.memory.u8.fill(0, pa, pa + PAGE_SIZE);
    return pa;
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
