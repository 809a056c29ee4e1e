/**
 * `bench` command: the UDP benchmark (netperf UDP_STREAM-like sender, or a line-rate generator
 * to a receiver process) on the simulated machine with the e1000 driver, through
 * `runUdpBenchmark` of @side-kernel/side-host.
 *
 *   bun src/main.ts bench --mode native|isolated|both --direction tx|rx --size 64..1518|all
 *                         --packets N [--repeat N] [--json]
 *
 * Prints a cli-table3 table (with a cli-progress bar on stderr while a long run goes, when
 * stdout is a terminal), or with --json one JSON object: the run's figures for one size, or
 * `{ runs: [...] }` for `--size all` (64, 128, 256, 512, 1024, 1518). A bad argument prints the
 * usage on stderr and exits with code 2.
 *
 * `--mode both` compares native against isolated with each mode in its own worker (a separate JS
 * engine instance, so its own JIT and compiled code; mode-workers.ts), created once per command
 * and used for every size: per size, one warm-up run of each mode (discarded), then `--repeat`
 * alternating pairs (native, isolated, ...), one run at a time (the other worker waits). The
 * simulated figures must agree across the repeats (they are deterministic; a disagreement fails
 * the command); host pps is the median of each mode's repeats, and `hostRatio` is median
 * isolated / median native host pps.
 */
import { runUdpBenchmark, type UdpBenchmarkOptions, type UdpBenchmarkResult } from "@side-kernel/side-host";
import { Presets, SingleBar } from "cli-progress";
import Table from "cli-table3";
import { type BenchMode, bunBenchWorker, ModeWorkers, type WorkerLike } from "./mode-workers.js";

/** The sizes `--size all` runs (frame bytes on the wire incl. FCS). */
export const ALL_SIZES = [64, 128, 256, 512, 1024, 1518] as const;
/** Smallest and largest frame size (IEEE 802.3, incl. FCS). */
const MIN_SIZE = 64;
const MAX_SIZE = 1518;
/** Default packets per run. */
const DEFAULT_PACKETS = 100_000;
/** Runs at least this long (packets) get a progress bar on a terminal. */
const PROGRESS_MIN_PACKETS = 20_000;
/** Most packets per run (a bound that keeps a typo from running for hours). */
const MAX_PACKETS = 100_000_000;
/** `--mode both`: alternating (native, isolated) pairs per size by default. */
export const DEFAULT_REPEAT = 3;
/** `--mode both`: most pairs per size. */
const MAX_REPEAT = 100;
/**
 * `--mode both`: default packets of each mode's warm-up run per size (at most --packets);
 * discarded. Under Bun a worker's JIT takes tens of thousands of packets to settle: at TX 64
 * bytes (50,000-packet repeats, Bun 1.4.5, 2 vCPUs, medians of 6-11 commands on a noisy shared
 * machine), the first measured repeat ran at 0.44 (native) and 0.65 (isolated) of the later
 * ones after a 5,000-packet warm-up, 0.86 and 0.98 after 50,000, 0.94 and 0.97 after 80,000.
 * 100,000 costs about 2-3 s of host time per size; the median of the repeats absorbs what is
 * left, and `--warmup` changes it. The workers live for the whole command, so at the later
 * sizes of `--size all` the warm-up tops up a JIT that is already warm.
 */
export const WARMUP_PACKETS = 100_000;

/** Parsed arguments of `bench`. */
export interface BenchArgs {
  /** One mode per run, or "both": native against isolated, each mode in its own worker. */
  mode: "native" | "isolated" | "both";
  direction: "tx" | "rx";
  sizes: number[];
  packets: number;
  linkGbps: number;
  json: boolean;
  /** `--mode both` only: alternating (native, isolated) pairs per size; absent = DEFAULT_REPEAT. */
  repeat?: number;
  /** `--mode both` only: packets of each mode's warm-up run; absent = min(WARMUP_PACKETS, packets). */
  warmup?: number;
}

