/**
 * `tour`: the product's core experiment in one run. (1) the paging hardware: accesses at CPL 0
 * and 3; (2) the same unmodified e1000 driver natively and isolated, on one UDP workload;
 * (3) SIDE's fault injection: flip one bit of a pointer inside the running driver and see what
 * each mode does with it.
 */
import { Adapter, e1000Driver, Ring } from "@side-kernel/driver-e1000";
import { NetDevice } from "@side-kernel/kservice";
import { describePageFaultCode, formatLinear } from "@side-kernel/paging";
import {
  IntegrityChecker,
  IsolatedDriverInstance,
  Kernel,
  KernelPanic,
  Machine,
  runUdpBenchmark,
} from "@side-kernel/side-host";
import Table from "cli-table3";
import { pagingCommand } from "./paging.js";

/** Packets per benchmark run: enough for steady state, short enough for a demo. */
const TOUR_PACKETS = 3000;
/** Frame sizes compared: the smallest (CPU-bound) and the largest (wire-bound). */
const TOUR_SIZES = [64, 1518] as const;
/** The pointer bit the fault injector flips: bit 40 moves an address out of its 512 GiB slot. */
const FLIPPED_BIT = 40;
/** Frames sent after the flip: the driver's next transmit dereferences the corrupted pointer. */
const FRAMES_AFTER_FLIP = 4;
/** A 60-byte frame (64 on the wire with the FCS), broadcast. */
const FRAME = new Uint8Array(60).fill(0xff, 0, 6);

/** Runs the tour; returns the exit code (0). */
export function tourCommand(_args: string[]): number {
  console.log(
    "side-kernel tour\n\n1. The paging hardware: one address space, a kernel region and a driver region\n",
  );
  pagingCommand();
  console.log(
    `\n2. The same e1000 driver, native (ring 0) and isolated (SIDE base, ring 3), UDP TX, ${TOUR_PACKETS} packets\n`,
  );
  console.log(compareModes().toString());
  console.log(
    `\n3. SIDE's fault injection: flip bit ${FLIPPED_BIT} of the TX ring's descriptor pointer in the running driver\n`,
  );
  for (const mode of ["native", "isolated"] as const) console.log(`${mode.padEnd(9)} ${flipPointer(mode)}`);
  return 0;
}

function compareModes(): Table.Table {
  const table = new Table({
    head: [
      "mode",
      "frame B",
      "Mbit/s",
      "CPU %",
      "crossings/pkt",
      "TLB misses/pkt",
      "cycles/pkt",
      "host pkts/s",
    ],
  });
  for (const frameSize of TOUR_SIZES) {
    for (const mode of ["native", "isolated"] as const) {
      const r = runUdpBenchmark({ mode, direction: "tx", frameSize, packets: TOUR_PACKETS });
      table.push([
        mode,
        frameSize,
        r.mbps.toFixed(1),
        (100 * r.cpuUtilization).toFixed(1),
        r.crossingsPerPacket.toFixed(2),
        r.tlbMissesPerPacket.toFixed(2),
        Math.round(r.cyclesPerPacket),
        Math.round(r.hostPps),
      ]);
    }
  }
  return table;
}

/** Bring eth0 up in `mode`, corrupt one pointer in the driver's memory, transmit, report. */
export function flipPointer(mode: "native" | "isolated"): string {
  const machine = new Machine({ peer: "sink" });
  const kernel = Kernel.boot(machine);
  const inst = kernel.loadDriver(e1000Driver, { mode });
  kernel.net.devOpen("eth0");
  machine.run({ until: () => kernel.net.byName("eth0")?.carrier === true, untilNs: 5e9 });
  const checker = new IntegrityChecker(kernel);
  const before = checker.snapshot();

  // The injector is kernel code: it opens user-page access (stac) to reach an isolated driver's memory.
  const mmu = machine.mmu;
  const adapter = kernel.net.byName("eth0")!.ptr + NetDevice.PRIV;
  mmu.ac = true;
  const txRing = mmu.loadPtr(adapter + Adapter.txRing);
  const desc = mmu.loadPtr(txRing + Ring.desc);
  const flipped =
    Math.floor(desc / 2 ** FLIPPED_BIT) % 2 === 1 ? desc - 2 ** FLIPPED_BIT : desc + 2 ** FLIPPED_BIT;
  mmu.storePtr(txRing + Ring.desc, flipped);
  mmu.ac = false;
  const what = `desc ${formatLinear(desc)} -> ${formatLinear(flipped)}:`;

  try {
    for (let i = 0; i < FRAMES_AFTER_FLIP; i++) {
      const skb = kernel.net.allocSkb("eth0", FRAME.length);
      kernel.net.writeSkb(skb, FRAME);
      kernel.net.xmit(skb);
    }
    machine.run({ untilNs: kernel.nowNs + 10e6 });
  } catch (e) {
    if (e instanceof KernelPanic) return `${what} the kernel dies: ${e.message}`;
    throw e;
  }
  if (inst instanceof IsolatedDriverInstance && inst.fault) {
    const f = inst.fault;
    const code = f.errorCode !== undefined ? ` (${describePageFaultCode(f.errorCode)})` : "";
    const intact = checker.check(before).intact ? "kernel intact" : "kernel CHANGED";
    const t0 = kernel.nowNs;
    machine.run({ untilNs: t0 + 1e6 });
    const alive = kernel.nowNs > t0 ? "and still running" : "but stalled";
    return `${what} ${f.kind} in ${f.entryPoint}${code}; driver stopped, ${intact} ${alive}`;
  }
  const report = checker.check(before);
  return report.intact
    ? `${what} no visible effect`
    : `${what} the kernel runs on, silently corrupted: ${report.problems.join("; ")}`;
}
