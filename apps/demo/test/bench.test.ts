import { runUdpBenchmark, type UdpBenchmarkOptions, type UdpBenchmarkResult } from "@side-kernel/side-host";
import { describe, expect, it } from "vitest";
import {
  ALL_SIZES,
  BENCH_USAGE,
  type BenchDeps,
  benchCommand,
  benchJson,
  benchTable,
  compareModes,
  compareTable,
  DEFAULT_REPEAT,
  median,
  parseBenchArgs,
  repeatsDisagreement,
  simulatedFigures,
  WARMUP_PACKETS,
} from "../src/commands/bench.js";
import { main } from "../src/main.js";
import { inProcessWorkers } from "./in-process-worker.js";

/** ANSI colour escapes (cli-table3 colours its borders and heads). */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/**
 * Runs main(argv), or with `deps` `benchCommand(argv after "bench", deps)` (Node has no Worker:
 * tests of `--mode both` pass in-process workers), with console.log and console.error captured.
 */
async function capture(
  argv: string[],
  deps?: BenchDeps,
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (m: string) => out.push(m);
  console.error = (m: string) => err.push(m);
  try {
    const code = deps === undefined ? await main(argv) : await benchCommand(argv.slice(1), deps);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe("demo bench command", () => {
  it("parses the documented arguments", () => {
    expect(
      parseBenchArgs([
        "--mode",
        "native",
        "--direction",
        "rx",
        "--size",
        "1518",
        "--packets",
        "500",
        "--json",
      ]),
    ).toEqual({
      mode: "native",
      direction: "rx",
      sizes: [1518],
      packets: 500,
      linkGbps: 1,
      json: true,
    });
    expect((parseBenchArgs(["--size", "all"]) as { sizes: number[] }).sizes).toEqual([...ALL_SIZES]);
  });

  it("names the bad argument", () => {
    expect(parseBenchArgs(["--size", "63"])).toMatch(/--size "63" is not 64..1518/);
    expect(parseBenchArgs(["--size", "1519"])).toMatch(/--size/);
    expect(parseBenchArgs(["--direction", "up"])).toMatch(/--direction "up"/);
    expect(parseBenchArgs(["--packets", "-5"])).toMatch(/--packets "-5"/);
    expect(parseBenchArgs(["--packets"])).toMatch(/--packets needs a value/);
    expect(parseBenchArgs(["--frobnicate", "1"])).toMatch(/unknown option --frobnicate/);
    expect(parseBenchArgs(["64"])).toMatch(/unexpected argument "64"/);
  });

  it("exits 2 with the usage on a bad argument", async () => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      expect(await main(["bench", "--size", "9000"])).toBe(2);
    } finally {
      console.error = orig;
    }
    expect(errors.join("\n")).toMatch(/usage: bun src\/main.ts bench/);
  });

  it("renders a run as a table row and as JSON with the required fields", () => {
    const r = runUdpBenchmark({ mode: "native", direction: "tx", frameSize: 128, packets: 200 });
    const json = benchJson(r);
    for (const k of [
      "mbps",
      "pps",
      "cpuUtilization",
      "kernelCallsPerPacket",
      "mmioPerPacket",
      "crossingsPerPacket",
      "tlbMissesPerPacket",
      "hostPps",
    ]) {
      expect(typeof json[k], k).toBe("number");
    }
    const table = benchTable([r]);
    expect(table).toContain("128");
    expect(table).toContain("Mbit/s");
  });
});