/** Usage text of `bench`. */
export const BENCH_USAGE = `usage: bun src/main.ts bench [--mode native|isolated|both] [--direction tx|rx]
                            [--size 64..1518|all] [--packets N] [--repeat N] [--warmup N]
                            [--link-gbps G] [--json]
  --mode       native (driver at ring 0; default), isolated (SIDE driver domain), or both:
               native against isolated, each mode in its own worker (own JIT): per size a
               warm-up run of each mode (discarded), then --repeat alternating pairs (native,
               isolated, ...), one run at a time; host pps is the median of each mode's repeats
  --direction  tx: a sender process to a sink on the wire; rx: a line-rate generator to a
               receiver process (default tx)
  --size       frame size on the wire incl. FCS, 64..1518, or "all" for 64,128,256,512,1024,1518
               (default 64)
  --packets    packets per run (default ${DEFAULT_PACKETS})
  --repeat     --mode both only: (native, isolated) pairs per size, 1..${MAX_REPEAT} (default ${DEFAULT_REPEAT})
  --warmup     --mode both only: packets of each mode's warm-up run, 0 for none (default
               ${WARMUP_PACKETS}, or --packets if fewer)
  --link-gbps  link speed in Gbit/s (default 1)
  --json       print one JSON object instead of a table`;

/** `value` as a decimal integer in [min, max], or undefined if it is not one. */
function integerIn(value: string, min: number, max: number): number | undefined {
  const n = Number(value);
  return /^\d+$/.test(value) && n >= min && n <= max ? n : undefined;
}

/** Parse `bench`'s arguments. Returns the arguments, or an error message naming the bad one. */
export function parseBenchArgs(args: readonly string[]): BenchArgs | string {
  const out: BenchArgs = {
    mode: "native",
    direction: "tx",
    sizes: [MIN_SIZE],
    packets: DEFAULT_PACKETS,
    linkGbps: 1,
    json: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") {
      out.json = true;
      continue;
    }
    const value = args[i + 1];
    if (!a.startsWith("--")) return `unexpected argument "${a}"`;
    if (value === undefined || value.startsWith("--")) return `${a} needs a value`;
    i++;
    switch (a) {
      case "--mode":
        if (value !== "native" && value !== "isolated" && value !== "both")
          return `--mode "${value}" is not native, isolated or both`;
        out.mode = value;
        break;
      case "--direction":
        if (value !== "tx" && value !== "rx") return `--direction "${value}" is not tx or rx`;
        out.direction = value;
        break;
      case "--size": {
        if (value === "all") {
          out.sizes = [...ALL_SIZES];
          break;
        }
        const n = integerIn(value, MIN_SIZE, MAX_SIZE);
        if (n === undefined) return `--size "${value}" is not ${MIN_SIZE}..${MAX_SIZE} or all`;
        out.sizes = [n];
        break;
      }
      case "--packets": {
        const n = integerIn(value, 1, MAX_PACKETS);
        if (n === undefined) return `--packets "${value}" is not an integer 1..${MAX_PACKETS}`;
        out.packets = n;
        break;
      }
      case "--repeat": {
        const n = integerIn(value, 1, MAX_REPEAT);
        if (n === undefined) return `--repeat "${value}" is not an integer 1..${MAX_REPEAT}`;
        out.repeat = n;
        break;
      }
      case "--warmup": {
        const n = integerIn(value, 0, MAX_PACKETS);
        if (n === undefined) return `--warmup "${value}" is not an integer 0..${MAX_PACKETS}`;
        out.warmup = n;
        break;
      }
      case "--link-gbps": {
        const g = Number(value);
        if (!(g > 0) || !Number.isFinite(g)) return `--link-gbps "${value}" is not a positive number`;
        out.linkGbps = g;
        break;
      }
      default:
        return `unknown option ${a}`;
    }
  }
  if (out.repeat !== undefined && out.mode !== "both") return `--repeat ${out.repeat} needs --mode both`;
  if (out.warmup !== undefined && out.mode !== "both") return `--warmup ${out.warmup} needs --mode both`;
  return out;
}

/** The JSON figures of one run (every number of the result, plus a per-category split per packet). */
export function benchJson(r: UdpBenchmarkResult): Record<string, unknown> {
  const perPacket: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.cyclesByCategory))
    perPacket[k] = r.loss.received > 0 ? v / r.loss.received : 0;
  return { ...r, cyclesPerPacketByCategory: perPacket };
}

