// Steady-state host speed: runs the UDP benchmark of one mode again and again (20000 packets
// a run, a new machine each time) for a number of seconds and prints each run's host
// packets/s, then the median of the runs in the second half (after the JIT has settled; under
// Bun that takes about 40000 packets). The workload `bun-profile.mjs` profiles. Build first.
//
//   node bench/steady.mjs [native|isolated] [tx|rx] [bytes] [seconds]     (or bun)
import { runUdpBenchmark } from "../dist/index.js";

const [mode = "isolated", direction = "tx", sizeArg = "64", secondsArg = "10"] = process.argv.slice(2);
const seconds = Number(secondsArg);
if (!["native", "isolated"].includes(mode) || !["tx", "rx"].includes(direction) || !(seconds > 0)) {
  console.error("usage: steady.mjs [native|isolated] [tx|rx] [bytes] [seconds > 0]");
  process.exit(2);
}
const t0 = performance.now();
const late = [];
for (let run = 1; performance.now() - t0 < seconds * 1000; run++) {
  const r = runUdpBenchmark({ mode, direction, frameSize: Number(sizeArg), packets: 20000 });
  const at = performance.now() - t0;
  if (at > (seconds * 1000) / 2) late.push(r.hostPps);
  console.error(`run ${run}: ${Math.round(r.hostPps)} host packets/s at ${Math.round(at)} ms`);
}
late.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    mode,
    direction,
    size: Number(sizeArg),
    runs: late.length,
    medianHostPps: Math.round(late[late.length >> 1] ?? 0),
  }),
);
