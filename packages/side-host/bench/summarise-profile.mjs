// Summarise a V8 .cpuprofile by self time (and, with --inclusive, by inclusive time):
//   node bench/summarise-profile.mjs FILE [top] [--inclusive | --packages]
import { readFileSync } from "node:fs";

const [file, topArg = "30"] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const inclusive = process.argv.includes("--inclusive");
const byPackage = process.argv.includes("--packages");
const prof = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
const dt = prof.timeDeltas;
let total = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const n = byId.get(prof.samples[i]);
  const d = dt[i] ?? 0;
  total += d;
  if (byPackage) {
    const m = /packages\/([^/]+)\//.exec(n.callFrame.url);
    const k = m
      ? m[1]
      : n.callFrame.url.startsWith("node:") || n.callFrame.url.includes("node_modules")
        ? "(node, tsx)"
        : n.callFrame.functionName;
    self.set(k, (self.get(k) ?? 0) + d);
    continue;
  }
  if (!inclusive) {
    const k = keyOf(n);
    self.set(k, (self.get(k) ?? 0) + d);
    continue;
  }
  const seen = new Set();
  for (let id = n.id; id !== undefined; id = parent.get(id)) {
    const k = keyOf(byId.get(id));
    if (seen.has(k)) continue;
    seen.add(k);
    self.set(k, (self.get(k) ?? 0) + d);
  }
}
function keyOf(n) {
  const cf = n.callFrame;
  return `${cf.functionName || "(anonymous)"} ${cf.url.split("/").slice(-3).join("/")}:${cf.lineNumber + 1}:${cf.columnNumber + 1}`;
}
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg));
console.log(`total ${(total / 1000).toFixed(0)} ms`);
for (const [k, v] of rows)
  console.log(
    `${((100 * v) / total).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(1).padStart(7)} ms  ${k}`,
  );
