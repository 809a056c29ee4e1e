/**
 * The cycle cost model: one flat object of named costs that the CPU, the clock and the layers
 * above charge. Every default cites its source; hardware.md section 2 is the project's table of
 * published figures (/work/shared/reference/hardware.md). Where no published figure exists the
 * comment says "estimate" and why. Every field is an option: pass overrides to `makeCostModel`.
 *
 * The default clock rate is 3 GHz (DEFAULT_HZ), close to the 2.4-3.6 GHz parts the figures were
 * measured on; costs quoted in nanoseconds are converted at the model's `hz`.
 */

/** Default simulated clock rate: 3 GHz. */
export const DEFAULT_HZ = 3e9;

/** Nanoseconds per second. */
export const NS_PER_SECOND = 1e9;

/**
 * Uncached MMIO read latency, in ns: ~850 ns for a full CPU -> PCIe endpoint -> CPU round trip
 * on an i7-4771 with a PCIe Gen3 x8 FPGA endpoint (hackingnasdaq.blogspot.com/2014/05/
 * pcie-latency.html). Reads of a real NIC's BAR have been measured far slower (>= 5 us, Xeon E5
 * with an Intel 10G NIC, stackoverflow.com/questions/17770823), so this is a low estimate.
 */
export const MMIO_READ_NS = 850;

/** Every named cost, in cycles (or bytes per cycle for copy bandwidth), and the clock rate. */
export interface CostModel {
  /** Simulated clock rate in Hz; used to turn ns figures (MMIO read) into cycles. */
  readonly hz: number;
  /** Extra cycles for an access that hits the TLB: 0 (hardware.md 2, suggested defaults). */
  readonly tlbHit: number;
  /**
   * A page walk on a TLB miss when the walk hits the page-walk caches: ~30 cycles, from the
   * ~10 ns per-access penalty at 4 KiB stride (hardware.md 2, notes.elimelt.com TLB benchmark).
   */
  readonly pageWalk: number;
  /** One memory access by driver or kernel code: 1 cycle, an L1 hit (estimate; hardware.md 2 has none). */
  readonly memoryAccess: number;
  /**
   * Ring 3 -> 0 exception entry through an IDT gate: ~440 cycles, timestamped in entry_64.S on
   * a Xeon E5 v3 (hardware.md 2, lastweek.io/notes/xperf).
   */
  readonly exceptionEntry: number;
  /** External interrupt entry: the same IDT gate mechanism as an exception, ~440 (lastweek.io). */
  readonly interruptEntry: number;
  /** Software INT n entry: a full IDT gate walk like an exception (hardware.md 3.4), ~440 (lastweek.io). */
  readonly intNEntry: number;
  /** Return through IRETQ, kernel -> user: ~270 cycles (hardware.md 2, lastweek.io). */
  readonly iret: number;
  /**
   * SYSCALL: ~70 cycles. uarch-bench issue #34 (Skylake) saw 41-69 cycles of a getpid() round
   * trip visible to a user-only counter, i.e. the instruction edges; we take the upper end for
   * each direction (estimate within a published bracket, hardware.md 2).
   */
  readonly syscall: number;
  /** SYSRET: ~70 cycles, the same bracket as `syscall` (uarch-bench issue #34). */
  readonly sysret: number;
  /**
   * SYSENTER: ~210 cycles. A 32-bit sysenter getpid() cost 432 cycles on stock Linux vs 12 in
   * Kernel-Mode Linux (Linux Journal article 6516, hardware.md 2): ~420 for the round trip,
   * split evenly between the two directions (estimate).
   */
  readonly sysenter: number;
  /** SYSEXIT: ~210 cycles, the other half of the 420-cycle round trip (Linux Journal 6516). */
  readonly sysexit: number;
  /**
   * MOV to CR3 with PCID and NOFLUSH: ~100 cycles. pti.rst puts a CR3 write "on the order of a
   * hundred cycles" (hardware.md 2).
   */
  readonly cr3Write: number;
  /**
   * MOV to CR3 that flushes the (non-global) TLB: ~133 cycles; a no-flush PCID write measured
   * ~25% faster (rust-osdev/x86_64 PR #472, hardware.md 2), so 100 / 0.75. The refill cost is
   * not in here: it appears later as TLB misses (`pageWalk`).
   */
  readonly cr3WriteFlush: number;
  /** Uncached MMIO read: MMIO_READ_NS (~850 ns) at `hz`, 2550 cycles at 3 GHz. */
  readonly mmioRead: number;
  /**
   * Posted MMIO write: ~100 cycles. The store retires without waiting for the device (PCIe
   * memory writes are posted, PCIe base spec 2.4.1); the cost is the UC store draining from
   * the core, of the order of a DRAM access (estimate; no published figure in hardware.md).
   */
  readonly mmioWrite: number;
  /**
   * Copy bandwidth in bytes per cycle: 4. memcpy reached 26 GB/s counting read+write, i.e.
   * ~13 GB/s copied, on an i7-6700HQ at ~3 GHz (stackoverflow.com/questions/43343231).
   */
  readonly copyBytesPerCycle: number;
  /**
   * One argument check in the checked-call layer: ~10 cycles for a load, two compares and a
   * branch (estimate; SIDE's paper gives no per-check figure, hardware.md 7).
   */
  readonly argCheck: number;
}

