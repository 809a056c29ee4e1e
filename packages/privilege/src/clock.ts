/**
 * Simulated time. The CPU and the layers above charge busy cycles by category; devices and
 * timers move time forward with `idleUntil` (through the EventQueue). Elapsed time is kept in
 * cycles and in ns side by side so that an idle jump lands exactly on the requested ns and a
 * charge adds exactly the charged cycles.
 */

import { type CostModel, DEFAULT_COSTS, NS_PER_SECOND } from "./costs.js";

/** The categories the packages charge. Others are accepted too (any non-empty string). */
export const COST_CATEGORIES = [
  "driver", // driver code: its own memory accesses
  "kernel", // kernel code and kernel services
  "crossing", // ring and protection-domain crossings (syscall, int n, iret, CR3 writes)
  "tlb-miss", // page walks after TLB misses
  "mmio", // uncached MMIO reads and posted writes
  "copy", // data copies (bytes / copy bandwidth)
  "irq", // interrupt entry and exit
  "stack", // network stack processing per packet
  "exception", // exception delivery (faults)
  "check", // argument checks in the checked-call layer
  "recovery", // driver recovery steps
] as const;

/** One of the well-known categories. */
export type CostCategory = (typeof COST_CATEGORIES)[number];

/** What `chargeAccesses` reads from an MMU: its monotonically growing counters. */
export interface AccessCounters {
  /** Loads and stores made through the MMU (MMIO included or not: see `mmioInAccesses`). */
  readonly accesses: number;
  /** MMIO reads. */
  readonly mmioReads: number;
  /** MMIO writes. */
  readonly mmioWrites: number;
  /** The TLB; only `stats.misses` is read. */
  readonly tlb: { readonly stats: { readonly misses: number } };
}

/** Options of `new SimClock`. */
export interface SimClockOptions {
  /** Clock rate in Hz; default `costs.hz` (3 GHz with DEFAULT_COSTS). */
  hz?: number;
  /** Costs used by `chargeAccesses`; default DEFAULT_COSTS. */
  costs?: CostModel;
  /**
   * Whether the MMU counts MMIO accesses in `accesses` too (default true). When true,
   * `chargeAccesses` charges memory-access cost only for the non-MMIO accesses.
   */
  mmioInAccesses?: boolean;
}

const SNAPSHOT_FIELDS = 4;

/** Categories `charge` finds by comparison before its Map (see SimClock.cachedNames). */
const CATEGORY_CACHE = 16;

/**
 * A category of one clock resolved once (`SimClock.category`), so that a hot path charges it
 * with `chargeTo` without looking the name up: the same charge as `charge(name, cycles)`.
 */
export class ChargeCategory {
  /** The running total this handle adds to, once resolved in the clock's current epoch. */
  cell: { cycles: number } | null = null;
  /** The clock's reset epoch `cell` belongs to (-1: not resolved). */
  epoch = -1;

  /** Made by `SimClock.category`. */
  constructor(
    readonly clock: SimClock,
    readonly name: string,
  ) {}
}

/** Simulated time: busy cycles by category, idle jumps, utilization. */

export class SimClock {
  /** Clock rate in Hz. */
  readonly hz: number;
  /** Costs used by `chargeAccesses`. */
  readonly costs: CostModel;
  private readonly cyclesPerNs: number;
  private readonly mmioInAccesses: boolean;
  private elapsed = 0;
  private ns = 0;
  private busy = 0;
  /** Category -> its running total, in a mutable cell so a charge is one lookup and no allocation. */
  private totals = new Map<string, { cycles: number }>();
  /**
   * The first CATEGORY_CACHE categories charged and their cells, searched by comparison before
   * the Map: a handful of categories take nearly every charge, and comparing a few interned strings
   * costs less than hashing one.
   */
  private cachedNames: string[] = [];
  private cachedCells: { cycles: number }[] = [];
  private snapshots = new WeakMap<object, Float64Array>();
  /** Bumped by reset(): ChargeCategory handles resolved before it look their cell up again. */
  private epoch = 0;

