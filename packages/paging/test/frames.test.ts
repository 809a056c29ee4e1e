import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FrameAllocator, FrameAllocatorError, OutOfFramesError, PhysicalMemory } from "../src/index.js";

describe("FrameAllocator", () => {
  it("hands out distinct zeroed frames and counts them", () => {
    const m = new PhysicalMemory(16 * 4096);
    const f = new FrameAllocator(m, { base: 4096 });
    expect(f.totalFrames).toBe(15);
    const a = f.alloc();
    m.write32(a, 0xffffffff);
    f.free(a);
    const seen = new Set<number>();
    for (let i = 0; i < 15; i++) seen.add(f.alloc());
    expect(seen.size).toBe(15);
    expect(seen.has(0)).toBe(false);
    expect(m.read32(a)).toBe(0);
    expect(f.usedFrames).toBe(15);
    expect(f.freeFrames).toBe(0);
    expect(() => f.alloc()).toThrow(OutOfFramesError);
  });

  it("rejects double free and foreign or unaligned frames, naming the address", () => {
    const m = new PhysicalMemory(8 * 4096);
    const f = new FrameAllocator(m, { base: 4096 });
    const a = f.alloc();
    f.free(a);
    expect(() => f.free(a)).toThrow(`double free of frame 0x${a.toString(16)}`);
    expect(() => f.free(0)).toThrow(/not a frame of this allocator/);
    expect(() => f.free(a + 8)).toThrow(/not aligned/);
    expect(() => f.free(7 * 4096)).toThrow(/never allocated/);
    expect(f.usedFrames).toBe(0);
  });

  it("allocates aligned contiguous runs and frees them", () => {
    const m = new PhysicalMemory(4 * 1024 * 1024);
    const f = new FrameAllocator(m);
    f.alloc();
    const run = f.allocContiguous(512, 512);
    expect(run % (2 * 1024 * 1024)).toBe(0);
    expect(f.usedFrames).toBe(513);
    expect(() => f.allocContiguous(512, 512)).toThrow(OutOfFramesError);
    const small = f.allocContiguous(3);
    expect(small).toBe(4096);
    f.freeContiguous(run, 512);
    expect(f.usedFrames).toBe(4);
    expect(() => f.freeContiguous(run, 2)).toThrow(FrameAllocatorError);
    expect(() => f.allocContiguous(0)).toThrow(RangeError);
  });

  it("validates its range", () => {
    const m = new PhysicalMemory(8192);
    expect(() => new FrameAllocator(m, { base: 100 })).toThrow(RangeError);
    expect(() => new FrameAllocator(m, { limit: 16384 })).toThrow(/outside memory/);
  });

  /**
   * The allocation order is part of the contract (deterministic runs): the first frame not in
   * use at or after the frame after the last one alloc handed out, wrapping. The reference is
   * that rule as a plain scan; the allocator finds the frame through its bitmaps. Sizes cover
   * one bitmap word, several, and more than one summary word (32 * 32 frames).
   */
  it("hands out frames in the order of a plain rolling-cursor scan (fast-check)", () => {
    const opArb = fc.oneof(
      { weight: 4, arbitrary: fc.constant({ t: "alloc" as const, n: 0, k: 0 }) },
      {
        weight: 3,
        arbitrary: fc.record({ t: fc.constant("free" as const), n: fc.nat(), k: fc.constant(0) }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          t: fc.constant("run" as const),
          n: fc.integer({ min: 1, max: 40 }),
          k: fc.constantFrom(1, 2, 8, 32),
        }),
      },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(5, 32, 33, 100, 1025, 2100),
        fc.array(opArb, { maxLength: 300 }),
        (total, ops) => {
          const m = new PhysicalMemory(total * 4096);
          const f = new FrameAllocator(m);
          const inUse = new Uint8Array(total);
          const held: number[] = [];
          let cursor = 0;
          let used = 0;
          for (const o of ops) {
            if (o.t === "alloc") {
              if (used === total) {
                expect(() => f.alloc()).toThrow(OutOfFramesError);
                continue;
              }
              let i = cursor;
              while (inUse[i] === 1) i = (i + 1) % total;
              inUse[i] = 1;
              used++;
              cursor = (i + 1) % total;
              const pa = f.alloc();
              expect(pa).toBe(i * 4096);
              held.push(pa);
            } else if (o.t === "free" && held.length > 0) {
              const [pa] = held.splice(o.n % held.length, 1);
              f.free(pa);
              inUse[pa / 4096] = 0;
              used--;
            } else if (o.t === "run") {
              let start = -1;
              for (let i = 0; i + o.n <= total && start < 0; i += o.k) {
                if (inUse.subarray(i, i + o.n).every((v) => v === 0)) start = i;
              }
              if (start < 0) {
                expect(() => f.allocContiguous(o.n, o.k)).toThrow(OutOfFramesError);
                continue;
              }
              expect(f.allocContiguous(o.n, o.k)).toBe(start * 4096);
              inUse.fill(1, start, start + o.n);
              used += o.n;
              for (let i = 0; i < o.n; i++) held.push((start + i) * 4096);
            }
            expect(f.usedFrames).toBe(used);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("finds the one free frame among thousands in use, and wraps around to it", () => {
    const total = 5000;
    const f = new FrameAllocator(new PhysicalMemory(total * 4096));
    for (let i = 0; i < total; i++) f.alloc();
    f.free(17 * 4096);
    expect(f.alloc()).toBe(17 * 4096);
    f.free(4999 * 4096);
    f.free(3 * 4096);
    expect(f.alloc()).toBe(4999 * 4096);
    expect(f.alloc()).toBe(3 * 4096);
    expect(() => f.alloc()).toThrow(OutOfFramesError);
  });
});
