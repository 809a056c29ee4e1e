// Host speed of isolated mode against native, each run in its own process (so neither mode's
// JIT feedback slows the other), alternating native and isolated ROUNDS times, with the engine
// that runs this script (node or bun). Each process runs figures.mjs with --repeat=3 (the
// fastest of three runs after the first). Prints the median host packets/s of each mode, their
// ratio, and the simulated-figures hash of each mode (identical in every round, or it says so).
// Build first (npx tsup).
//
//   node bench/host-ratio.mjs [tx|rx] [bytes] [packets] [rounds]
//   bun bench/host-ratio.mjs tx 64 20000 5
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const [direction = "tx", size = "64", packets = "20000", roundsArg = "3"] = process.argv.slice(2);
const rounds = Number(roundsArg);
if (!["tx", "rx"].includes(direction) || !(rounds >= 1)) {
  console.error("usage: host-ratio.mjs [tx|rx] [bytes] [packets] [rounds >= 1]");
  process.exit(2);
}
const figures = fileURLToPath(new URL("./figures.mjs", import.meta.url));
const runs = { native: [], isolated: [] };
const hashes = { native: new Set(), isolated: new Set() };
for (let r = 0; r < rounds; r++) {
  for (const mode of ["native", "isolated"]) {
    const out = execFileSync(process.execPath, [figures, mode, direction, size, packets, "--repeat=3"], {
      encoding: "utf8",
    });
    const result = JSON.parse(out.trim().split("\n")[0]);
    runs[mode].push(result.hostPps);
    hashes[mode].add(result.simHash);
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const native = median(runs.native);
const isolated = median(runs.isolated);
console.log(
  JSON.stringify({
    engine: typeof Bun === "undefined" ? `node ${process.version}` : `bun ${Bun.version}`,
    direction,
    size: Number(size),
    packets: Number(packets),
    rounds,
    nativeHostPps: native,
    isolatedHostPps: isolated,
    ratio: Number((isolated / native).toFixed(3)),
    nativeRuns: runs.native,
    isolatedRuns: runs.isolated,
    simHash: { native: [...hashes.native].join(","), isolated: [...hashes.isolated].join(",") },
  }),
);