  /** Creates a clock at time 0. Throws RangeError if `hz` is not a finite number > 0. */
  constructor(options: SimClockOptions = {}) {
    this.costs = options.costs ?? DEFAULT_COSTS;
    const hz = options.hz ?? this.costs.hz;
    if (typeof hz !== "number" || !Number.isFinite(hz) || hz <= 0) {
      throw new RangeError(`SimClock: hz must be a finite number > 0, got ${String(hz)}`);
    }
    this.hz = hz;
    this.cyclesPerNs = hz / NS_PER_SECOND;
    this.mmioInAccesses = options.mmioInAccesses ?? true;
  }

  /** Total elapsed cycles, busy and idle. */
  get cycles(): number {
    return this.elapsed;
  }

  /** Busy cycles (the sum of every charge). */
  get busyCycles(): number {
    return this.busy;
  }

  /** Current simulated time in ns. */
  get nowNs(): number {
    return this.ns;
  }

  /**
   * Charges `cycles` busy cycles to `category`: time advances and the category's total grows.
   * A charge of 0 is a no-op. Throws RangeError if `cycles` is negative or not finite, TypeError
   * if `category` is not a non-empty string.
   */
  charge(category: string, cycles: number): void {
    if (!(cycles >= 0) || cycles === Number.POSITIVE_INFINITY) {
      throw new RangeError(`SimClock.charge: cycles must be a finite number >= 0, got ${cycles}`);
    }
    if (typeof category !== "string" || category.length === 0) {
      throw new TypeError(`SimClock.charge: category must be a non-empty string, got ${String(category)}`);
    }
    if (cycles === 0) return;
    this.elapsed += cycles;
    this.busy += cycles;
    const ns = this.elapsed / this.cyclesPerNs;
    if (ns > this.ns) this.ns = ns;
    const names = this.cachedNames;
    let i = 0;
    while (i < names.length && names[i] !== category) i++;
    if (i < names.length) {
      this.cachedCells[i].cycles += cycles;
      return;
    }
    this.cellOf(category).cycles += cycles;
  }

  /**
   * A handle on `name` for `chargeTo` (the category is created at its first non-zero charge, as
   * with `charge`). Throws TypeError if `name` is not a non-empty string.
   */
  category(name: string): ChargeCategory {
    if (typeof name !== "string" || name.length === 0) {
      throw new TypeError(`SimClock.category: category must be a non-empty string, got ${String(name)}`);
    }
    return new ChargeCategory(this, name);
  }

  /**
   * `charge(category.name, cycles)` without looking the name up: the same time, busy cycles and
   * category total. Throws RangeError if `cycles` is negative or not finite, or if `category`
   * belongs to another clock.
   */
  chargeTo(category: ChargeCategory, cycles: number): void {
    // The hot path only: a positive finite charge through a handle of this clock, resolved in
    // this epoch. Everything else (0, bad arguments, first use) goes to chargeToOther, so that
    // this body stays small enough for the engines to inline it at each call site.
    const cell = category.cell;
    if (
      !(cycles > 0 && cycles < Number.POSITIVE_INFINITY) ||
      cell === null ||
      category.epoch !== this.epoch ||
      category.clock !== this
    ) {
      this.chargeToOther(category, cycles);
      return;
    }
    // The same four lines as in charge, on purpose: as a shared private method V8 did not
    // inline them, and the privilege bench's syscall+sysret pairs fell from 21 M/s to 15 M/s.
    this.elapsed += cycles;
    this.busy += cycles;
    const ns = this.elapsed / this.cyclesPerNs;
    if (ns > this.ns) this.ns = ns;
    cell.cycles += cycles;
  }

  /** `chargeTo` off its hot path: checks the arguments, resolves the handle, then charges. */
  private chargeToOther(category: ChargeCategory, cycles: number): void {
    if (!(cycles >= 0) || cycles === Number.POSITIVE_INFINITY) {
      throw new RangeError(`SimClock.chargeTo: cycles must be a finite number >= 0, got ${cycles}`);
    }
    if (category.clock !== this) {
      throw new RangeError(`SimClock.chargeTo: category "${category.name}" belongs to another clock`);
    }
    if (cycles === 0) return;
    category.cell = this.cellOf(category.name);
    category.epoch = this.epoch;
    this.chargeTo(category, cycles);
  }

