import { FrameAllocator, PhysicalMemory } from "@side-kernel/paging";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FreedHistory } from "../src/heap.js";
import { DirectMapPages, Heap, KernelBug, PAGE_OFFSET } from "../src/index.js";

function makeHeap() {
  const memory = new PhysicalMemory(8 * 1024 * 1024);
  const frames = new FrameAllocator(memory, { base: 1024 * 1024 });
  return { heap: new Heap(new DirectMapPages(frames, memory.size), memory), frames, memory };
}

describe("Heap", () => {
  it("random alloc/free sequences never overlap live blocks and give every frame back", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 1, max: 9000 }), fc.constant(-1)), {
          minLength: 1,
          maxLength: 120,
        }),
        (ops) => {
          const { heap, frames } = makeHeap();
          const before = frames.usedFrames;
          const live: { va: number; size: number }[] = [];
          for (const op of ops) {
            if (op < 0 && live.length > 0) {
              const b = live.splice(live.length >> 1, 1)[0];
              heap.free(b.va, 1, "test");
            } else if (op > 0) {
              const va = heap.alloc(op, 1, false);
              expect(va).toBeGreaterThanOrEqual(PAGE_OFFSET);
              for (const b of live) expect(va + op <= b.va || b.va + b.size <= va).toBe(true);
              live.push({ va, size: op });
            }
          }
          for (const b of live) heap.free(b.va, 1, "test");
          heap.trim();
          expect(heap.stats.blocks).toBe(0);
          expect(frames.usedFrames).toBe(before);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("names double frees, interior pointers, foreign owners and wrong kinds", () => {
    const { heap } = makeHeap();
    const a = heap.alloc(40, 1, true);
    const b = heap.alloc(40, 1, true);
    heap.free(a, 1, "kfree");
    expect(() => heap.free(a, 1, "kfree")).toThrow(/kfree: double free/);
    expect(() => heap.free(b + 8, 1, "kfree")).toThrow(/inside a kmalloc-64 slab/);
    expect(() => heap.free(b, 2, "kfree")).toThrow(/belongs to driver #1, not driver #2/);
    expect(() => heap.free(b, 1, "kfree", "coherent")).toThrow(KernelBug);
    const run = heap.allocRun(5000, 1, "coherent");
    expect(run % 4096).toBe(0);
    expect(() => heap.free(run + 4096, 1, "dma_free_coherent", "coherent")).toThrow(/inside the block at/);
    heap.free(run, 1, "dma_free_coherent", "coherent");
    heap.free(b, 1, "kfree");
  });

  it("returns 0 when memory runs out", () => {
    const { heap } = makeHeap();
    expect(heap.alloc(64 * 1024 * 1024, 1, false)).toBe(0);
  });
});

describe("FreedHistory", () => {
  it("behaves as a Set trimmed to its capacity by deleting its oldest element", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 20 })), { maxLength: 300 }),
        (capacity, ops) => {
          const h = new FreedHistory(capacity);
          const model = new Set<number>();
          for (const [add, va] of ops) {
            if (add) {
              h.add(va);
              model.add(va);
              if (model.size > capacity) model.delete(model.values().next().value as number);
            } else {
              h.delete(va);
              model.delete(va);
            }
            expect(h.size).toBe(model.size);
          }
          for (let va = 0; va <= 20; va++) expect(h.has(va)).toBe(model.has(va));
        },
      ),
    );
  });

  it("matches the trimmed Set on 48-bit addresses past several table growths", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.tuple(fc.nat(9), fc.integer({ min: 0, max: 600 })), { maxLength: 2000 }),
        (capacity, ops) => {
          const addr = (n: number) => 0xffff_8880_0000_0000 / 2 ** 16 + n * 64;
          const h = new FreedHistory(capacity);
          const model = new Set<number>();
          for (const [op, n] of ops) {
            const va = addr(n);
            if (op < 6) {
              h.add(va);
              model.add(va);
              if (model.size > capacity) model.delete(model.values().next().value as number);
            } else {
              h.delete(va);
              model.delete(va);
            }
          }
          expect(h.size).toBe(model.size);
          for (let n = 0; n <= 600; n++) expect(h.has(addr(n))).toBe(model.has(addr(n)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("still names a double free after many reuses of the same addresses", () => {
    const { heap } = makeHeap();
    for (let i = 0; i < 5000; i++) heap.free(heap.alloc(64, 1, false), 1, "test");
    const va = heap.alloc(64, 1, false);
    heap.free(va, 1, "test");
    expect(() => heap.free(va, 1, "kfree")).toThrow(/double free/);
  });
});
