/**
 * Benchmarks of @side-kernel/driver-e1000 (tinybench): the pure helpers, in operations per
 * second of host time. What a probe costs in simulated time is checked on the real host
 * (side-host's test/e1000-driver.test.ts); end-to-end throughput comes from the demo, which
 * runs the driver in a whole host.
 * `npm run bench -w @side-kernel/driver-e1000 -- --json` prints one JSON object and nothing else.
 */
import { buildEepromImage, E1000_DEVICE_ID } from "@side-kernel/net-nic";
import { Bench } from "tinybench";
import {
  decodeRxDescriptor,
  eepromChecksum,
  encodeTxDescriptor,
  mtaHash,
  newRxDescriptor,
  txDescLower,
} from "../src/helpers.js";
import { E1000_TXD_CMD_EOP, E1000_TXD_CMD_IFCS, E1000_TXD_CMD_RS } from "../src/regs.js";

const OPS = 100_000;
const json = process.argv.includes("--json");
const CMD = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;

const ring = new DataView(new ArrayBuffer(256 * 16));
const macs = Array.from({ length: 256 }, (_, i) => [0x01, 0x00, 0x5e, i, (i * 7) & 0xff, (i * 13) & 0xff]);
const image = buildEepromImage(Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56), E1000_DEVICE_ID);
const rx = newRxDescriptor();
let sink = 0;

function encodeLoop(): void {
  for (let i = 0; i < OPS; i++)
    encodeTxDescriptor(ring, (i & 255) * 16, 0x100000 + i * 2048, 60 + (i & 1023), CMD);
}

function lowerLoop(): void {
  let s = 0;
  for (let i = 0; i < OPS; i++) s += txDescLower(60 + (i & 1023), CMD);
  sink += s;
}

function decodeLoop(): void {
  let s = 0;
  for (let i = 0; i < OPS; i++) s += decodeRxDescriptor(ring, (i & 255) * 16, rx).length;
  sink += s;
}

function mtaLoop(): void {
  let s = 0;
  for (let i = 0; i < OPS; i++) s += mtaHash(macs[i & 255], i & 3);
  sink += s;
}

const CHECKSUMS = 10_000;
function checksumLoop(): void {
  let s = 0;
  for (let i = 0; i < CHECKSUMS; i++) s += eepromChecksum(image);
  sink += s;
}

async function main(): Promise<void> {
  const bench = new Bench({ time: 1000, warmupTime: 200 });
  bench
    .add("encodeTxDescriptor", encodeLoop)
    .add("txDescLower", lowerLoop)
    .add("decodeRxDescriptor", decodeLoop)
    .add("mtaHash", mtaLoop)
    .add("eepromChecksum", checksumLoop);
  await bench.run();
  const perSec = (name: string, ops: number): number => {
    const t = bench.getTask(name)?.result;
    if (t === undefined || !("latency" in t)) throw new Error(`benchmark ${name} did not run`);
    return Math.round((ops * 1000) / t.latency.mean);
  };
  const result = {
    encodeTxDescriptorPerSec: perSec("encodeTxDescriptor", OPS),
    txDescLowerPerSec: perSec("txDescLower", OPS),
    decodeRxDescriptorPerSec: perSec("decodeRxDescriptor", OPS),
    mtaHashPerSec: perSec("mtaHash", OPS),
    eepromChecksum64WordsPerSec: perSec("eepromChecksum", CHECKSUMS),
    node: process.version,
  };
  if (sink === 0.5) console.error("unreachable");
  if (json) console.log(JSON.stringify(result));
  else console.table(result);
}

void main();
