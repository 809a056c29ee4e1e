// Benchmarks of @side-kernel/side-host: boot time, and native and isolated TX / RX packet rates (host time)
// of 64-byte frames through the e1000 driver. Prints one JSON object with --json.
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

// 60 bytes without FCS = a 64-byte frame on the wire
const frame = buildUdpFrame({
  srcMac: parseMac("52:54:00:12:34:56"),
  dstMac: parseMac("02:00:00:00:00:02"),
  srcIp: 0x0a000001,
  dstIp: 0x0a000002,
  srcPort: 9,
  dstPort: 9,
  payload: new Uint8Array(18),
});

function txRun(mode: "native" | "isolated" = "native"): { hostMs: number; frames: number } {
  const { machine, kernel } = up({ peer: "sink" }, mode);
  const t0 = performance.now();
  let sent = 0;
  while (sent < FRAMES) {
    const skb = kernel.net.allocSkb("eth0", 64);
    kernel.net.writeSkb(skb, frame);
    kernel.net.xmit(skb);
    sent++;
    if (sent % 32 === 0) machine.run({ untilNs: kernel.nowNs + 20_000 });
  }
  machine.run({ untilNs: kernel.nowNs + 1e6 });
  const hostMs = performance.now() - t0;
  const frames = machine.sink!.stats().frames;
  kernel.shutdown();
  return { hostMs, frames };
}

function rxRun(mode: "native" | "isolated" = "native"): { hostMs: number; frames: number } {
  const { machine, kernel } = up({ peer: "generator", traffic: { count: FRAMES } }, mode);
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
txRun("isolated"); // warm-up
rxRun("isolated");
const itx = txRun("isolated");
const irx = rxRun("isolated");
const out = {
  bootHostMs: Number(bootMs.toFixed(3)),
  nativeTxPacketsPerSec64: Math.round((tx.frames / tx.hostMs) * 1000),
  nativeRxPacketsPerSec64: Math.round((rx.frames / rx.hostMs) * 1000),
  isolatedTxPacketsPerSec64: Math.round((itx.frames / itx.hostMs) * 1000),
  isolatedRxPacketsPerSec64: Math.round((irx.frames / irx.hostMs) * 1000),
  txFrames: tx.frames,
  rxFrames: rx.frames,
};
if (json) console.log(JSON.stringify(out));
else console.table(out);