function fmt(n: number, digits = 2): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A cli-table3 table of runs. */
export function benchTable(runs: readonly UdpBenchmarkResult[]): string {
  const t = new Table({
    head: [
      "size",
      "dir",
      "Mbit/s",
      "kpps",
      "% line",
      "CPU %",
      "kcalls/pkt",
      "MMIO/pkt",
      "IRQ/pkt",
      "TLB miss/pkt",
      "cross/pkt",
      "syscalls/pkt",
      "cycles/pkt",
      "lat p50/p99 us",
      "host kpps",
      "lost",
    ],
  });
  for (const r of runs) {
    t.push([
      r.frameSize,
      r.direction,
      fmt(r.mbps, 1),
      fmt(r.pps / 1000, 1),
      fmt((100 * r.mbps) / r.lineRateMbps, 1),
      fmt(100 * r.cpuUtilization, 1),
      fmt(r.kernelCallsPerPacket),
      fmt(r.mmioPerPacket),
      fmt(r.interruptsPerPacket, 3),
      fmt(r.tlbMissesPerPacket, 4),
      fmt(r.crossingsPerPacket),
      fmt(r.syscallsPerPacket),
      fmt(r.cyclesPerPacket, 0),
      `${fmt(r.latency.p50 / 1000, 1)} / ${fmt(r.latency.p99 / 1000, 1)}`,
      fmt(r.hostPps / 1000, 1),
      `${r.loss.lost} (${r.loss.gaps} gaps, ${r.loss.outOfOrder} reordered)`,
    ]);
  }
  return t.toString();
}

/** A cli-table3 table of where the cycles went: busy cycles per delivered packet by category. */
export function cyclesTable(runs: readonly UdpBenchmarkResult[]): string {
  const cats = [...new Set(runs.flatMap((r) => Object.keys(r.cyclesByCategory)))].sort();
  const t = new Table({ head: ["size", "dir", ...cats.map((c) => `${c}/pkt`)] });
  for (const r of runs) {
    const n = r.loss.received;
    t.push([
      r.frameSize,
      r.direction,
      ...cats.map((c) => fmt(n > 0 ? (r.cyclesByCategory[c] ?? 0) / n : 0, 0)),
    ]);
  }
  return t.toString();
}

/** Median of `xs` (the mean of the middle two for an even count); throws RangeError when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median of no values");
  const l = [...xs].sort((a, b) => a - b);
  const mid = l.length >> 1;
  return l.length % 2 === 1 ? l[mid] : (l[mid - 1] + l[mid]) / 2;
}

/** Host-time fields of a run's JSON: they vary from run to run; everything else is simulated. */
const HOST_FIELDS: ReadonlySet<string> = new Set(["hostMs", "hostPps"]);

/** A run's simulated figures: its JSON (`benchJson`) without the host-time fields (hostMs, hostPps). */
export function simulatedFigures(r: UdpBenchmarkResult): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(benchJson(r))) if (!HOST_FIELDS.has(k)) out[k] = v;
  return out;
}

/** Where two JSON-like values first differ: the dotted path and both values; null when equal. */
function firstDifference(a: unknown, b: unknown, path = ""): { path: string; a: unknown; b: unknown } | null {
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
      const d = firstDifference(ra[k], rb[k], path === "" ? k : `${path}.${k}`);
      if (d !== null) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : { path, a, b };
}

/**
 * Checks that `runs` (repeats of one mode, size and direction) report the same simulated
 * figures. Returns null when they agree, or a message naming the first repeat and figure that
 * differ from repeat 1, e.g. `tlbMissesPerPacket is 18.9 in repeat 1 and 19 in repeat 2`.
 */
export function repeatsDisagreement(runs: readonly UdpBenchmarkResult[]): string | null {
  if (runs.length < 2) return null;
  const first = simulatedFigures(runs[0]);
  for (let i = 1; i < runs.length; i++) {
    const d = firstDifference(first, simulatedFigures(runs[i]));
    if (d !== null)
      return `${d.path} is ${JSON.stringify(d.a)} in repeat 1 and ${JSON.stringify(d.b)} in repeat ${i + 1}`;
  }
  return null;
}

/** One mode's repeats in a `--mode both` comparison. */
export interface ModeRepeats {
  /** The first repeat: its simulated figures stand for every repeat (they agree). */
  readonly result: UdpBenchmarkResult;
  /** Host pps and host ms of each repeat, in run order. */
  readonly hostPpsRepeats: readonly number[];
  readonly hostMsRepeats: readonly number[];
  /** Medians of the repeats. */
  readonly hostPps: number;
  readonly hostMs: number;
}

/** Native against isolated at one size and direction. */
export interface ModeComparison {
  readonly direction: "tx" | "rx";
  readonly frameSize: number;
  readonly native: ModeRepeats;
  readonly isolated: ModeRepeats;
  /** Median isolated host pps / median native host pps (0 when the native median is 0). */
  readonly hostRatio: number;
}

