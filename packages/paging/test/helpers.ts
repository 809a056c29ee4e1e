import { expect } from "vitest";
import { AddressSpace, FrameAllocator, Mmu, PhysicalMemory } from "../src/index.js";

/**
 * Runs `body` and fails if the allocator's used-frame count differs afterwards (the leak
 * check xv6's usertests does for free pages).
 */
export function expectNoFrameLeak<T>(frames: FrameAllocator, body: () => T): T {
  const before = frames.usedFrames;
  const result = body();
  expect(frames.usedFrames, "frames used after the test body").toBe(before);
  return result;
}

/** A small machine: 16 MiB of memory, an allocator, one address space loaded in a fresh Mmu. */
export function machine(size = 16 * 1024 * 1024) {
  const memory = new PhysicalMemory(size);
  const frames = new FrameAllocator(memory);
  const space = new AddressSpace(memory, frames);
  const mmu = new Mmu(memory);
  mmu.writeCr3(space.root);
  return { memory, frames, space, mmu };
}

/** First linear address of the kernel half (prints as 0xffff800000000000). */
export const KERNEL = 0x8000_0000_0000;
