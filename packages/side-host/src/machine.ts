/**
 * The simulated machine: physical memory and frames, an MMU whose MMIO goes to the PCI bus, a
 * CPU whose port I/O goes to the bus, a clock and event queue, an interrupt controller, a PCI
 * bus with QEMU's e1000 at 00:03.0, firmware-style enumeration, and a wire from the NIC to a
 * peer. `run` is the machine's main loop; a booted kernel attaches its hooks to it.
 */

import {
  E1000,
  Link,
  Loopback,
  type NetClient,
  type PcapWriter,
  Sink,
  TrafficGenerator,
  type TrafficOptions,
} from "@side-kernel/net-nic";
import { FrameAllocator, Mmu, PhysicalMemory } from "@side-kernel/paging";
import {
  type AccessSize,
  type EnumeratedFunction,
  enumerate,
  PciBus,
  type PciFunction,
} from "@side-kernel/pci";
import {
  type AccessCounters,
  type ChargeCategory,
  type CostModel,
  Cpu,
  EventQueue,
  makeCostModel,
  SimClock,
} from "@side-kernel/privilege";
import { Livelock } from "./errors.js";
import { InterruptController } from "./irqchip.js";
import { DEFAULT_MEMORY_SIZE, LIVELOCK_STEPS, LOW_MEMORY_RESERVED } from "./limits.js";

/** PCI device number of the NIC on bus 0: QEMU puts the first `-device e1000` at 00:03.0. */
export const NIC_PCI_DEVICE = 3;

/** What is plugged into the far end of the NIC's wire. */
export type PeerKind = "sink" | "loopback" | "generator" | "none";

/** Options of `new Machine`. */
export interface MachineOptions {
  /** Physical memory in bytes (default 256 MiB; a multiple of 2 MiB). */
  memorySize?: number;
  /** Cost-model overrides (default: privilege's DEFAULT_COSTS). */
  costs?: Partial<CostModel>;
  /** The NIC's MAC address (default QEMU's 52:54:00:12:34:56). */
  mac?: string;
  /** The link peer (default "sink"). */
  peer?: PeerKind;
  /** Options of the TrafficGenerator when `peer` is "generator" (default: 64-byte frames, count 0). */
  traffic?: Omit<TrafficOptions, "scheduler">;
  /** Wire speed in bit/s (default 1 Gbit/s). */
  bitsPerSecond?: number;
  /** Capture every frame on the wire. */
  capture?: PcapWriter;
}

/** Options of `Machine.run`. */
export interface RunOptions {
  /** Stop when simulated time reaches this (ns). */
  untilNs?: number;
  /** Stop as soon as this returns true (checked before every step). */
  until?: () => boolean;
  /** Stop after this many device/timer events. */
  maxEvents?: number;
}

/** Why `run` returned, and what it did. */
export interface RunResult {
  readonly reason: "until" | "time" | "idle" | "max-events";
  /** Events run. */
  readonly events: number;
  /** Simulated time at return (ns). */
  readonly nowNs: number;
}

/** What a kernel plugs into the run loop; each returns true if it did something. */
export interface RunHooks {
  /** Deliver pending unmasked interrupts if RFLAGS.IF = 1. */
  deliverInterrupts(): boolean;
  /** Run pending softirqs (timers, NET_RX / NAPI, NET_TX). */
  runSoftirqs(): boolean;
  /** Run one runnable work item. */
  runWork(): boolean;
}

/**
 * The machine's clock: a SimClock whose `chargeAccesses` for the machine's own MMU keeps the
 * counter snapshot in fields (no WeakMap lookup) and reads the TLB's miss count alone
 * (`tlb.misses`, not the whole `tlb.stats` refresh). Same charges in the same order with the same values as
 * SimClock.chargeAccesses (MMIO counted in accesses, the default); every caller, whatever its
 * package, goes through it, so there is one snapshot. Other MMUs go to SimClock's own.
 */
class MachineClock extends SimClock {
  private ownMmu: Mmu | null = null;
  private snapAccesses = 0;
  private snapMisses = 0;
  private snapReads = 0;
  private snapWrites = 0;

  /** Take over the snapshot of `mmu` (before its first chargeAccesses). */
  own(mmu: Mmu): void {
    this.ownMmu = mmu;
  }

  private readonly tlbMissCategory = this.category("tlb-miss");
  private readonly mmioCategory = this.category("mmio");

  override chargeAccesses(mmu: AccessCounters, category: string): number {
    if (mmu !== this.ownMmu) return super.chargeAccesses(mmu, category);
    return this.chargeOwn(category);
  }

