/**
 * `bench` command: the UDP benchmark (netperf UDP_STREAM-like sender, or a line-rate generator
 * to a receiver process) on the simulated machine with the e1000 driver, through
 * `runUdpBenchmark` of @side-kernel/side-host.
 *
 *   bun src/main.ts bench --mode native --direction tx|rx --size 64..1518|all --packets N [--json]
 *
 * Prints a cli-table3 table (with a cli-progress bar on stderr while a long run goes, when
 * stdout is a terminal), or with --json one JSON object: the run's figures for one size, or
 * `{ runs: [...] }` for `--size all` (64, 128, 256, 512, 1024, 1518). A bad argument prints the
 * usage on stderr and exits with code 2.
 */
import { runUdpBenchmark, type UdpBenchmarkResult } from "@side-kernel/side-host";
import { Presets, SingleBar } from "cli-progress";
import Table from "cli-table3";

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

/** Parsed arguments of `bench`. */
export interface BenchArgs {
  mode: "native" | "isolated";
  direction: "tx" | "rx";
  sizes: number[];
  packets: number;
  linkGbps: number;
  json: boolean;
}

/** Usage text of `bench`. */
export const BENCH_USAGE = `usage: bun src/main.ts bench [--mode native] [--direction tx|rx] [--size 64..1518|all]
                            [--packets N] [--link-gbps G] [--json]
  --mode       native (driver at ring 0; default) or isolated (SIDE driver domain)
  --direction  tx: a sender process to a sink on the wire; rx: a line-rate generator to a
               receiver process (default tx)
  --size       frame size on the wire incl. FCS, 64..1518, or "all" for 64,128,256,512,1024,1518
               (default 64)
  --packets    packets per run (default ${DEFAULT_PACKETS})
  --link-gbps  link speed in Gbit/s (default 1)
  --json       print one JSON object instead of a table`;

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
        if (value !== "native" && value !== "isolated") return `--mode "${value}" is not native or isolated`;
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
        const n = Number(value);
        if (!/^\d+$/.test(value) || n < MIN_SIZE || n > MAX_SIZE)
          return `--size "${value}" is not ${MIN_SIZE}..${MAX_SIZE} or all`;
        out.sizes = [n];
        break;
      }
      case "--packets": {
        const n = Number(value);
        if (!/^\d+$/.test(value) || n < 1 || n > MAX_PACKETS)
          return `--packets "${value}" is not an integer 1..${MAX_PACKETS}`;
        out.packets = n;
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

/** Run `bench` with `args`; returns the exit code (2 for a bad argument, 1 when a run fails). */
export function benchCommand(args: readonly string[] = []): number {
  const parsed = parseBenchArgs(args);
  if (typeof parsed === "string") {
    console.error(`bench: ${parsed}\n${BENCH_USAGE}`);
    return 2;
  }
  const runs: UdpBenchmarkResult[] = [];
  const showBar = process.stdout.isTTY === true && !parsed.json && parsed.packets >= PROGRESS_MIN_PACKETS;
  for (const size of parsed.sizes) {
    const bar = showBar
      ? new SingleBar(
          {
            format: `${parsed.direction} ${size} B [{bar}] {percentage}% | {value}/{total} packets`,
            hideCursor: true,
          },
          Presets.shades_classic,
        )
      : null;
    bar?.start(parsed.packets, 0);
    try {
      runs.push(
        runUdpBenchmark({
          mode: parsed.mode,
          direction: parsed.direction,
          frameSize: size,
          packets: parsed.packets,
          linkGbps: parsed.linkGbps,
          onProgress: bar === null ? undefined : (done) => bar.update(done),
        }),
      );
    } catch (e) {
      bar?.stop();
      console.error(
        `bench: ${parsed.direction} ${size} B failed: ${e instanceof Error ? e.message : String(e)}`,
      );
      return 1;
    }
    bar?.stop();
  }
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