describe("demo bench --mode both", () => {
  it("parses --mode both and --repeat", () => {
    expect(parseBenchArgs(["--mode", "both", "--repeat", "5", "--size", "all"])).toEqual({
      mode: "both",
      direction: "tx",
      sizes: [...ALL_SIZES],
      packets: 100_000,
      linkGbps: 1,
      json: false,
      repeat: 5,
    });
    // the default is applied when the comparison runs
    expect((parseBenchArgs(["--mode", "both"]) as { repeat?: number }).repeat).toBeUndefined();
    expect(DEFAULT_REPEAT).toBe(3);
    expect(WARMUP_PACKETS).toBe(100_000);
    expect(BENCH_USAGE).toMatch(/--warmup .*\(default\s+100000, or --packets if fewer\)/s);
    expect(parseBenchArgs(["--mode", "both", "--warmup", "0"])).toMatchObject({ mode: "both", warmup: 0 });
    expect((parseBenchArgs(["--mode", "both"]) as { warmup?: number }).warmup).toBeUndefined();
    // --repeat after --mode both works too
    expect((parseBenchArgs(["--repeat", "2", "--mode", "both"]) as { repeat?: number }).repeat).toBe(2);
  });

  it("names a bad --repeat or --mode and exits 2 with the usage, starting no worker", async () => {
    expect(parseBenchArgs(["--mode", "both", "--repeat", "0"])).toMatch(
      /--repeat "0" is not an integer 1..100/,
    );
    expect(parseBenchArgs(["--mode", "both", "--repeat", "x"])).toMatch(/--repeat "x" is not an integer/);
    expect(parseBenchArgs(["--mode", "both", "--repeat", "1.5"])).toMatch(/--repeat "1.5"/);
    expect(parseBenchArgs(["--mode", "both", "--repeat", "101"])).toMatch(/--repeat "101"/);
    expect(parseBenchArgs(["--mode", "both", "--repeat"])).toMatch(/--repeat needs a value/);
    expect(parseBenchArgs(["--repeat", "3"])).toMatch(/--repeat 3 needs --mode both/);
    expect(parseBenchArgs(["--mode", "isolated", "--repeat", "3"])).toMatch(/needs --mode both/);
    expect(parseBenchArgs(["--mode", "both", "--warmup", "-1"])).toMatch(
      /--warmup "-1" is not an integer 0../,
    );
    expect(parseBenchArgs(["--mode", "both", "--warmup", "lots"])).toMatch(/--warmup "lots"/);
    expect(parseBenchArgs(["--mode", "native", "--warmup", "10"])).toMatch(/--warmup 10 needs --mode both/);
    expect(parseBenchArgs(["--mode", "all"])).toMatch(/--mode "all" is not native, isolated or both/);
    for (const argv of [
      ["bench", "--mode", "both", "--repeat", "0"],
      ["bench", "--mode", "both", "--repeat", "x"],
      ["bench", "--repeat", "2"],
    ]) {
      const { workers, create } = inProcessWorkers();
      const { code, out, err } = await capture(argv, { createWorker: create });
      expect(workers).toHaveLength(0);
      expect(code, argv.join(" ")).toBe(2);
      expect(out).toBe("");
      expect(err).toMatch(
        /^bench: --repeat .*\nusage: bun src\/main.ts bench .*--mode native\|isolated\|both/s,
      );
      expect(err).toMatch(/--repeat {5}--mode both only/);
    }
  });

  it("prints one JSON document: settings, and per size both modes' figures, medians and hostRatio", async () => {
    const { workers, create } = inProcessWorkers();
    const { code, out, err } = await capture(
      [
        "bench",
        "--mode",
        "both",
        "--direction",
        "rx",
        "--size",
        "128",
        "--packets",
        "300",
        "--repeat",
        "2",
        "--json",
      ],
      { createWorker: create },
    );
    expect(err).toBe("");
    expect(code).toBe(0);
    // one worker per mode, each ran its own mode's runs only (warm-up and 2 repeats), and both
    // were terminated
    expect(workers.map((w) => w.mode)).toEqual(["native", "isolated"]);
    for (const w of workers) {
      expect(w.requests.map((r) => `${r.options.mode} ${r.options.packets}`)).toEqual(
        Array(3).fill(`${w.mode} 300`),
      );
      expect(w.terminated).toBe(true);
    }
    const doc = JSON.parse(out);
    expect(doc).toMatchObject({
      mode: "both",
      direction: "rx",
      packets: 300,
      linkGbps: 1,
      repeat: 2,
      warmup: { packets: 300, runsPerMode: 1, discarded: true },
    });
    expect(doc.note).toMatch(/warm-up .*discarded/);
    expect(doc.note).toMatch(/each mode in its own worker \(own JIT\), one run at a time/);
    expect(doc.note).not.toMatch(/one process/);
    expect(doc.comparisons).toHaveLength(1);
    const c = doc.comparisons[0];
    expect(c.frameSize).toBe(128);
    expect(c.direction).toBe("rx");
    for (const mode of ["native", "isolated"] as const) {
      const m = c[mode];
      expect(m.mode).toBe(mode);
      expect(m.frameSize).toBe(128);
      expect(m.packets).toBe(300);
      // the existing single-run fields, unrenamed
      for (const k of [
        "mbps",
        "pps",
        "cpuUtilization",
        "kernelCallsPerPacket",
        "crossingsPerPacket",
        "tlbMissesPerPacket",
        "cyclesPerPacket",
        "hostMs",
        "hostPps",
      ])
        expect(typeof m[k], `${mode}.${k}`).toBe("number");
      expect(m.loss.sent).toBe(300);
      expect(m.loss.received).toBeGreaterThan(0);
      expect(m.hostPpsRepeats).toHaveLength(2);
      expect(m.hostMsRepeats).toHaveLength(2);
      expect(m.hostPps).toBe(median(m.hostPpsRepeats));
      expect(m.hostMs).toBe(median(m.hostMsRepeats));
      for (const p of m.hostPpsRepeats) expect(p).toBeGreaterThan(0);
    }
    expect(c.native.crossingsPerPacket).toBe(0);
    expect(c.isolated.crossingsPerPacket).toBeGreaterThan(0);
    expect(c.isolated.tlbMissesPerPacket).toBeGreaterThan(c.native.tlbMissesPerPacket);
    expect(c.hostRatio).toBe(c.isolated.hostPps / c.native.hostPps);
  });

  it("prints a table saying the warm-up was discarded, with a row per mode and the host ratio", async () => {
    const { workers, create } = inProcessWorkers();
    const { code, out: coloured } = await capture(
      ["bench", "--mode", "both", "--size", "64", "--packets", "200", "--repeat", "1"],
      { createWorker: create },
    );
    expect(code).toBe(0);
    expect(workers.every((w) => w.terminated)).toBe(true);
    const out = coloured.replace(ANSI, "");
    expect(out).toMatch(/native against isolated, each mode in its own worker \(own JIT\)/);
    expect(out).not.toMatch(/one process/);
    expect(out).toMatch(
      /a warm-up run of each mode \(200 packets; results discarded\), then 1 alternating pair \(native, isolated, \.\.\.\), one run at a time/,
    );
    expect(out).toMatch(/│ 64 +│ tx +│ native +│/);
    expect(out).toMatch(/│ 64 +│ tx +│ isolated +│/);
    expect(out).toContain("isolated/native host");
  });

  it("runs a warm-up of each mode, then alternating pairs, one at a time, whose simulated figures agree", async () => {
    const calls: { options: UdpBenchmarkOptions; result: UdpBenchmarkResult }[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const c = await compareModes({
      direction: "tx",
      frameSize: 256,
      packets: 150,
      linkGbps: 1,
      repeat: 3,
      warmupPackets: 50,
      run: async (options) => {
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        await new Promise((r) => setTimeout(r, 1)); // a run takes time: the next must wait for it
        const result = runUdpBenchmark(options);
        calls.push({ options, result });
        inFlight--;
        return result;
      },
    });
    expect(mostInFlight).toBe(1);
    expect(calls.map((x) => `${x.options.mode} ${x.options.packets}`)).toEqual([
      "native 50",
      "isolated 50",
      "native 150",
      "isolated 150",
      "native 150",
      "isolated 150",
      "native 150",
      "isolated 150",
    ]);
    for (const mode of ["native", "isolated"] as const) {
      const repeats = calls.slice(2).filter((x) => x.options.mode === mode);
      const first = simulatedFigures(repeats[0].result);
      expect(first.tlbMissesPerPacket).toBeTypeOf("number");
      expect(first).not.toHaveProperty("hostPps");
      for (const r of repeats) expect(simulatedFigures(r.result)).toEqual(first);
      expect(repeatsDisagreement(repeats.map((x) => x.result))).toBeNull();
      // the same figures as a single-mode run (a fresh machine per run)
      expect(first).toEqual(
        simulatedFigures(runUdpBenchmark({ mode, direction: "tx", frameSize: 256, packets: 150 })),
      );
      // the reported result is the first repeat, not the warm-up
      expect(c[mode].result).toBe(repeats[0].result);
      expect(c[mode].hostPpsRepeats).toEqual(repeats.map((x) => x.result.hostPps));
    }
    const table = compareTable([c]);
    expect(table).toContain("256");
    expect(table).toContain("isolated");
  });

  it("reports the median host pps of each mode and their ratio", async () => {
    const base = {
      native: runUdpBenchmark({ mode: "native", direction: "tx", frameSize: 64, packets: 100 }),
      isolated: runUdpBenchmark({ mode: "isolated", direction: "tx", frameSize: 64, packets: 100 }),
    };
    const hostPps = { native: [1, 100, 300, 200], isolated: [1, 50, 90, 70] }; // first: warm-up
    const c = await compareModes({
      direction: "tx",
      frameSize: 64,
      packets: 100,
      linkGbps: 1,
      repeat: 3,
      warmupPackets: 100,
      run: async (o) => ({ ...base[o.mode], hostPps: hostPps[o.mode].shift()!, hostMs: 1 }),
    });
    expect(c.native.hostPpsRepeats).toEqual([100, 300, 200]);
    expect(c.native.hostPps).toBe(200);
    expect(c.isolated.hostPps).toBe(70);
    expect(c.hostRatio).toBeCloseTo(0.35, 12);
    expect(c.hostRatio).toBe(c.isolated.hostPps / c.native.hostPps);
  });

  it("fails loudly, naming the figure, when the repeats' simulated figures disagree", async () => {
    const r = runUdpBenchmark({ mode: "isolated", direction: "tx", frameSize: 64, packets: 100 });
    const off = { ...r, tlbMissesPerPacket: r.tlbMissesPerPacket + 1 };
    expect(repeatsDisagreement([r, r, off])).toBe(
      `tlbMissesPerPacket is ${r.tlbMissesPerPacket} in repeat 1 and ${r.tlbMissesPerPacket + 1} in repeat 3`,
    );
    const late = { ...r, latency: { ...r.latency, p99: r.latency.p99 + 5 } };
    expect(repeatsDisagreement([r, late])).toMatch(
      /^latency\.p99 is [\d.]+ in repeat 1 and [\d.]+ in repeat 2$/,
    );
    // host time is not a simulated figure
    expect(repeatsDisagreement([r, { ...r, hostPps: r.hostPps * 2, hostMs: r.hostMs / 2 }])).toBeNull();
    const results = [r, r, off];
    await expect(
      compareModes({
        direction: "tx",
        frameSize: 64,
        packets: 100,
        linkGbps: 1,
        repeat: 3,
        warmupPackets: 0,
        run: async (o) => (o.mode === "native" ? r : results.shift()!),
      }),
    ).rejects.toThrow(/isolated tx 64 B: the simulated figures of the repeats disagree .*tlbMissesPerPacket/);
  });

  it("refuses a repeat below 1 or a negative warm-up before running anything", async () => {
    const o = { direction: "tx", frameSize: 64, packets: 10, linkGbps: 1 } as const;
    let ran = 0;
    const run = async (): Promise<UdpBenchmarkResult> => {
      ran++;
      throw new Error("ran");
    };
    await expect(compareModes({ ...o, repeat: 0, warmupPackets: 0, run })).rejects.toThrow(
      /repeat 0 is not a positive/,
    );
    await expect(compareModes({ ...o, repeat: 1, warmupPackets: -1, run })).rejects.toThrow(
      /warmupPackets -1/,
    );
    expect(ran).toBe(0);
  });

  it("exits 1, naming the size and the error, when a worker's run fails, and terminates both workers", async () => {
    const { workers, create } = inProcessWorkers((options) => {
      if (options.mode === "isolated" && options.packets === 100) throw new Error("driver fell over");
      return runUdpBenchmark(options);
    });
    const { code, out, err } = await capture(
      ["bench", "--mode", "both", "--size", "128", "--packets", "100", "--warmup", "50", "--repeat", "2"],
      { createWorker: create },
    );
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err).toBe("bench: tx 128 B failed: driver fell over");
    // warm-ups of both modes, then native 1/2, then isolated 1/2 failed: nothing after it
    expect(workers.map((w) => [w.mode, w.requests.map((r) => r.options.packets)])).toEqual([
      ["native", [50, 100]],
      ["isolated", [50, 100]],
    ]);
    expect(workers.every((w) => w.terminated)).toBe(true);
  });

  it("exits 1 when a worker cannot start (its error event), and terminates both workers", async () => {
    const { workers, create } = inProcessWorkers();
    const createFailing = (mode: "native" | "isolated") => {
      const w = create(mode);
      if (mode === "isolated") w.postMessage = () => w.fail("Cannot find module bench-worker.ts");
      return w;
    };
    const { code, err } = await capture(
      ["bench", "--mode", "both", "--packets", "100", "--warmup", "0", "--repeat", "1"],
      { createWorker: createFailing },
    );
    expect(code).toBe(1);
    expect(err).toBe("bench: tx 64 B failed: the isolated worker failed: Cannot find module bench-worker.ts");
    expect(workers.map((w) => w.terminated)).toEqual([true, true]);
  });

  it("takes the median of odd and even counts and refuses none", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(RangeError);
  });
});