  /**
   * `chargeAccesses(own MMU, category.name)` through a category handle (no name lookup): the
   * same charges. Throws like chargeAccesses; Error if no MMU is owned yet.
   */
  chargeOwnAccesses(category: ChargeCategory): number {
    if (this.ownMmu === null) throw new Error("MachineClock.chargeOwnAccesses: no MMU owned");
    if (category.clock !== this) {
      throw new RangeError(
        `MachineClock.chargeOwnAccesses: category "${category.name}" belongs to another clock`,
      );
    }
    return this.chargeOwn(category);
  }

  private chargeOwn(category: string | ChargeCategory): number {
    const mmu = this.ownMmu as Mmu;
    const nowAccesses = mmu.accesses;
    const nowMisses = mmu.tlb.misses; // = tlb.stats.misses, without refreshing the other stats
    const nowReads = mmu.mmioReads;
    const nowWrites = mmu.mmioWrites;
    const accesses = nowAccesses - this.snapAccesses;
    const misses = nowMisses - this.snapMisses;
    const reads = nowReads - this.snapReads;
    const writes = nowWrites - this.snapWrites;
    if (accesses === 0 && misses === 0 && reads === 0 && writes === 0) {
      // charges nothing; validates `category` as SimClock does
      if (typeof category === "string") this.charge(category, 0);
      return 0;
    }
    this.snapAccesses = nowAccesses;
    this.snapMisses = nowMisses;
    this.snapReads = nowReads;
    this.snapWrites = nowWrites;
    const c = this.costs;
    const memory = accesses - reads - writes;
    const memCycles = memory > 0 ? memory * c.memoryAccess : 0;
    const walkCycles = misses > 0 ? misses * c.pageWalk : 0;
    const mmioCycles = (reads > 0 ? reads * c.mmioRead : 0) + (writes > 0 ? writes * c.mmioWrite : 0);
    if (typeof category === "string") this.charge(category, memCycles);
    else this.chargeTo(category, memCycles);
    // a charge of 0 does nothing: skip the call
    if (walkCycles !== 0) this.chargeTo(this.tlbMissCategory, walkCycles);
    if (mmioCycles !== 0) this.chargeTo(this.mmioCategory, mmioCycles);
    return memCycles + walkCycles + mmioCycles;
  }

  override reset(): void {
    super.reset();
    this.snapAccesses = 0;
    this.snapMisses = 0;
    this.snapReads = 0;
    this.snapWrites = 0;
  }
}

/** The hardware. */
export class Machine {
  readonly memory: PhysicalMemory;
  readonly frames: FrameAllocator;
  readonly clock: SimClock;
  /** The same clock, with its own-MMU charging (MachineClock). */
  private readonly machineClock: MachineClock;
  readonly events: EventQueue;
  readonly irqs: InterruptController;
  readonly bus: PciBus;
  readonly mmu: Mmu;
  readonly cpu: Cpu;
  readonly nic: E1000;
  readonly nicFunction: PciFunction;
  readonly link: Link;
  /** The far end of the wire (null for "none"). */
  readonly peer: NetClient | null;
  /** The peer as a Sink when it is one. */
  readonly sink: Sink | null;
  /** The peer as a TrafficGenerator when it is one. */
  readonly generator: TrafficGenerator | null;
  /** What firmware enumeration found on bus 0, with BARs assigned and IRQs routed. */
  readonly pciFunctions: readonly EnumeratedFunction[];
  private hooks: RunHooks | null = null;

  /**
   * Builds and powers on the machine and enumerates PCI. Throws RangeError for a memory size
   * that is not a positive multiple of 2 MiB, and whatever the parts throw for bad options.
   */
  constructor(options: MachineOptions = {}) {
    const size = options.memorySize ?? DEFAULT_MEMORY_SIZE;
    if (!Number.isInteger(size) || size <= LOW_MEMORY_RESERVED || size % (2 * 1024 * 1024) !== 0) {
      throw new RangeError(`Machine: memorySize ${String(size)} is not a multiple of 2 MiB above 1 MiB`);
    }
    this.memory = new PhysicalMemory(size);
    this.frames = new FrameAllocator(this.memory, { base: LOW_MEMORY_RESERVED });
    const costs = makeCostModel(options.costs ?? {});
    const clock = new MachineClock({ costs, mmioInAccesses: true });
    this.clock = clock;
    this.machineClock = clock;
    this.events = new EventQueue(this.clock);
    this.irqs = new InterruptController();
    const bus = new PciBus({ memory: this.memory, interrupts: this.irqs });
    this.bus = bus;
    this.mmu = new Mmu(this.memory, {
      mmio: {
        read: (pa: number, sz: number) => bus.mmioRead(pa, sz as AccessSize),
        write: (pa: number, sz: number, v: number) => bus.mmioWrite(pa, sz as AccessSize, v),
      },
    });
    clock.own(this.mmu);
    this.cpu = new Cpu({
      mmu: this.mmu,
      clock: this.clock,
      costs,
      io: {
        read: (port: number, sz: number) => bus.ioRead(port, sz as AccessSize),
        write: (port: number, sz: number, v: number) => bus.ioWrite(port, sz as AccessSize, v),
      },
    });
    this.nic = new E1000({ scheduler: this.events, mac: options.mac });
    this.nicFunction = bus.plug({ device: NIC_PCI_DEVICE }, this.nic);
    this.link = new Link(this.events, { bitsPerSecond: options.bitsPerSecond, capture: options.capture });
    const kind = options.peer ?? "sink";
    this.sink = kind === "sink" ? new Sink({ scheduler: this.events }) : null;
    this.generator =
      kind === "generator"
        ? new TrafficGenerator({ count: 0, ...options.traffic, scheduler: this.events })
        : null;
    this.peer = this.sink ?? this.generator ?? (kind === "loopback" ? new Loopback() : null);
    if (this.peer !== null) this.link.connect(this.nic, this.peer);
    this.pciFunctions = enumerate(bus);
  }

