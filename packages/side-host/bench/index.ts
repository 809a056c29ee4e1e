// Benchmarks of @side-kernel/side-host: boot time, and native and isolated TX / RX packet rates (host time)
// of 64-byte frames (native also 1518-byte) through the e1000 driver. Prints one JSON object with --json.
import { e1000Driver } from "@side-kernel/driver-e1000";
import { buildUdpFrame, parseMac } from "@side-kernel/net-nic";
import { Bench } from "tinybench";
import { Kernel, Machine } from "../src/index.js";

const json = process.argv.includes("--json");
const FRAMES = 5000;

function up(options: ConstructorParameters<typeof Machine>[0], mode: "native" | "isolated" = "native") {
  const machine = new Machine(options);
  const kernel = Kernel.boot(machine);
  const inst = kernel.loadDriver(e1000Driver, { mode });
  kernel.net.devOpen("eth0");
  machine.run({ until: () => kernel.net.byName("eth0")!.carrier, untilNs: 5e9 });
  return { machine, kernel, inst };
}

/** A UDP frame of `size` bytes on the wire (FCS included): 64 -> 60 bytes built here. */
function udpFrame(size: number): Uint8Array {
  return buildUdpFrame({
    srcMac: parseMac("52:54:00:12:34:56"),
    dstMac: parseMac("02:00:00:00:00:02"),
    srcIp: 0x0a000001,
    dstIp: 0x0a000002,
    srcPort: 9,
    dstPort: 9,
    payload: new Uint8Array(size - 4 - 42),
  });
}

function txRun(mode: "native" | "isolated" = "native", size = 64): { hostMs: number; frames: number } {
  const { machine, kernel } = up({ peer: "sink" }, mode);
  const frame = udpFrame(size);
  // every 32 frames the machine runs for about their wire time (at least 20 us)
  const slice = Math.max(20_000, 32 * size * 8);
  const t0 = performance.now();
  let sent = 0;
  while (sent < FRAMES) {
    const skb = kernel.net.allocSkb("eth0", Math.max(64, frame.length));
    kernel.net.writeSkb(skb, frame);
    kernel.net.xmit(skb);
    sent++;
    if (sent % 32 === 0) machine.run({ untilNs: kernel.nowNs + slice });
  }
  machine.run({ untilNs: kernel.nowNs + 1e6 });
  const hostMs = performance.now() - t0;
  const frames = machine.sink!.stats().frames;
  kernel.shutdown();
  return { hostMs, frames };
}

function rxRun(mode: "native" | "isolated" = "native", size = 64): { hostMs: number; frames: number } {
  const { machine, kernel } = up({ peer: "generator", traffic: { count: FRAMES, frameSize: size } }, mode);
  let got = 0;
  kernel.net.protocolHandler = (skb) => {
    got++;
    kernel.net.freeSkb(skb);
  };
  const t0 = performance.now();
  machine.generator!.start();
  machine.run({ until: () => got >= FRAMES, untilNs: kernel.nowNs + 1e9 });
  const hostMs = performance.now() - t0;
  kernel.shutdown();
  return { hostMs, frames: got };
}

const bench = new Bench({ iterations: 10, warmupIterations: 2 });
bench.add("boot", () => {
  const m = new Machine({ peer: "none" });
  Kernel.boot(m).shutdown();
});
await bench.run();
const boot = bench.tasks[0].result!;
const bootMs = "latency" in boot ? (boot as { latency: { mean: number } }).latency.mean : Number.NaN;

txRun(); // warm-up (JIT)
rxRun();
const tx = txRun();
const rx = rxRun();
txRun("native", 1518); // warm-up
rxRun("native", 1518);
const tx1518 = txRun("native", 1518);
const rx1518 = rxRun("native", 1518);
txRun("isolated"); // warm-up
rxRun("isolated");
const itx = txRun("isolated");
const irx = rxRun("isolated");
const out = {
  bootHostMs: Number(bootMs.toFixed(3)),
  nativeTxPacketsPerSec64: Math.round((tx.frames / tx.hostMs) * 1000),
  nativeRxPacketsPerSec64: Math.round((rx.frames / rx.hostMs) * 1000),
  nativeTxPacketsPerSec1518: Math.round((tx1518.frames / tx1518.hostMs) * 1000),
  nativeRxPacketsPerSec1518: Math.round((rx1518.frames / rx1518.hostMs) * 1000),
  isolatedTxPacketsPerSec64: Math.round((itx.frames / itx.hostMs) * 1000),
  isolatedRxPacketsPerSec64: Math.round((irx.frames / irx.hostMs) * 1000),
  txFrames: tx.frames,
  rxFrames: rx.frames,
  tx1518Frames: tx1518.frames,
  rx1518Frames: rx1518.frames,
};
if (json) console.log(JSON.stringify(out));
else console.table(out);
