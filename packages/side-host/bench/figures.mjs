// Runs runUdpBenchmark from the built package (build first: npx tsup) and prints host packets/s
// plus a hash of every simulated figure (the whole result except host time), so a host-time
// speed-up can be shown not to change them. cpuMs is the process's CPU time for the first run
// (boot and teardown included), steadier than hostMs on a loaded machine. Plain node, no tsx: line-level profiles map to dist.
//
//   node bench/figures.mjs native tx 64 50000 [--full] [--repeat=N]
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/figures.mjs isolated rx 64 50000
import { runUdpBenchmark } from "../dist/index.js";

const [mode = "native", direction = "tx", sizeArg = "64", countArg = "50000"] = process.argv
  .slice(2)
  .filter((a) => !a.startsWith("--"));
const repeatArg = process.argv.find((a) => a.startsWith("--repeat="));
const repeat = repeatArg === undefined ? 1 : Number(repeatArg.slice(9));
const c0 = process.cpuUsage();
let r = runUdpBenchmark({ mode, direction, frameSize: Number(sizeArg), packets: Number(countArg) });
const cpu = process.cpuUsage(c0);
// --repeat=N: N runs in this process; host figures of the fastest (the least disturbed, warm JIT)
for (let i = 1; i < repeat; i++) {
  const again = runUdpBenchmark({ mode, direction, frameSize: Number(sizeArg), packets: Number(countArg) });
  if (again.hostMs < r.hostMs) r = again;
}
const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
const { hostMs, hostPps, ...sim } = r;
const text = JSON.stringify(sim);
let h = 0x811c9dc5;
for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
const simHash = (h >>> 0).toString(16).padStart(8, "0");
const size = Number(sizeArg);
console.log(
  JSON.stringify({
    mode,
    direction,
    size,
    hostMs: Math.round(hostMs),
    hostPps: Math.round(hostPps),
    cpuMs,
    simHash,
  }),
);
if (process.argv.includes("--full")) console.log(JSON.stringify(sim, null, 1));