  /**
   * Charge the MMU's accesses since the last charge to `category` (`clock.chargeAccesses(mmu,
   * category)`; see MachineClock). Returns the cycles charged.
   */
  chargeAccesses(category: string): number {
    return this.clock.chargeAccesses(this.mmu, category);
  }

  /**
   * `chargeAccesses(category.name)` through a handle from `clock.category(name)` (no name
   * lookup on the hot path): the same charges. Returns the cycles charged; throws RangeError
   * for a handle of another clock.
   */
  chargeAccessesTo(category: ChargeCategory): number {
    return this.machineClock.chargeOwnAccesses(category);
  }

  /** The enumerated function at bus:device.fn, or undefined. */
  pciFunction(bus: number, device: number, fn = 0): EnumeratedFunction | undefined {
    return this.pciFunctions.find((f) => f.bus === bus && f.device === device && f.fn === fn);
  }

  /** A kernel attaches its run-loop hooks (null detaches). Throws Error if another kernel is attached. */
  attach(hooks: RunHooks | null): void {
    if (hooks !== null && this.hooks !== null) throw new Error("Machine.attach: a kernel is already running");
    this.hooks = hooks;
  }

  /** True while a kernel is attached. */
  get booted(): boolean {
    return this.hooks !== null;
  }

  /**
   * The main loop. Repeatedly: run due events; deliver pending interrupts (if IF = 1); run
   * pending softirqs; run one work item; and when none of that had anything to do, idle the
   * clock to the next event. Returns when `until()` holds, at `untilNs`, after `maxEvents`
   * events, or, without `untilNs`, when nothing is left to do ("idle"). Throws Livelock when LIVELOCK_STEPS steps
   * in a row make no event run (e.g. an interrupt storm or a NAPI poll that never completes),
   * and whatever the kernel's hooks throw (a KernelPanic ends the run).
   */
  run(options: RunOptions = {}): RunResult {
    const untilNs = options.untilNs ?? Number.POSITIVE_INFINITY;
    const until = options.until;
    const maxEvents = options.maxEvents ?? Number.POSITIVE_INFINITY;
    const events = this.events;
    const clock = this.clock;
    let ran = 0;
    let idleSteps = 0;
    for (;;) {
      if (until?.()) return { reason: "until", events: ran, nowNs: clock.nowNs };
      if (clock.nowNs >= untilNs) return { reason: "time", events: ran, nowNs: clock.nowNs };
      if (ran >= maxEvents) return { reason: "max-events", events: ran, nowNs: clock.nowNs };
      const n = events.runDue();
      if (n > 0) {
        ran += n;
        idleSteps = 0;
        continue;
      }
      const hooks = this.hooks;
      let did = false;
      if (hooks !== null) {
        did = hooks.deliverInterrupts();
        did = hooks.runSoftirqs() || did;
        did = hooks.runWork() || did;
      }
      if (did) {
        if (++idleSteps > LIVELOCK_STEPS) {
          throw new Livelock(
            `Machine.run: ${LIVELOCK_STEPS} steps of interrupts, softirqs and work without a single event at ${clock.nowNs} ns`,
          );
        }
        continue;
      }
      const next = events.nextTime();
      if (next === Number.POSITIVE_INFINITY && untilNs === Number.POSITIVE_INFINITY) {
        return { reason: "idle", events: ran, nowNs: clock.nowNs };
      }
      if (next > untilNs) {
        clock.idleUntil(untilNs);
        return { reason: "time", events: ran, nowNs: clock.nowNs };
      }
      clock.idleUntil(next);
    }
  }
}
