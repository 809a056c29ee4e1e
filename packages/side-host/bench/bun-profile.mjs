// Where Bun (JSC) spends host time, per JavaScript function, in the steady state: runs
// `bun bench/steady.mjs` under Linux `perf record` (task-clock samples with call chains, from
// `delay` ms on, after the JIT has settled), with JSC writing a JITDump of its compiled code,
// and prints the main thread's self time by function and compiler tier (FTL, DFG, Baseline),
// the slow-path stubs and runtime calls compiled code goes through, and the self time by
// function. Bun's own sampling profiler (`bun --cpu-prof`) misattributes samples; this does
// not. Needs perf (kernel.perf_event_paranoid <= 2) and a built side-host (npx tsup).
//
//   node bench/bun-profile.mjs [native|isolated] [tx|rx] [bytes] [seconds] [delay-ms] [top]
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const [mode = "isolated", direction = "tx", size = "64", seconds = "12", delay = "5000", topArg = "30"] =
  process.argv.slice(2);
const bun = createRequire(import.meta.url).resolve("bun/bin/bun.exe");
const steady = fileURLToPath(new URL("./steady.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "bun-profile-"));
const data = join(dir, "perf.data");
const rec = spawnSync(
  "perf",
  [
    "record",
    "-k",
    "1",
    "-g",
    "-D",
    delay,
    "-e",
    "task-clock",
    "-F",
    "4000",
    "-o",
    data,
    "--",
    bun,
    steady,
    mode,
    direction,
    size,
    seconds,
  ],
  {
    env: { ...process.env, BUN_JSC_useJITDump: "true", BUN_JSC_jitDumpDirectory: dir },
    stdio: ["ignore", "inherit", "ignore"],
  },
);
if (rec.status !== 0) {
  console.error("bun-profile: perf record failed (is perf installed, and perf_event_paranoid <= 2?)");
  process.exit(1);
}
// JSC names its dump jit-<thread>-<pid>.dump; perf inject looks for jit-<pid>.dump, also in the
// recorded mmap of the file: rename both (the new path is shorter, padded with NULs).
const dump = readdirSync(dir).find((f) => /^jit-\d+-\d+\.dump$/.test(f));
if (dump === undefined) {
  console.error("bun-profile: JSC wrote no JITDump");
  process.exit(1);
}
const pid = dump.match(/^jit-\d+-(\d+)\.dump$/)[1];
const oldPath = Buffer.from(join(dir, dump));
const newPath = Buffer.from(join(dir, `jit-${pid}.dump`));
copyFileSync(join(dir, dump), newPath.toString());
const raw = readFileSync(data);
const at = raw.indexOf(oldPath);
if (at >= 0) {
  raw.fill(0, at, at + oldPath.length);
  newPath.copy(raw, at);
}
writeFileSync(data, raw);
const injected = join(dir, "perf.jit.data");
execFileSync("perf", ["inject", "--jit", "-i", data, "-o", injected], { stdio: "ignore" });
const script = execFileSync("perf", ["script", "-i", injected, "-F", "tid,ip,sym", "--tid", pid], {
  encoding: "utf8",
  maxBuffer: 1 << 30,
});
rmSync(dir, { recursive: true, force: true });

const self = new Map();
const tiers = new Map();
const stubs = new Map();
let samples = 0;
const add = (m, k) => m.set(k, (m.get(k) ?? 0) + 1);
for (const block of script.split("\n\n")) {
  const frames = block
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/).slice(1).join(" ") || "[unknown]")
    .filter((f) => f !== "");
  if (frames.length === 0) continue;
  samples++;
  const leaf = frames[0];
  const m = /^JSC-(\w+): (.+?)#/.exec(leaf);
  add(self, m ? m[2] : leaf.replace(/#\w+$/, ""));
  add(tiers, m ? m[1] : "runtime, GC, kernel");
  // a slow-path stub or runtime call, and the compiled function it was called from
  const stub = frames.findIndex((f) => /Thunk|InlineCache/.test(f));
  if (stub >= 0 && stub < 4) {
    const from = frames.slice(stub + 1).find((f) => /^JSC-(FTL|DFG|Baseline)/.test(f)) ?? "?";
    add(stubs, `${frames[stub].replace(/#\w+$/, "")}  <-  ${from.replace(/#\w+.*$/, "")}`);
  }
}
const pct = (n) => `${((100 * n) / samples).toFixed(2).padStart(6)}%`;
const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
console.log(
  `${mode} ${direction} ${size} B under Bun: ${samples} samples of the main thread from ${delay} ms on`,
);
console.log("\nby tier:");
for (const [k, v] of top(tiers, 10)) console.log(`${pct(v)}  ${k}`);
console.log("\nslow-path stubs and runtime calls, by calling function:");
for (const [k, v] of top(stubs, 10)) console.log(`${pct(v)}  ${k}`);
console.log("\nself time by function:");
for (const [k, v] of top(self, Number(topArg))) console.log(`${pct(v)}  ${k}`);