/** Options of `compareModes`. */
export interface CompareOptions {
  direction: "tx" | "rx";
  frameSize: number;
  /** Packets per measured run. */
  packets: number;
  linkGbps: number;
  /** Alternating (native, isolated) pairs after the warm-up, >= 1. */
  repeat: number;
  /** Packets of each mode's warm-up run (discarded); 0 skips the warm-up. */
  warmupPackets: number;
  /**
   * Runs one benchmark and resolves with its result: `bench` passes `ModeWorkers.run` (each
   * mode in its own worker); tests pass `runUdpBenchmark` in-process or a substitute. Called
   * one run at a time: the next call waits until the previous run has resolved.
   */
  run: (options: UdpBenchmarkOptions) => Promise<UdpBenchmarkResult>;
  /** Called about every 1% of a run with (label of the run, packets done, packets) over the whole comparison. */
  onProgress?: (label: string, done: number, total: number) => void;
}

/** Packets a `compareModes` call runs in all (warm-ups and repeats of both modes). */
export function comparePackets(o: Pick<CompareOptions, "packets" | "repeat" | "warmupPackets">): number {
  return 2 * (o.warmupPackets + o.repeat * o.packets);
}

/**
 * Run native against isolated with `o.run`, one run at a time: one warm-up run of each mode
 * (result discarded), then `repeat` alternating pairs (native, isolated, native, isolated,
 * ...). Resolves with each mode's first result, its repeats' host figures and medians, and the
 * host-pps ratio. Rejects with RangeError for a repeat below 1 or a negative warm-up (before
 * running anything), Error when a mode's repeats disagree on a simulated figure (naming it),
 * and whatever a run rejects with.
 */
export async function compareModes(o: CompareOptions): Promise<ModeComparison> {
  if (!Number.isInteger(o.repeat) || o.repeat < 1)
    throw new RangeError(`compareModes: repeat ${o.repeat} is not a positive integer`);
  if (!Number.isInteger(o.warmupPackets) || o.warmupPackets < 0)
    throw new RangeError(`compareModes: warmupPackets ${o.warmupPackets} is not an integer >= 0`);
  const total = comparePackets(o);
  let offset = 0;
  const once = async (mode: BenchMode, packets: number, label: string): Promise<UdpBenchmarkResult> => {
    const report = o.onProgress;
    const base = offset;
    const r = await o.run({
      mode,
      direction: o.direction,
      frameSize: o.frameSize,
      packets,
      linkGbps: o.linkGbps,
      onProgress: report === undefined ? undefined : (done) => report(label, base + done, total),
    });
    offset += packets;
    return r;
  };
  if (o.warmupPackets > 0) {
    await once("native", o.warmupPackets, "warm-up native");
    await once("isolated", o.warmupPackets, "warm-up isolated");
  }
  const runs: Record<BenchMode, UdpBenchmarkResult[]> = { native: [], isolated: [] };
  for (let i = 1; i <= o.repeat; i++) {
    for (const mode of ["native", "isolated"] as const)
      runs[mode].push(await once(mode, o.packets, `${mode} ${i}/${o.repeat}`));
  }
  const summary = (mode: BenchMode): ModeRepeats => {
    const rs = runs[mode];
    const bad = repeatsDisagreement(rs);
    if (bad !== null)
      throw new Error(
        `${mode} ${o.direction} ${o.frameSize} B: the simulated figures of the repeats disagree (they are deterministic): ${bad}`,
      );
    const hostPpsRepeats = rs.map((r) => r.hostPps);
    const hostMsRepeats = rs.map((r) => r.hostMs);
    return {
      result: rs[0],
      hostPpsRepeats,
      hostMsRepeats,
      hostPps: median(hostPpsRepeats),
      hostMs: median(hostMsRepeats),
    };
  };
  const native = summary("native");
  const isolated = summary("isolated");
  return {
    direction: o.direction,
    frameSize: o.frameSize,
    native,
    isolated,
    hostRatio: native.hostPps > 0 ? isolated.hostPps / native.hostPps : 0,
  };
}

/** What a `--mode both` run did and what its host figures mean (JSON `note`). */
function compareNote(warmupPackets: number, repeat: number): string {
  const warmup =
    warmupPackets > 0
      ? `one warm-up run of each mode (${warmupPackets} packets, discarded), then`
      : "no warm-up;";
  return `each mode in its own worker (own JIT), one run at a time; per size: ${warmup} ${repeat} alternating native/isolated pairs; the simulated figures of each mode's repeats agree; hostPps and hostMs are medians of the repeats; hostRatio = median isolated hostPps / median native hostPps`;
}

