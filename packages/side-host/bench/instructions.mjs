// Host CPU instructions per simulated packet, counted by valgrind (cachegrind, no cache
// simulation) under node --single-threaded: a deterministic host cost, unlike host time on a
// shared machine. Runs figures.mjs twice, with FEW and MANY packets, and divides the difference
// in instructions by the difference in packets, so boot, JIT warm-up and teardown cancel out.
// Takes about a minute per mode. Needs valgrind on PATH; build first (npx tsup).
//
//   node bench/instructions.mjs [native|isolated|both] [tx|rx] [bytes] [few] [many]
//   node bench/instructions.mjs both tx 64 4000 12000
//
// The isolated/native ratio of instructions tracked the host-time ratio within about 0.05
// (lower) on the machine of BENCHMARKS.md.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const [modeArg = "both", direction = "tx", size = "64", fewArg = "4000", manyArg = "12000"] =
  process.argv.slice(2);
const few = Number(fewArg);
const many = Number(manyArg);
if (
  !["native", "isolated", "both"].includes(modeArg) ||
  !["tx", "rx"].includes(direction) ||
  !(many > few && few >= 1)
) {
  console.error("usage: instructions.mjs [native|isolated|both] [tx|rx] [bytes] [few >= 1] [many > few]");
  process.exit(2);
}
const figures = fileURLToPath(new URL("./figures.mjs", import.meta.url));

/** Instructions of one figures.mjs run of `packets` packets under valgrind, and its simulated-figures hash. */
function measure(mode, packets) {
  const args = [
    "--tool=cachegrind",
    "--cache-sim=no",
    "--cachegrind-out-file=/dev/null",
    "--smc-check=all-non-file",
  ];
  args.push(process.execPath, "--single-threaded", figures, mode, direction, size, String(packets));
  const r = spawnSyncChecked("valgrind", args);
  const m = /I\s+refs:\s+([\d,]+)/.exec(r.stderr);
  if (m === null) {
    console.error(`instructions.mjs: no instruction count in valgrind's output:\n${r.stderr.slice(-500)}`);
    process.exit(1);
  }
  return [Number(m[1].replaceAll(",", "")), JSON.parse(r.stdout.trim().split("\n")[0]).simHash];
}

/** spawnSync that exits with a message when the command cannot run or fails. */
function spawnSyncChecked(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.error !== undefined || r.status !== 0) {
    console.error(`instructions.mjs: ${cmd} failed: ${r.error?.message ?? `exit ${r.status}`}`);
    process.exit(1);
  }
  return r;
}

const result = { engine: `node ${process.version}`, direction, size: Number(size), packets: [few, many] };
for (const mode of modeArg === "both" ? ["native", "isolated"] : [modeArg]) {
  const [a, hash] = measure(mode, few);
  const [b] = measure(mode, many);
  result[mode] = { instructionsPerPacket: Math.round((b - a) / (many - few)), simHash: hash };
}
if (result.native !== undefined && result.isolated !== undefined) {
  result.ratio = Number(
    (result.native.instructionsPerPacket / result.isolated.instructionsPerPacket).toFixed(3),
  );
}
console.log(JSON.stringify(result));
