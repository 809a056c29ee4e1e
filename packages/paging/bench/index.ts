/**
 * Benchmarks of @side-kernel/paging (tinybench). `npm run bench -w @side-kernel/paging -- --json`
 * prints one JSON object of named figures and nothing else on stdout.
 *
 * Loads are measured in loops of LOADS_PER_ITERATION per task iteration, so call overhead of
 * the harness is amortised, and reported per load.
 *
 * All tasks run in this one process, and tinybench warms every task up before measuring any,
 * so the TLB-hit loops are measured after the TLB-miss loop has driven the same accessors
 * through their slow path (as mixed kernel code does): a hit path that only stays fast when
 * no miss was ever seen would show here. The raw and hit loops consume loads identically.
 *
 * Rates use the median (p50) time of an iteration, not the mean: this machine is shared
 * (2 cores, other builds running), and a mean is dominated by the iterations during which
 * another process held the core.
 */
import { Bench } from "tinybench";
import {
  AddressSpace,
  CR4_PAE,
  CR4_PCIDE,
  CR4_PGE,
  FrameAllocator,
  Mmu,
  PAGE_SIZE,
  PhysicalMemory,
} from "../src/index.js";

const LOADS_PER_ITERATION = 1_000_000;
/** Pages touched by the TLB-hit loop: within the fast path and the L1 dTLB. */
const HOT_PAGES = 16;
/** Pages touched by the TLB-miss loop: more than the STLB holds (1536) so every load walks. */
const MISS_PAGES = 4096;

const json = process.argv.includes("--json");

const memory = new PhysicalMemory(64 * 1024 * 1024);
const frames = new FrameAllocator(memory);
const space = new AddressSpace(memory, frames);
const mmu = new Mmu(memory);
/** First linear address of the kernel half (prints as 0xffff800000000000). */
const base = 0x8000_0000_0000;
const dataPa = frames.allocContiguous(HOT_PAGES);
space.mapRange(base, dataPa, HOT_PAGES * PAGE_SIZE, { writable: true });
const missBase = base + 2 ** 30;
const missPa = frames.allocContiguous(16);
for (let p = 0; p < MISS_PAGES; p++) {
  space.map(missBase + p * PAGE_SIZE, missPa + (p % 16) * PAGE_SIZE, PAGE_SIZE, { writable: true });
}
mmu.writeCr3(space.root);
const HOT_MASK = HOT_PAGES * PAGE_SIZE - 1;
/**
 * Every hot word holds a value >= 2^31, so the loops' `s +=` sums are floating-point from their
 * first call: V8 never sees a small-integer sum overflow later, which otherwise deoptimised the
 * loops at random points and made both the raw and the hit figures bimodal (measured 116M vs
 * 617M raw loads/s between runs of the same code).
 */
for (let o = 0; o < HOT_PAGES * PAGE_SIZE; o += 4) mmu.store32(base + o, 0x8000_0000 + o);

/** loadPtr reads pointers from their own pages, so the store loop does not overwrite them. */
const PTR_PAGES = 4;
/** Fast-path slots HOT_PAGES.. (no collision with the hot pages in the direct-mapped fast path). */
const ptrBase = base + 2 ** 29 + HOT_PAGES * PAGE_SIZE;
space.mapRange(ptrBase, frames.allocContiguous(PTR_PAGES), PTR_PAGES * PAGE_SIZE, { writable: true });
const PTR_MASK = PTR_PAGES * PAGE_SIZE - 1;
for (let o = 0; o < PTR_PAGES * PAGE_SIZE; o += 8) mmu.storePtr(ptrBase + o, base + o);

const raw = memory.u32;
const rawBaseWord = dataPa >>> 2;
let sink = 0;

function tlbHitLoop(): void {
  let s = 0;
  for (let i = 0; i < LOADS_PER_ITERATION; i++) s += mmu.load32(base + ((i * 4 * 97) & HOT_MASK));
  sink += s;
}

function tlbHitStoreLoop(): void {
  for (let i = 0; i < LOADS_PER_ITERATION; i++) mmu.store32(base + ((i * 4 * 97) & HOT_MASK), i);
}

