// Smoke test of the BUILT package under node, bun and deno: plain JS, throws on failure.
import { AddressSpace, FrameAllocator, Mmu, PAGE_SIZE, PageFault, PhysicalMemory } from "@side-kernel/paging";

const memory = new PhysicalMemory(4 * 1024 * 1024);
const frames = new FrameAllocator(memory);
const space = new AddressSpace(memory, frames);
const mmu = new Mmu(memory);
const kernelVa = 0x8000_0000_0000;
const frame = frames.alloc();
space.map(kernelVa, frame, PAGE_SIZE, { writable: true });
mmu.writeCr3(space.root);
mmu.store32(kernelVa + 8, 0xcafe);
if (mmu.load32(kernelVa + 8) !== 0xcafe || memory.read32(frame + 8) !== 0xcafe)
  throw new Error("load/store mismatch");
mmu.cpl = 3;
let code = -1;
try {
  mmu.load32(kernelVa);
} catch (e) {
  if (!(e instanceof PageFault)) throw e;
  code = e.errorCode;
}
if (code !== 0x5) throw new Error(`expected #PF 0x5, got ${code}`);
console.log("paging ok");