  /** The running total of `category`, created (and remembered for `charge`) if new. */
  private cellOf(category: string): { cycles: number } {
    let cell = this.totals.get(category);
    if (cell === undefined) {
      cell = { cycles: 0 };
      this.totals.set(category, cell);
    }
    const names = this.cachedNames;
    if (names.length < CATEGORY_CACHE && !names.includes(category)) {
      names.push(category);
      this.cachedCells.push(cell);
    }
    return cell;
  }

  /**
   * Jumps time forward to `ns` without busy cycles (the CPU idles). A time at or before now is
   * a no-op: time never goes backward. Throws RangeError if `ns` is NaN.
   */
  idleUntil(ns: number): void {
    if (Number.isNaN(ns)) throw new RangeError("SimClock.idleUntil: ns is NaN");
    if (ns <= this.ns) return;
    if (ns === Number.POSITIVE_INFINITY) throw new RangeError("SimClock.idleUntil: ns is Infinity");
    this.ns = ns;
    this.elapsed = ns * this.cyclesPerNs;
  }

  /** Busy cycles per category, as a fresh plain object (category -> cycles). */
  byCategory(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of this.totals) out[k] = v.cycles;
    return out;
  }

  /** Busy cycles of one category (0 if never charged). */
  categoryCycles(category: string): number {
    return this.totals.get(category)?.cycles ?? 0;
  }

  /** Busy cycles over elapsed cycles, in [0, 1]; 0 before any time has passed. */
  utilization(): number {
    return this.elapsed === 0 ? 0 : this.busy / this.elapsed;
  }

  /** Returns the clock to time 0 with no charges, and forgets every MMU counter snapshot. */
  reset(): void {
    this.elapsed = 0;
    this.ns = 0;
    this.busy = 0;
    this.totals = new Map();
    this.cachedNames = [];
    this.cachedCells = [];
    this.snapshots = new WeakMap();
    this.epoch++;
  }

  /**
   * Charges the growth of an MMU's counters since the previous call for that MMU (the first
   * call charges everything counted so far): non-MMIO accesses x memoryAccess to `category`,
   * TLB misses x pageWalk to "tlb-miss", MMIO reads x mmioRead and writes x mmioWrite to
   * "mmio". Keeps the MMU's hot path free of callbacks. Returns the cycles charged.
   * Throws TypeError if `mmu` lacks the counters.
   */
  chargeAccesses(mmu: AccessCounters, category: string): number {
    let snap = this.snapshots.get(mmu);
    if (snap === undefined) {
      if (typeof mmu?.accesses !== "number" || typeof mmu.tlb?.stats?.misses !== "number") {
        throw new TypeError("SimClock.chargeAccesses: mmu has no accesses / tlb.stats.misses counters");
      }
      snap = new Float64Array(SNAPSHOT_FIELDS);
      this.snapshots.set(mmu, snap);
    }
    const accesses = mmu.accesses - snap[0];
    const misses = mmu.tlb.stats.misses - snap[1];
    const reads = mmu.mmioReads - snap[2];
    const writes = mmu.mmioWrites - snap[3];
    snap[0] = mmu.accesses;
    snap[1] = mmu.tlb.stats.misses;
    snap[2] = mmu.mmioReads;
    snap[3] = mmu.mmioWrites;
    const c = this.costs;
    const memory = this.mmioInAccesses ? accesses - reads - writes : accesses;
    const memCycles = memory > 0 ? memory * c.memoryAccess : 0;
    const walkCycles = misses > 0 ? misses * c.pageWalk : 0;
    const mmioCycles = (reads > 0 ? reads * c.mmioRead : 0) + (writes > 0 ? writes * c.mmioWrite : 0);
    this.charge(category, memCycles);
    // a charge of 0 to a well-known category does nothing: skip the call
    if (walkCycles !== 0) this.charge("tlb-miss", walkCycles);
    if (mmioCycles !== 0) this.charge("mmio", mmioCycles);
    return memCycles + walkCycles + mmioCycles;
  }
}
