import { runUdpBenchmark } from "@side-kernel/side-host";
import { describe, expect, it } from "vitest";
import { ALL_SIZES, benchJson, benchTable, parseBenchArgs } from "../src/commands/bench.js";
import { main } from "../src/main.js";

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

  it("exits 2 with the usage on a bad argument", () => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      expect(main(["bench", "--size", "9000"])).toBe(2);
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
