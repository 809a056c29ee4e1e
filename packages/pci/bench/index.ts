/**
 * Host-speed benchmarks of the PCI bus: decoded MMIO reads and writes to a device BAR (the
 * per-packet path of a NIC driver's readl/writel), configuration reads, and DMA reads of 16
 * bytes (a descriptor) and 1518 bytes (a full Ethernet frame). Prints one JSON object.
 */
import { Bench } from "tinybench";
import type { AccessSize, DmaMemory, PciDevicePort } from "../src/index.js";
import { bdf, enumerate, PciBus } from "../src/index.js";

const json = process.argv.includes("--json");

const ram = new Uint8Array(16 << 20);
const memory: DmaMemory = {
  size: ram.length,
  readBytes: (pa, dst, off, len) => dst.set(ram.subarray(pa, pa + len), off),
  writeBytes: (pa, src, off, len) => ram.set(src.subarray(off, off + len), pa),
};
const bus = new PciBus({ memory, interrupts: { setIrqLevel() {}, deliverMsi() {} } });

const regs = new Uint32Array(0x20000 / 4);
let port: PciDevicePort | undefined;
// Eight devices so the decode has more than one window to choose from.
for (let d = 1; d <= 8; d++) {
  bus.plug(
    { device: d },
    {
      identity: {
        vendorId: 0x8086,
        deviceId: 0x100e,
        revision: 3,
        classCode: 0x020000,
        subsystemVendorId: 0x1af4,
        subsystemId: 0x1100,
        interruptPin: 1,
      },
      bars: [
        { kind: "mem32", size: 0x20000 },
        { kind: "io", size: 0x40 },
      ],
      attach(p) {
        if (d === 3) port = p;
      },
      barRead: (_bar: number, off: number, _size: AccessSize) => regs[off >>> 2],
      barWrite: (_bar: number, off: number, _size: AccessSize, value: number) => {
        regs[off >>> 2] = value;
      },
      reset() {},
    },
  );
}
const found = enumerate(bus);
for (const f of found) bus.functionAt(f.bdf)?.enable({ busMaster: true });
const nic = found.find((f) => f.device === 3);
const bar0 = nic?.bars[0].address ?? 0;
const other = found.find((f) => f.device === 7)?.bars[0].address ?? 0;
const nicBdf = bdf(0, 3, 0);
const dmaPort = port as PciDevicePort;
const small = new Uint8Array(16);
const frame = new Uint8Array(1518);

let sink = 0;
const bench = new Bench({ time: 300, warmupTime: 50 });
bench
  .add("mmioRead", () => {
    for (let i = 0; i < 1000; i++) sink ^= bus.mmioRead(bar0 + ((i & 63) << 2), 4);
  })
  .add("mmioWrite", () => {
    for (let i = 0; i < 1000; i++) bus.mmioWrite(bar0 + 0x3818, 4, i);
  })
  .add("mmioReadAlternating", () => {
    for (let i = 0; i < 1000; i++) sink ^= bus.mmioRead((i & 1 ? bar0 : other) + 8, 4);
  })
  .add("configRead", () => {
    for (let i = 0; i < 1000; i++) sink ^= bus.configRead(nicBdf, (i & 15) << 2, 4);
  })
  .add("dmaRead16", () => {
    for (let i = 0; i < 1000; i++) dmaPort.dmaRead(0x10000 + ((i & 255) << 4), small, 0, 16);
  })
  .add("dmaRead1518", () => {
    for (let i = 0; i < 1000; i++) dmaPort.dmaRead(0x100000 + (i & 63) * 2048, frame, 0, 1518);
  });

await bench.run();

const perSecond = (name: string): number => {
  const task = bench.tasks.find((t) => t.name === name);
  const r = task?.result as { throughput?: { mean: number } } | undefined;
  return Math.round((r?.throughput?.mean ?? 0) * 1000);
};
const result = {
  mmioReadsPerSec: perSecond("mmioRead"),
  mmioWritesPerSec: perSecond("mmioWrite"),
  mmioReadsAlternatingDevicesPerSec: perSecond("mmioReadAlternating"),
  configReadsPerSec: perSecond("configRead"),
  dmaReads16BPerSec: perSecond("dmaRead16"),
  dmaReads1518BPerSec: perSecond("dmaRead1518"),
};
// Keep the reads observable so no engine can drop them.
(globalThis as { pciBenchSink?: number }).pciBenchSink = sink;
if (json) console.log(JSON.stringify(result));
else console.table(result);