/** loadPtr over pointers stored by storePtr (8-aligned, canonical kernel-half values). */
function tlbHitPtrLoop(): void {
  let s = 0;
  for (let i = 0; i < LOADS_PER_ITERATION; i++) s += mmu.loadPtr(ptrBase + ((i * 8 * 97) & PTR_MASK));
  sink += s;
}

function rawLoop(): void {
  let s = 0;
  for (let i = 0; i < LOADS_PER_ITERATION; i++) s += raw[rawBaseWord + (((i * 4 * 97) & HOT_MASK) >>> 2)];
  sink += s;
}

const MISS_LOADS = 20_000;
function tlbMissLoop(): void {
  let s = 0;
  for (let i = 0; i < MISS_LOADS; i++) s += mmu.load32(missBase + ((i * 1031) % MISS_PAGES) * PAGE_SIZE + 64);
  sink += s;
}

/**
 * A kernel call as the SIDE driver domain makes it: CPL 3 -> 0 -> 3 with a load on each side.
 * Each CPL change selects the other privilege context's fast path, whose entry is still there.
 */
const userPa = frames.alloc();
const userVa = 0x4000_0000;
space.map(userVa, userPa, PAGE_SIZE, { writable: true, user: true });
const ROUND_TRIPS = 100_000;
function cplRoundTripLoop(): void {
  let s = 0;
  for (let i = 0; i < ROUND_TRIPS; i++) {
    mmu.cpl = 3;
    s += mmu.load32(userVa + ((i * 4) & 0xfff));
    mmu.cpl = 0;
    s += mmu.load32(base + ((i * 4) & HOT_MASK));
  }
  mmu.cpl = 0;
  sink += s;
}

const MAP_PAGES = 256;
const mapSpace = new AddressSpace(memory, frames);
let mapRound = 0;
function mapUnmapLoop(): void {
  const va = 0x4000_0000 + (mapRound++ % 64) * 2 ** 30;
  for (let p = 0; p < MAP_PAGES; p++) mapSpace.map(va + p * PAGE_SIZE, dataPa, PAGE_SIZE, { writable: true });
  for (let p = 0; p < MAP_PAGES; p++) mapSpace.unmap(va + p * PAGE_SIZE);
}

const WALKS = 10_000;
function walkLoop(): void {
  for (let i = 0; i < WALKS; i++) {
    mmu.tlb.flushAll();
    sink += mmu.translate(base + (i % HOT_PAGES) * PAGE_SIZE, 0);
  }
}

/**
 * Address-space switches as SIDE's isolated mode makes them on every protection-domain
 * crossing: two spaces share the kernel half (WARM_PAGES global kernel pages, all cached, so
 * the TLB holds a few hundred entries), each has a private non-global page at the same
 * address. A switch is a MOV CR3 followed by LOADS_PER_SWITCH loads: two of kernel pages
 * (global: still in the fast path after the switch) and one of the private page (a walk after a
 * flushing switch, a TLB hit after a no-flush PCID switch).
 */
const WARM_PAGES = 384;
const SWITCHES = 20_000;
const kernelSlot = 256;
const privateVa = 0x1000_0000;
/** First address of PML4 slot kernelSlot + 1 (each slot covers 2^39 bytes). */
const switchKernelBase = 0x8000_0000_0000 + 2 ** 39;
function switchRig(cr4: number): { mmu: Mmu; roots: number[] } {
  const a = new AddressSpace(memory, frames);
  const b = new AddressSpace(memory, frames);
  a.preallocateRoot(kernelSlot + 1, 1);
  const kernelPa = frames.allocContiguous(16);
  for (let p = 0; p < WARM_PAGES; p++) {
    a.map(switchKernelBase + p * PAGE_SIZE, kernelPa + (p % 16) * PAGE_SIZE, PAGE_SIZE, {
      writable: true,
      global: true,
    });
  }
  b.shareRootEntries(a, kernelSlot + 1, 1);
  a.map(privateVa, frames.alloc(), PAGE_SIZE, { writable: true });
  b.map(privateVa, frames.alloc(), PAGE_SIZE, { writable: true });
  const m = new Mmu(memory);
  m.writeCr4(cr4);
  m.writeCr3(a.root);
  for (let p = 0; p < WARM_PAGES; p++) m.load32(switchKernelBase + p * PAGE_SIZE);
  return { mmu: m, roots: [a.root, b.root] };
}
const flushRig = switchRig(CR4_PAE | CR4_PGE);
const pcidRig = switchRig(CR4_PAE | CR4_PGE | CR4_PCIDE);

