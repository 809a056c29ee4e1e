// Benchmarks of @side-kernel/kservice: the checked-call layer's argument checks and the ledger,
// in calls per second of host time. Prints one JSON object with --json.
import { Bench } from "tinybench";
import { type CallerDomain, checkCall, DMA_TO_DEVICE, GFP_KERNEL, Ledger } from "../src/index.js";

const json = process.argv.includes("--json");
const BASE = 0xd000_0000_0000;
const ledger = new Ledger();
const domain: CallerDomain = {
  ownsRange: (a, n) => a >= BASE && a + n <= BASE + 0x100000,
  isEntryPoint: () => true,
  ownsIrq: () => true,
  ownsHandle: (kind, v) => kind === "pci-dev" || ledger.has(kind, v),
};
const kmallocArgs = [64, GFP_KERNEL];
const mapArgs = [BASE, BASE + 0x800, 1514, DMA_TO_DEVICE];
let key = BASE;

const bench = new Bench({ time: 500, warmupTime: 100 });
bench
  .add("checkCall kmalloc", () => {
    checkCall("kmalloc", kmallocArgs, domain);
  })
  .add("checkCall dma_map_single", () => {
    checkCall("dma_map_single", mapArgs, domain);
  })
  .add("ledger acquire+release", () => {
    key += 64;
    ledger.acquire("skb", key, "netdev_alloc_skb");
    ledger.release("skb", key);
  });
await bench.run();

const rate = (i: number) => {
  const r = bench.tasks[i].result as { throughput?: { mean: number }; hz?: number } | undefined;
  return Math.round(r?.throughput?.mean ?? r?.hz ?? 0);
};
const out = {
  checkKmallocPerSec: rate(0),
  checkDmaMapSinglePerSec: rate(1),
  ledgerAcquireReleasePerSec: rate(2),
  node: process.version,
};
if (json) console.log(JSON.stringify(out));
else console.table(out);
