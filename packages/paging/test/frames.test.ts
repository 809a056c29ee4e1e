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
});