/**
 * The JSON document of a `--mode both` run: the settings, and per size `{ frameSize,
 * direction, native, isolated, hostRatio }`, where native and isolated are `benchJson` of the
 * mode's first repeat with hostPps and hostMs replaced by the medians of the repeats, plus
 * hostPpsRepeats and hostMsRepeats.
 */
export function compareJson(
  comparisons: readonly ModeComparison[],
  settings: {
    direction: "tx" | "rx";
    packets: number;
    linkGbps: number;
    repeat: number;
    warmupPackets: number;
  },
): Record<string, unknown> {
  const mode = (m: ModeRepeats) => ({
    ...benchJson(m.result),
    hostMs: m.hostMs,
    hostPps: m.hostPps,
    hostPpsRepeats: [...m.hostPpsRepeats],
    hostMsRepeats: [...m.hostMsRepeats],
  });
  return {
    mode: "both",
    direction: settings.direction,
    packets: settings.packets,
    linkGbps: settings.linkGbps,
    repeat: settings.repeat,
    warmup: {
      packets: settings.warmupPackets,
      runsPerMode: settings.warmupPackets > 0 ? 1 : 0,
      discarded: true,
    },
    note: compareNote(settings.warmupPackets, settings.repeat),
    comparisons: comparisons.map((c) => ({
      frameSize: c.frameSize,
      direction: c.direction,
      native: mode(c.native),
      isolated: mode(c.isolated),
      hostRatio: c.hostRatio,
    })),
  };
}

/** A cli-table3 table of comparisons: per size a native and an isolated row, and the host ratio. */
export function compareTable(comparisons: readonly ModeComparison[]): string {
  const t = new Table({
    head: [
      "size",
      "dir",
      "mode",
      "Mbit/s",
      "kpps",
      "% line",
      "CPU %",
      "cross/pkt",
      "TLB miss/pkt",
      "cycles/pkt",
      "lost",
      "host kpps (median)",
      "host kpps (repeats)",
      "isolated/native host",
    ],
  });
  for (const c of comparisons) {
    for (const mode of ["native", "isolated"] as const) {
      const m = c[mode];
      const r = m.result;
      t.push([
        r.frameSize,
        r.direction,
        mode,
        fmt(r.mbps, 1),
        fmt(r.pps / 1000, 1),
        fmt((100 * r.mbps) / r.lineRateMbps, 1),
        fmt(100 * r.cpuUtilization, 1),
        fmt(r.crossingsPerPacket),
        fmt(r.tlbMissesPerPacket, 4),
        fmt(r.cyclesPerPacket, 0),
        r.loss.lost,
        fmt(m.hostPps / 1000, 1),
        m.hostPpsRepeats.map((p) => fmt(p / 1000, 1)).join(", "),
        mode === "isolated" ? fmt(c.hostRatio, 3) : "",
      ]);
    }
  }
  return t.toString();
}

/**
 * Runs `run(size, bar)` for each size of `parsed`, one after the other, with a progress bar of
 * `total` packets (on a terminal, for runs long enough to want one; `format` follows the size,
 * `first` is its first payload). Resolves with the results in size order, or null after
 * printing the error of a run that threw or rejected.
 */
async function eachSize<T>(
  parsed: BenchArgs,
  format: string,
  total: number,
  first: Record<string, string>,
  run: (size: number, bar: SingleBar | null) => T | Promise<T>,
): Promise<T[] | null> {
  const showBar = process.stdout.isTTY === true && !parsed.json && parsed.packets >= PROGRESS_MIN_PACKETS;
  const results: T[] = [];
  for (const size of parsed.sizes) {
    const bar = showBar
      ? new SingleBar(
          { format: `${parsed.direction} ${size} B ${format}`, hideCursor: true },
          Presets.shades_classic,
        )
      : null;
    bar?.start(total, 0, first);
    try {
      results.push(await run(size, bar));
    } catch (e) {
      bar?.stop();
      console.error(
        `bench: ${parsed.direction} ${size} B failed: ${e instanceof Error ? e.message : String(e)}`,
      );
      return null;
    }
    bar?.stop();
  }
  return results;
}

