/**
 * Linear-address bookkeeping: `VirtualRegion` hands out page ranges of a linear region (the
 * vmalloc/ioremap space, a driver domain's region), and `DirectMapPages` is the kernel heap's
 * page source: contiguous frames seen through the direct map.
 */
import { type FrameAllocator, OutOfFramesError } from "@side-kernel/paging";
import { hexAddr, KernelBug } from "./errors.js";
import type { PageSource } from "./heap.js";
import { PAGE_OFFSET } from "./layout.js";

const PAGE = 4096;

/** First-fit allocator of page ranges inside [start, start + size). */
export class VirtualRegion {
  /** Free ranges [va, pages], sorted by address, coalesced. */
  private readonly holes: { va: number; pages: number }[];
  private readonly used = new Map<number, number>();

  /** `start` and `size` must be page-aligned; throws RangeError otherwise. */
  constructor(
    readonly name: string,
    readonly start: number,
    readonly size: number,
  ) {
    if (start % PAGE !== 0 || size % PAGE !== 0 || size <= 0) {
      throw new RangeError(
        `VirtualRegion ${name}: start ${hexAddr(start)} and size ${size} must be page-aligned`,
      );
    }
    this.holes = [{ va: start, pages: size / PAGE }];
  }

  /** Reserve `pages` pages; returns the first address, or 0 when the region is full. */
  alloc(pages: number): number {
    for (let i = 0; i < this.holes.length; i++) {
      const h = this.holes[i];
      if (h.pages < pages) continue;
      const va = h.va;
      h.va += pages * PAGE;
      h.pages -= pages;
      if (h.pages === 0) this.holes.splice(i, 1);
      this.used.set(va, pages);
      return va;
    }
    return 0;
  }

  /** Return a range from `alloc`; returns its page count. Throws KernelBug for an unknown start. */
  free(va: number, service: string): number {
    const pages = this.used.get(va);
    if (pages === undefined)
      throw new KernelBug(service, va, `${hexAddr(va)} is not an area of ${this.name}`);
    this.used.delete(va);
    let i = 0;
    while (i < this.holes.length && this.holes[i].va < va) i++;
    this.holes.splice(i, 0, { va, pages });
    // coalesce with the next and the previous hole
    const h = this.holes[i];
    const next = this.holes[i + 1];
    if (next !== undefined && h.va + h.pages * PAGE === next.va) {
      h.pages += next.pages;
      this.holes.splice(i + 1, 1);
    }
    const prev = this.holes[i - 1];
    if (prev !== undefined && prev.va + prev.pages * PAGE === h.va) {
      prev.pages += h.pages;
      this.holes.splice(i, 1);
    }
    return pages;
  }

  /** Pages of the area starting at `va`, or undefined. */
  areaPages(va: number): number | undefined {
    return this.used.get(va);
  }

  /** True if `va` lies in the region. */
  contains(va: number): boolean {
    return va >= this.start && va < this.start + this.size;
  }

  /** Number of live areas. */
  get areas(): number {
    return this.used.size;
  }
}

/** The kernel heap's pages: contiguous frames, addressed through the direct map. */
export class DirectMapPages implements PageSource {
  constructor(
    private readonly frames: FrameAllocator,
    private readonly memorySize: number,
  ) {}

  /** See PageSource.allocPages; 0 when no run of `count` frames is free. */
  allocPages(count: number): number {
    try {
      const pa = count === 1 ? this.frames.alloc() : this.frames.allocContiguous(count);
      return PAGE_OFFSET + pa;
    } catch (e) {
      if (e instanceof OutOfFramesError) return 0;
      throw e;
    }
  }

  /** See PageSource.freePages. */
  freePages(va: number, count: number): void {
    if (count === 1) this.frames.free(va - PAGE_OFFSET);
    else this.frames.freeContiguous(va - PAGE_OFFSET, count);
  }

  /** Physical address of a direct-map address. */
  physical(va: number): number {
    return va - PAGE_OFFSET;
  }

  /** True for direct-map addresses of RAM. */
  contains(va: number): boolean {
    return va >= PAGE_OFFSET && va < PAGE_OFFSET + this.memorySize;
  }
}
