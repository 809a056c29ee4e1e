// Smoke test of the BUILT package under node, bun and deno: plug a fake device, enumerate,
// enable decode, access its BAR, DMA once. Throws on failure, prints one line.
import { enumerate, PciBus } from "@side-kernel/pci";

function check(cond, what) {
  if (!cond) throw new Error(`pci smoke: ${what}`);
}

const ram = new Uint8Array(0x10000);
const memory = {
  size: ram.length,
  readBytes: (pa, dst, off, len) => dst.set(ram.subarray(pa, pa + len), off),
  writeBytes: (pa, src, off, len) => ram.set(src.subarray(off, off + len), pa),
};
const levels = [];
const bus = new PciBus({
  memory,
  interrupts: { setIrqLevel: (irq, l) => levels.push([irq, l]), deliverMsi() {} },
});

const regs = new Uint32Array(0x20000 / 4);
let port;
const device = {
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
  attach: (p) => {
    port = p;
  },
  barRead: (bar, off) => (bar === 0 ? regs[off >>> 2] : 0),
  barWrite: (bar, off, _size, value) => {
    if (bar === 0) regs[off >>> 2] = value;
  },
  reset() {
    regs.fill(0);
  },
};
const fn = bus.plug({ device: 3 }, device);
const found = enumerate(bus);
check(found.length === 1 && found[0].irq === 11, `enumerate: ${JSON.stringify(found)}`);
const bar0 = found[0].bars[0].address;
check(bar0 === 0xc0000000 && found[0].bars[0].size === 0x20000, `BAR0 ${bar0}`);
check(bus.mmioRead(bar0 + 8, 4) === 0xffffffff, "decode must be off after enumeration");
fn.enable({ busMaster: true });
bus.mmioWrite(bar0 + 8, 4, 0x12345678);
check(bus.mmioRead(bar0 + 8, 4) === 0x12345678 && regs[2] === 0x12345678, "BAR0 read/write");
ram.set([1, 2, 3, 4], 0x100);
const buf = new Uint8Array(4);
check(port.dmaRead(0x100, buf, 0, 4) && buf[3] === 4, "DMA read");
port.setIrq(true);
check(levels.length === 1 && levels[0][0] === 11 && levels[0][1] === true, "INTx");
console.log("pci ok");