/** The default cost model (3 GHz). Frozen: derive variants with `makeCostModel`. */
export const DEFAULT_COSTS: CostModel = Object.freeze({
  hz: DEFAULT_HZ,
  tlbHit: 0,
  pageWalk: 30,
  memoryAccess: 1,
  exceptionEntry: 440,
  interruptEntry: 440,
  intNEntry: 440,
  iret: 270,
  syscall: 70,
  sysret: 70,
  sysenter: 210,
  sysexit: 210,
  cr3Write: 100,
  cr3WriteFlush: 133,
  mmioRead: (MMIO_READ_NS * DEFAULT_HZ) / NS_PER_SECOND,
  mmioWrite: 100,
  copyBytesPerCycle: 4,
  argCheck: 10,
});

const COST_KEYS = Object.keys(DEFAULT_COSTS) as (keyof CostModel)[];

/**
 * Builds a cost model from DEFAULT_COSTS and `overrides`. When `hz` changes and `mmioRead` is
 * not given, the MMIO read cost is recomputed from MMIO_READ_NS at the new rate.
 * Returns a new frozen object.
 * Throws TypeError for an unknown key, RangeError for a cost that is not a finite number >= 0,
 * or for `hz` / `copyBytesPerCycle` <= 0.
 */
export function makeCostModel(overrides: Partial<CostModel> = {}): CostModel {
  const out: Record<string, number> = { ...DEFAULT_COSTS };
  for (const key of Object.keys(overrides)) {
    if (!(COST_KEYS as string[]).includes(key)) {
      throw new TypeError(`makeCostModel: unknown cost "${key}" (known: ${COST_KEYS.join(", ")})`);
    }
    const v = (overrides as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`makeCostModel: cost "${key}" must be a finite number >= 0, got ${String(v)}`);
    }
    out[key] = v;
  }
  if (out.hz <= 0) throw new RangeError(`makeCostModel: hz must be > 0, got ${out.hz}`);
  if (out.copyBytesPerCycle <= 0) {
    throw new RangeError(`makeCostModel: copyBytesPerCycle must be > 0, got ${out.copyBytesPerCycle}`);
  }
  if (overrides.hz !== undefined && overrides.mmioRead === undefined) {
    out.mmioRead = (MMIO_READ_NS * out.hz) / NS_PER_SECOND;
  }
  return Object.freeze(out) as unknown as CostModel;
}

/** Cycles to copy `bytes` bytes under `costs` (bytes / copyBytesPerCycle, rounded up). */
export function copyCycles(costs: CostModel, bytes: number): number {
  return Math.ceil(bytes / costs.copyBytesPerCycle);
}