/** What `benchCommand` runs `--mode both` with (tests substitute the workers). */
export interface BenchDeps {
  /** Makes the worker of a mode (default `bunBenchWorker`: a Bun `Worker` on bench-worker.ts). */
  createWorker?: (mode: BenchMode) => WorkerLike;
}

/**
 * `bench --mode both`: compare the modes at every size, each mode in its own worker (created on
 * its first run, used for every size, terminated at the end, also after a failure). Resolves
 * with the exit code (1 when a run fails or repeats disagree).
 */
async function compareCommand(parsed: BenchArgs, deps: BenchDeps): Promise<number> {
  const repeat = parsed.repeat ?? DEFAULT_REPEAT;
  const warmupPackets = parsed.warmup ?? Math.min(WARMUP_PACKETS, parsed.packets);
  const workers = new ModeWorkers(deps.createWorker ?? bunBenchWorker);
  let comparisons: ModeComparison[] | null;
  try {
    comparisons = await eachSize(
      parsed,
      "{run} [{bar}] {percentage}% | {value}/{total} packets",
      comparePackets({ packets: parsed.packets, repeat, warmupPackets }),
      { run: warmupPackets > 0 ? "warm-up native" : `native 1/${repeat}` },
      (size, bar) =>
        compareModes({
          direction: parsed.direction,
          frameSize: size,
          packets: parsed.packets,
          linkGbps: parsed.linkGbps,
          repeat,
          warmupPackets,
          run: (options) => workers.run(options),
          onProgress: bar === null ? undefined : (run, done) => bar.update(done, { run }),
        }),
    );
  } finally {
    workers.terminate();
  }
  if (comparisons === null) return 1;
  const settings = {
    direction: parsed.direction,
    packets: parsed.packets,
    linkGbps: parsed.linkGbps,
    repeat,
    warmupPackets,
  };
  if (parsed.json) {
    console.log(JSON.stringify(compareJson(comparisons, settings)));
    return 0;
  }
  console.log(
    `UDP ${parsed.direction.toUpperCase()}, native against isolated, each mode in its own worker (own JIT), e1000 at ${parsed.linkGbps} Gbit/s, ${parsed.packets} packets per run`,
  );
  console.log(
    `per size: ${warmupPackets > 0 ? `a warm-up run of each mode (${warmupPackets} packets; results discarded)` : "no warm-up"}, then ${repeat} alternating pair${repeat === 1 ? "" : "s"} (native, isolated, ...), one run at a time`,
  );
  console.log(compareTable(comparisons));
  console.log(
    `simulated figures: ${repeat === 1 ? "one run of each mode" : `the ${repeat} repeats of each mode agree`}; host kpps = simulated packets per host second, median of the repeats; isolated/native host = median isolated / median native host kpps`,
  );
  return 0;
}

/**
 * Run `bench` with `args`; resolves with the exit code (2 for a bad argument, 1 when a run
 * fails). `deps` substitutes the workers of `--mode both` (tests; the default needs Bun).
 */
export async function benchCommand(args: readonly string[] = [], deps: BenchDeps = {}): Promise<number> {
  const parsed = parseBenchArgs(args);
  if (typeof parsed === "string") {
    console.error(`bench: ${parsed}\n${BENCH_USAGE}`);
    return 2;
  }
  const mode = parsed.mode;
  if (mode === "both") return compareCommand(parsed, deps);
  const runs = await eachSize(
    parsed,
    "[{bar}] {percentage}% | {value}/{total} packets",
    parsed.packets,
    {},
    (size, bar) =>
      runUdpBenchmark({
        mode,
        direction: parsed.direction,
        frameSize: size,
        packets: parsed.packets,
        linkGbps: parsed.linkGbps,
        onProgress: bar === null ? undefined : (done) => bar.update(done),
      }),
  );
  if (runs === null) return 1;
  if (parsed.json) {
    const out = runs.length === 1 ? benchJson(runs[0]) : { runs: runs.map(benchJson) };
    console.log(JSON.stringify(out));
    return 0;
  }
  console.log(
    `UDP ${parsed.direction.toUpperCase()}, ${parsed.mode}, e1000 at ${parsed.linkGbps} Gbit/s, ${parsed.packets} packets per size`,
  );
  console.log(benchTable(runs));
  console.log("busy cycles per delivered packet, by category:");
  console.log(cyclesTable(runs));
  console.log(`simulated figures; ${runs[0]?.note ?? ""}; host kpps = simulated packets per host second`);
  return 0;
}
