/**
 * The UDP benchmark runner: boots a machine with the e1000 driver, brings eth0 up, and runs
 * either the UDP sender process to a Sink on the wire (tx) or a TrafficGenerator at line rate
 * to the UDP receiver process (rx). It reports simulated throughput and CPU utilization,
 * per-packet figures (kernel calls, MMIO, interrupts, TLB misses, crossings, syscalls, cycles
 * by category), host time, and loss and order from the sink or receiver.
 *
 * Steady state: boot, driver load and link-up (autonegotiation takes ~0.5 s of simulated time)
 * are excluded. The measured window starts when the traffic starts (the sender process is
 * spawned, or the generator starts after the receiver is bound) and ends when the last packet
 * is delivered (reaches the Sink, or is returned by recvfrom). Rates are packets delivered in
 * that window over its length.
 */
import { e1000Driver } from "@side-kernel/driver-e1000";
import {
  ETH_FCS_LEN,
  MAX_WIRE_FRAME,
  MIN_WIRE_FRAME,
  TrafficGenerator,
  UDP_PAYLOAD_OFFSET,
} from "@side-kernel/net-nic";
import type { CostModel } from "@side-kernel/privilege";
import { IsolatedDriverInstance } from "../isolated-binding.js";
import { Kernel, type LeakReport } from "../kernel.js";
import { Machine } from "../machine.js";
import type { StackCosts } from "../net/limits.js";
import { UdpStack } from "../net/stack.js";
import { Scheduler } from "../user/scheduler.js";
import { APP_HEADER_LEN, UdpReceiverApp, UdpSenderApp } from "./apps.js";
import { PacedScheduler } from "./pacing.js";

/** Bits per byte. */
const BITS_PER_BYTE = 8;
/** Preamble + SFD (8) and inter-frame gap (12) bytes around every frame on the wire (IEEE 802.3). */
const WIRE_OVERHEAD_BYTES = 20;
/** Default link speed: 1 Gbit/s (the 82540EM's). */
const DEFAULT_LINK_GBPS = 1;
/** Simulated time allowed for link-up (autonegotiation ~0.5 s plus the driver's watchdog). */
const LINK_UP_TIMEOUT_NS = 5e9;
/** Simulated time to let the last completions and interrupts settle before unloading. */
const DRAIN_NS = 5e6;
/** How long the RX run waits after the generator's last frame for the receiver to catch up. */
const RX_TAIL_NS = 20e6;
/** Progress callbacks per run (about every 1%). */
const PROGRESS_STEPS = 100;

/** Options of `runUdpBenchmark`. */
export interface UdpBenchmarkOptions {
  /** "native": the driver at ring 0 with direct calls; "isolated": SIDE base (ring 3, checked crossings). */
  mode: "native" | "isolated";
  /** tx: the sender process to a Sink; rx: a line-rate generator to the receiver process. */
  direction: "tx" | "rx";
  /** Frame size on the wire including the FCS, 64..1518. */
  frameSize: number;
  /** Packets to send. */
  packets: number;
  /** Link speed in Gbit/s (default 1). */
  linkGbps?: number;
  /** Called about every 1% with (packets delivered, packets). */
  onProgress?: (done: number, total: number) => void;
  /** Cost-model overrides for the machine. */
  costs?: Partial<CostModel>;
  /** Stack cost overrides. */
  stackCosts?: Partial<StackCosts>;
  /** Receiver socket buffer (SO_RCVBUF) in bytes. */
  rcvbuf?: number;
}

/** Loss and order as the far end saw them. */
export interface UdpBenchmarkLoss {
  /** Packets the source sent (sendto accepted / generator emitted). */
  sent: number;
  /** Packets delivered (to the Sink / to the receiver app). */
  received: number;
  /** sent - received. */
  lost: number;
  /** Sequence gaps and reordered packets seen by the Sink or the receiver. */
  gaps: number;
  outOfOrder: number;
  /** Frames the Sink found invalid (tx only). */
  invalid: number;
  /** Datagrams dropped because the socket's receive buffer was full (rx). */
  rcvbufDrops: number;
}

