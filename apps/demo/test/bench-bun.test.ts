// `bench --mode both` as users run it: `bun src/main.ts` in a child process, with real Bun
// workers (Node, which runs these tests, has no global Worker). Bun loads the packages' builds
// (dist), so this needs `npm run build` first, as CI does; without a build it is skipped.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runUdpBenchmark } from "@side-kernel/side-host";
import { describe, expect, it } from "vitest";
import { simulatedFigures } from "../src/commands/bench.js";

const demo = fileURLToPath(new URL("..", import.meta.url));
const bun = fileURLToPath(new URL("../../../node_modules/.bin/bun", import.meta.url));
const built = existsSync(
  fileURLToPath(new URL("../../../packages/side-host/dist/index.js", import.meta.url)),
);

/** Runs `bun src/main.ts bench ...args` in apps/demo. */
function bench(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bun, ["src/main.ts", "bench", ...args], {
    cwd: demo,
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!built)(
  "bun src/main.ts bench --mode both (child process, real workers; needs a build)",
  () => {
    it("prints both modes, measured in their workers, with agreeing simulated figures and a host ratio", () => {
      const args = ["--mode", "both", "--direction", "tx", "--size", "64", "--packets", "300"];
      const { status, stdout, stderr } = bench([...args, "--repeat", "2", "--warmup", "100", "--json"]);
      expect(stderr).toBe("");
      expect(status).toBe(0);
      const doc = JSON.parse(stdout);
      expect(doc).toMatchObject({ mode: "both", direction: "tx", packets: 300, repeat: 2 });
      expect(doc.warmup).toEqual({ packets: 100, runsPerMode: 1, discarded: true });
      expect(doc.note).toMatch(/each mode in its own worker/);
      expect(doc.comparisons).toHaveLength(1);
      const c = doc.comparisons[0];
      for (const mode of ["native", "isolated"] as const) {
        const m = c[mode];
        expect(m.mode).toBe(mode);
        expect(m.loss).toMatchObject({ sent: 300, received: 300, lost: 0 });
        expect(m.leaks).toEqual({ frames: 0, irqActions: 0, ledgers: {}, heapBlocks: 0 });
        expect(m.hostPpsRepeats).toHaveLength(2);
        for (const p of m.hostPpsRepeats) expect(p).toBeGreaterThan(0);
        // the simulated figures are deterministic: Bun's worker reports those of a run here
        const { hostPps, hostMs, hostPpsRepeats, hostMsRepeats, ...simulated } = m;
        const here = simulatedFigures(
          runUdpBenchmark({ mode, direction: "tx", frameSize: 64, packets: 300 }),
        );
        expect(simulated, `${mode} (a stale build? npm run build)`).toEqual(here);
      }
      expect(c.native.crossingsPerPacket).toBe(0);
      expect(c.isolated.crossingsPerPacket).toBeGreaterThan(5);
      expect(c.hostRatio).toBeGreaterThan(0);
      expect(c.hostRatio).toBe(c.isolated.hostPps / c.native.hostPps);
    });

    it("exits 2 with the usage on a bad argument", () => {
      const { status, stdout, stderr } = bench(["--mode", "both", "--repeat", "0"]);
      expect(status).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toMatch(/^bench: --repeat "0" is not an integer 1..100\nusage: bun src\/main.ts bench/);
    });
  },
);
