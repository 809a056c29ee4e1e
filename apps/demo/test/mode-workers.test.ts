import { runUdpBenchmark, type UdpBenchmarkOptions } from "@side-kernel/side-host";
import { describe, expect, it } from "vitest";
import { simulatedFigures } from "../src/commands/bench.js";
import { type BenchReply, benchServer, ModeWorkers } from "../src/commands/mode-workers.js";
import { inProcessWorkers } from "./in-process-worker.js";

const tx64 = { direction: "tx", frameSize: 64, packets: 200, linkGbps: 1 } as const;

describe("bench --mode both: a worker per mode", () => {
  it("a UdpBenchmarkResult is plain data: it survives the structured clone of postMessage", () => {
    for (const mode of ["native", "isolated"] as const) {
      const r = runUdpBenchmark({ ...tx64, mode });
      expect(structuredClone(r)).toStrictEqual(r);
    }
  });

  it("creates each mode's worker on its first run, sends it that mode's runs only, and passes results and progress back", async () => {
    const { workers, create } = inProcessWorkers();
    const mw = new ModeWorkers(create);
    expect(mw.modes).toEqual([]);
    const progress: [number, number][] = [];
    const native = await mw.run({
      ...tx64,
      mode: "native",
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(mw.modes).toEqual(["native"]);
    const isolated = await mw.run({ ...tx64, mode: "isolated" });
    const native2 = await mw.run({ ...tx64, mode: "native", packets: 100 });
    expect(mw.modes).toEqual(["native", "isolated"]);
    expect(
      workers.map((w) => [w.mode, w.requests.map((r) => `${r.options.mode} ${r.options.packets}`)]),
    ).toEqual([
      ["native", ["native 200", "native 100"]],
      ["isolated", ["isolated 200"]],
    ]);
    // the worker's own figures, host time included, as it measured them
    const [nw, iw] = workers;
    expect(nw.replies.filter((r) => r.type === "result").map((r) => r.result)).toEqual([native, native2]);
    expect(iw.replies.at(-1)).toEqual({ id: expect.any(Number), type: "result", result: isolated });
    expect(native.hostPps).toBeGreaterThan(0);
    expect(simulatedFigures(native)).toEqual(simulatedFigures(runUdpBenchmark({ ...tx64, mode: "native" })));
    expect(simulatedFigures(isolated)).toEqual(
      simulatedFigures(runUdpBenchmark({ ...tx64, mode: "isolated" })),
    );
    // progress was asked for in the first run only, reached the caller, and ended at the total
    expect(nw.requests.map((r) => r.progress)).toEqual([true, false]);
    expect(iw.requests.map((r) => r.progress)).toEqual([false]);
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.at(-1)).toEqual([200, 200]);
    expect(iw.replies.some((r) => r.type === "progress")).toBe(false);
    mw.terminate();
    expect(workers.every((w) => w.terminated)).toBe(true);
    await expect(mw.run({ ...tx64, mode: "native" })).rejects.toThrow(/terminated/);
  });

  it("runs one at a time: a run while another is in flight is refused", async () => {
    const { create } = inProcessWorkers();
    const mw = new ModeWorkers(create);
    const first = mw.run({ ...tx64, mode: "native" });
    await expect(mw.run({ ...tx64, mode: "isolated" })).rejects.toThrow(
      /a native run is in flight; runs go one at a time/,
    );
    expect(mw.modes).toEqual(["native"]); // the refused run started no worker
    await expect(first).resolves.toMatchObject({ mode: "native" });
    await expect(mw.run({ ...tx64, mode: "isolated" })).resolves.toMatchObject({ mode: "isolated" });
    mw.terminate();
  });

  it("rejects with the run's error, with the worker's error event, and when terminated mid-run", async () => {
    const { workers, create } = inProcessWorkers((o) => {
      if (o.packets === 13) throw new RangeError("unlucky");
      return runUdpBenchmark(o);
    });
    const mw = new ModeWorkers(create);
    await expect(mw.run({ ...tx64, mode: "native", packets: 13 })).rejects.toThrow(/^unlucky$/);
    // the worker lives on after a failed run
    await expect(mw.run({ ...tx64, mode: "native" })).resolves.toMatchObject({ mode: "native" });
    const iso = mw.run({ ...tx64, mode: "isolated" });
    workers[1].fail("out of memory");
    await expect(iso).rejects.toThrow(/^the isolated worker failed: out of memory$/);
    const late = mw.run({ ...tx64, mode: "native" });
    mw.terminate();
    await expect(late).rejects.toThrow(/terminated/);
  });

  it("a worker serves one mode: a request for the other gets an error reply", () => {
    const replies: BenchReply[] = [];
    const serve = benchServer((r) => replies.push(r));
    const options: Omit<UdpBenchmarkOptions, "onProgress"> = { ...tx64, packets: 50, mode: "native" };
    serve({ id: 1, options, progress: false });
    serve({ id: 2, options: { ...options, mode: "isolated" }, progress: false });
    expect(replies.map((r) => [r.id, r.type])).toEqual([
      [1, "result"],
      [2, "error"],
    ]);
    expect(replies[1]).toMatchObject({ message: "the native worker got a request for mode isolated" });
  });
});