/** One-way latency from the payload's send timestamp to delivery (Sink or recvfrom), in ns. */
export interface UdpBenchmarkLatency {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Summary of `samples` (nearest-rank percentiles; all 0 when empty). Sorts a copy. */
export function summariseLatency(samples: readonly number[]): UdpBenchmarkLatency {
  const l = [...samples].sort((a, b) => a - b);
  const n = l.length;
  if (n === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  let sum = 0;
  for (const x of l) sum += x;
  const pct = (q: number) => l[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
  return { count: n, min: l[0], mean: sum / n, p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: l[n - 1] };
}

/** What `runUdpBenchmark` returns. */
export interface UdpBenchmarkResult {
  readonly mode: "native" | "isolated";
  readonly direction: "tx" | "rx";
  readonly frameSize: number;
  readonly packets: number;
  readonly linkGbps: number;
  /** Measured window in simulated ns (steady state: boot and link-up excluded). */
  readonly simulatedNs: number;
  /** Frames per simulated second delivered in the window. */
  readonly pps: number;
  /** pps x frameSize x 8 / 1e6: Mbit/s of frames (incl. FCS, excluding preamble and gap). */
  readonly mbps: number;
  /** The most Mbit/s of frames of this size the link carries (preamble and gap included in the pacing). */
  readonly lineRateMbps: number;
  /** Busy cycles / elapsed cycles in the window. */
  readonly cpuUtilization: number;
  /** Per delivered packet. */
  readonly kernelCallsPerPacket: number;
  readonly mmioPerPacket: number;
  readonly interruptsPerPacket: number;
  readonly tlbMissesPerPacket: number;
  /** Protection-domain crossings (upcalls + service crossings, each a round trip) per packet: 0 natively. */
  readonly crossingsPerPacket: number;
  readonly syscallsPerPacket: number;
  readonly cyclesPerPacket: number;
  /** Busy cycles in the window by category (totals, not per packet). */
  readonly cyclesByCategory: Readonly<Record<string, number>>;
  /** Host wall-clock time of the window. */
  readonly hostMs: number;
  /** Simulated packets per host second: frames the source put on the wire in the window / hostMs. */
  readonly hostPps: number;
  readonly loss: UdpBenchmarkLoss;
  /** One-way latency of the delivered packets (whole run, queueing included). */
  readonly latency: UdpBenchmarkLatency;
  /** Leak check after unload: frames, IRQ handlers, ledger entries and heap blocks still held. */
  readonly leaks: LeakReport;
  /** What the window covers. */
  readonly note: string;
}

interface Snapshot {
  ns: number;
  busy: number;
  byCategory: Record<string, number>;
  calls: number;
  mmio: number;
  irqs: number;
  tlbMisses: number;
  crossings: number;
  syscalls: number;
  host: number;
}

function hostNow(): number {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return perf !== undefined ? perf.now() : Date.now();
}

function snapshot(kernel: Kernel, sched: Scheduler): Snapshot {
  const m = kernel.machine;
  let calls = 0;
  let crossings = 0;
  for (const inst of kernel.instances.values()) {
    calls += inst.counters.serviceCalls;
    if (inst instanceof IsolatedDriverInstance)
      crossings += inst.isolation.upcalls + inst.isolation.serviceCrossings;
  }
  let irqs = 0;
  for (let i = 0; i < kernel.irq.count.length; i++) irqs += kernel.irq.count[i];
  return {
    ns: m.clock.nowNs,
    busy: m.clock.busyCycles,
    byCategory: m.clock.byCategory(),
    calls,
    mmio: m.mmu.mmioReads + m.mmu.mmioWrites,
    irqs,
    tlbMisses: m.mmu.tlb.stats.misses,
    crossings,
    syscalls: sched.stats.syscalls,
    host: hostNow(),
  };
}

/** Validates the options; throws RangeError naming the bad one. */
function check(o: UdpBenchmarkOptions): number {
  if (o === null || typeof o !== "object") throw new TypeError("runUdpBenchmark: options object required");
  if (o.mode !== "native" && o.mode !== "isolated")
    throw new RangeError(`runUdpBenchmark: mode "${String(o.mode)}" is not "native" or "isolated"`);
  if (o.direction !== "tx" && o.direction !== "rx")
    throw new RangeError(`runUdpBenchmark: direction "${String(o.direction)}" is not "tx" or "rx"`);
  if (!Number.isInteger(o.frameSize) || o.frameSize < MIN_WIRE_FRAME || o.frameSize > MAX_WIRE_FRAME)
    throw new RangeError(
      `runUdpBenchmark: frameSize ${String(o.frameSize)} is not ${MIN_WIRE_FRAME}..${MAX_WIRE_FRAME}`,
    );
  if (!Number.isInteger(o.packets) || o.packets < 1)
    throw new RangeError(`runUdpBenchmark: packets ${String(o.packets)} is not a positive integer`);
  const gbps = o.linkGbps ?? DEFAULT_LINK_GBPS;
  if (typeof gbps !== "number" || !(gbps > 0) || !Number.isFinite(gbps))
    throw new RangeError(`runUdpBenchmark: linkGbps ${String(gbps)} is not a positive number`);
  return gbps;
}

/**
 * Run one UDP benchmark (see the file comment). Returns the figures; throws RangeError /
 * TypeError for bad options, Error when the link does not come up or the driver fails to
 * load, and whatever the kernel throws (KernelPanic, KernelBug, Livelock, ModuleLeak).
 */
export function runUdpBenchmark(options: UdpBenchmarkOptions): UdpBenchmarkResult {
  const linkGbps = check(options);
  const { direction, frameSize, packets, onProgress } = options;
  const bitsPerSecond = linkGbps * 1e9;
  const payloadSize = frameSize - ETH_FCS_LEN - UDP_PAYLOAD_OFFSET;
  // rx: the generator stands for another machine: it is paced on its own timeline (PacedScheduler).
  const machine = new Machine({
    peer: direction === "tx" ? "sink" : "none",
    bitsPerSecond,
    costs: options.costs,
  });
  const gen =
    direction === "rx"
      ? new TrafficGenerator({
          scheduler: new PacedScheduler(machine.events),
          frameSize,
          count: packets,
          bitsPerSecond,
        })
      : null;
  if (gen !== null) machine.link.connect(machine.nic, gen);
  const kernel = Kernel.boot(machine);
  const inst = kernel.loadDriver(e1000Driver, { mode: options.mode });
  const stack = new UdpStack(kernel, { costs: options.stackCosts, rcvbuf: options.rcvbuf });
  stack.attach();
  const sched = new Scheduler(kernel, stack);
  const rcOpen = kernel.net.devOpen(stack.devName);
  if (rcOpen !== 0) throw new Error(`runUdpBenchmark: ifup ${stack.devName} failed with ${rcOpen}`);
  const dev = kernel.net.byName(stack.devName)!;
  machine.run({ until: () => dev.carrier, untilNs: kernel.nowNs + LINK_UP_TIMEOUT_NS });
  if (!dev.carrier) throw new Error(`runUdpBenchmark: no carrier on ${stack.devName} after link-up timeout`);

  const progressEvery = Math.max(1, Math.floor(packets / PROGRESS_STEPS));
  let nextProgress = progressEvery;
  const progress = (done: number) => {
    if (onProgress !== undefined && done >= nextProgress) {
      nextProgress = done + progressEvery;
      onProgress(Math.min(done, packets), packets);
    }
  };

  let start: Snapshot;
  let end: Snapshot;
  let loss: UdpBenchmarkLoss;
  let latency: UdpBenchmarkLatency;
  let delivered: number;
  let offered: number;
  if (direction === "tx") {
    const sink = machine.sink!;
    const sender = new UdpSenderApp({ count: packets, payloadSize, clock: kernel });
    start = snapshot(kernel, sched);
    sched.spawn(sender);
    let seen = 0;
    sched.run({
      until: () => {
        // Sink.stats() sorts its latencies: read the link's delivered-frame counter instead.
        seen = machine.link.statsAtoB.frames;
        progress(seen);
        return seen >= packets || (sender.phase === "done" && sender.error !== 0);
      },
    });
    end = snapshot(kernel, sched);
    if (sender.error !== 0) throw new Error(`runUdpBenchmark: the sender failed with errno ${-sender.error}`);
    delivered = seen;
    offered = seen;
    sched.run({ until: () => sender.phase === "done" });
    const s = sink.stats();
    loss = {
      sent: sender.sent,
      received: s.frames,
      lost: sender.sent - s.frames,
      gaps: s.gaps,
      outOfOrder: s.outOfOrder,
      invalid: s.invalid,
      rcvbufDrops: 0,
    };
    const { count, min, mean, p50, p90, p99, max } = s.latency;
    latency = { count, min, mean, p50, p90, p99, max };
  } else if (gen !== null) {
    const receiver = new UdpReceiverApp({ count: packets, clock: kernel });
    const proc = sched.spawn(receiver);
    sched.run({ until: () => receiver.ready && proc.state === "blocked" });
    start = snapshot(kernel, sched);
    gen.start();
    let lastSendNs = Number.POSITIVE_INFINITY;
    sched.run({
      until: () => {
        progress(receiver.received);
        if (receiver.received >= packets || receiver.error !== 0) return true;
        if (!gen.active && lastSendNs === Number.POSITIVE_INFINITY) lastSendNs = kernel.nowNs;
        return kernel.nowNs > lastSendNs + RX_TAIL_NS;
      },
    });
    end = snapshot(kernel, sched);
    if (receiver.error !== 0)
      throw new Error(`runUdpBenchmark: the receiver failed with errno ${-receiver.error}`);
    // the window ends at the last delivery, not at the tail wait
    if (receiver.lastRxNs > 0) end.ns = Math.min(end.ns, receiver.lastRxNs);
    delivered = receiver.received;
    offered = gen.sent;
    if (proc.state !== "exited") {
      receiver.stop(proc);
      sched.run({ until: () => proc.state === "exited" });
    }
    loss = {
      sent: gen.sent,
      received: receiver.received,
      lost: gen.sent - receiver.received,
      gaps: receiver.gaps,
      outOfOrder: receiver.outOfOrder,
      invalid: receiver.runts,
      rcvbufDrops: stack.counters.udpRcvbufErrors,
    };
    latency = summariseLatency(receiver.latenciesNs);
  } else {
    throw new Error("runUdpBenchmark: no generator for rx");
  }
  onProgress?.(Math.min(delivered, packets), packets);

  // Teardown: let completions settle, stop everything, unload, check for leaks.
  machine.run({ untilNs: kernel.nowNs + DRAIN_NS });
  sched.killAll();
  stack.detach();
  kernel.unloadDriver(inst);
  const leaks = kernel.leakReport();
  kernel.shutdown();

  const ns = end.ns - start.ns;
  const seconds = ns / 1e9;
  const per = (x: number) => (delivered > 0 ? x / delivered : 0);
  const pps = seconds > 0 ? delivered / seconds : 0;
  const elapsedCycles = seconds * machine.clock.hz;
  const busy = end.busy - start.busy;
  const cyclesByCategory: Record<string, number> = {};
  for (const [k, v] of Object.entries(end.byCategory)) {
    const d = v - (start.byCategory[k] ?? 0);
    if (d > 0) cyclesByCategory[k] = d;
  }
  const hostMs = end.host - start.host;
  return {
    mode: options.mode,
    direction,
    frameSize,
    packets,
    linkGbps,
    simulatedNs: ns,
    pps,
    mbps: (pps * frameSize * BITS_PER_BYTE) / 1e6,
    lineRateMbps: (bitsPerSecond * frameSize) / (frameSize + WIRE_OVERHEAD_BYTES) / 1e6,
    cpuUtilization: elapsedCycles > 0 ? Math.min(1, busy / elapsedCycles) : 0,
    kernelCallsPerPacket: per(end.calls - start.calls),
    mmioPerPacket: per(end.mmio - start.mmio),
    interruptsPerPacket: per(end.irqs - start.irqs),
    tlbMissesPerPacket: per(end.tlbMisses - start.tlbMisses),
    crossingsPerPacket: per(end.crossings - start.crossings),
    syscallsPerPacket: per(end.syscalls - start.syscalls),
    cyclesPerPacket: per(busy),
    cyclesByCategory,
    hostMs,
    hostPps: hostMs > 0 ? (offered * 1000) / hostMs : 0,
    loss,
    latency,
    leaks,
    note: "steady state: boot, driver load and link-up excluded; the window runs from the start of traffic to the last delivery",
  };
}

/** UDP payload bytes in a frame of `frameSize` bytes on the wire (incl. FCS); throws RangeError below the app header. */
export function udpPayloadForFrame(frameSize: number): number {
  const p = frameSize - ETH_FCS_LEN - UDP_PAYLOAD_OFFSET;
  if (p < APP_HEADER_LEN) throw new RangeError(`frame size ${frameSize} leaves ${p} payload bytes`);
  return p;
}
