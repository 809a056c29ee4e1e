// Steady-state host speed: runs the UDP benchmark of one mode again and again (20000 packets
// a run, a new machine each time) for a number of seconds and prints each run's host
// packets/s, then the median of the runs in the second half (after the JIT has settled; under
// Bun that takes about 40000 packets). `both` alternates the modes in this one process and
// prints both medians and their ratio. The workload `bun-profile.mjs` profiles. Build first.
//
//   node bench/steady.mjs [native|isolated|both] [tx|rx] [bytes] [seconds]     (or bun)
import { runUdpBenchmark } from "../dist/index.js";

const [mode = "isolated", direction = "tx", sizeArg = "64", secondsArg = "10"] = process.argv.slice(2);
const seconds = Number(secondsArg);
if (!["native", "isolated", "both"].includes(mode) || !["tx", "rx"].includes(direction) || !(seconds > 0)) {
  console.error("usage: steady.mjs [native|isolated|both] [tx|rx] [bytes] [seconds > 0]");
  process.exit(2);
}
const modes = mode === "both" ? ["native", "isolated"] : [mode];
const late = { native: [], isolated: [] };
const t0 = performance.now();
for (let run = 1; performance.now() - t0 < seconds * 1000; run++) {
  for (const m of modes) {
    const r = runUdpBenchmark({ mode: m, direction, frameSize: Number(sizeArg), packets: 20000 });
    const at = performance.now() - t0;
    if (at > (seconds * 1000) / 2) late[m].push(r.hostPps);
    console.error(`run ${run} ${m}: ${Math.round(r.hostPps)} host packets/s at ${Math.round(at)} ms`);
  }
}
const median = (a) => Math.round([...a].sort((x, y) => x - y)[a.length >> 1] ?? 0);
const out = { mode, direction, size: Number(sizeArg) };
for (const m of modes) out[m] = { runs: late[m].length, medianHostPps: median(late[m]) };
if (mode === "both") out.ratio = Number((median(late.isolated) / median(late.native)).toFixed(3));
console.log(JSON.stringify(out));