function cr3FlushSwitchLoop(): void {
  const m = flushRig.mmu;
  const roots = flushRig.roots;
  let s = 0;
  for (let i = 0; i < SWITCHES; i++) {
    m.writeCr3(roots[i & 1]);
    s += m.load32(switchKernelBase + ((i * 7) % WARM_PAGES) * PAGE_SIZE);
    s += m.load32(switchKernelBase + ((i * 13 + 5) % WARM_PAGES) * PAGE_SIZE + 64);
    s += m.load32(privateVa + ((i * 4) & 0xfff));
  }
  sink += s;
}

function pcidNoFlushSwitchLoop(): void {
  const m = pcidRig.mmu;
  const roots = pcidRig.roots;
  let s = 0;
  for (let i = 0; i < SWITCHES; i++) {
    const k = i & 1;
    m.writeCr3(roots[k] | (k + 1), true);
    s += m.load32(switchKernelBase + ((i * 7) % WARM_PAGES) * PAGE_SIZE);
    s += m.load32(switchKernelBase + ((i * 13 + 5) % WARM_PAGES) * PAGE_SIZE + 64);
    s += m.load32(privateVa + ((i * 4) & 0xfff));
  }
  sink += s;
}

async function main(): Promise<void> {
  const bench = new Bench({ time: 1500, warmupTime: 300 });
  bench
    .add("raw typed-array load", rawLoop)
    .add("Mmu.load32, TLB hit", tlbHitLoop)
    .add("Mmu.store32, TLB hit", tlbHitStoreLoop)
    .add("Mmu.loadPtr, TLB hit", tlbHitPtrLoop)
    .add("Mmu.load32, TLB miss", tlbMissLoop)
    .add("CPL 3 -> 0 -> 3 round trip", cplRoundTripLoop)
    .add("walk after flush", walkLoop)
    .add("MOV CR3 flushing switch + 3 loads", cr3FlushSwitchLoop)
    .add("MOV CR3 PCID no-flush switch + 3 loads", pcidNoFlushSwitchLoop)
    .add("map+unmap 4 KiB", mapUnmapLoop);
  await bench.run();
  const perSec = (name: string, ops: number): number => {
    const t = bench.getTask(name)?.result;
    if (t === undefined || !("latency" in t)) throw new Error(`benchmark ${name} did not run`);
    return (ops * 1000) / t.latency.p50;
  };
  const rawRate = perSec("raw typed-array load", LOADS_PER_ITERATION);
  const hitRate = perSec("Mmu.load32, TLB hit", LOADS_PER_ITERATION);
  const result = {
    rawTypedArrayLoadsPerSec: Math.round(rawRate),
    tlbHitLoadsPerSec: Math.round(hitRate),
    tlbHitStoresPerSec: Math.round(perSec("Mmu.store32, TLB hit", LOADS_PER_ITERATION)),
    tlbHitPtrLoadsPerSec: Math.round(perSec("Mmu.loadPtr, TLB hit", LOADS_PER_ITERATION)),
    tlbMissLoadsPerSec: Math.round(perSec("Mmu.load32, TLB miss", MISS_LOADS)),
    tlbHitVsRawRatio: Number((rawRate / hitRate).toFixed(2)),
    cplRoundTripsPerSec: Math.round(perSec("CPL 3 -> 0 -> 3 round trip", ROUND_TRIPS)),
    walksPerSec: Math.round(perSec("walk after flush", WALKS)),
    cr3FlushSwitchesPerSec: Math.round(perSec("MOV CR3 flushing switch + 3 loads", SWITCHES)),
    pcidNoFlushSwitchesPerSec: Math.round(perSec("MOV CR3 PCID no-flush switch + 3 loads", SWITCHES)),
    map4kPlusUnmapPerSec: Math.round(perSec("map+unmap 4 KiB", MAP_PAGES)),
    loadsPerIteration: LOADS_PER_ITERATION,
    node: process.version,
  };
  if (sink === 0.5) console.error("unreachable");
  if (json) console.log(JSON.stringify(result));
  else console.table(result);
}

void main();
