// Integration with the real PciBus: enumeration assigns the BARs, the Command register gates
// decode and bus mastering, DMA and INTx go through the bus.
import {
  enumerate,
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PciBus,
} from "@side-kernel/pci";
import { describe, expect, it } from "vitest";
import { AUTONEG_NS, buildUdpFrame, E1000, parseMac, regs as R } from "../src/index.js";
import { TestScheduler } from "./harness.js";

function setup() {
  const ram = new Uint8Array(0x100000);
  const memory = {
    size: ram.length,
    readBytes: (pa: number, dst: Uint8Array, o: number, n: number) => dst.set(ram.subarray(pa, pa + n), o),
    writeBytes: (pa: number, src: Uint8Array, o: number, n: number) => ram.set(src.subarray(o, o + n), pa),
  };
  const levels = new Map<number, boolean>();
  const bus = new PciBus({
    memory,
    interrupts: { setIrqLevel: (irq, level) => levels.set(irq, level), deliverMsi: () => {} },
  });
  const sched = new TestScheduler();
  const nic = new E1000({ scheduler: sched });
  bus.plug({ device: 3 }, nic);
  const [fn] = enumerate(bus);
  const mmio = fn.bars.find((b) => b.index === 0)!.address!;
  const io = fn.bars.find((b) => b.index === 1)!.address!;
  return { ram, bus, sched, nic, fn, mmio, io, levels };
}

describe("E1000 on the real PciBus", () => {
  it("enumerates as 8086:100E with BAR0 128 KiB MMIO and BAR1 64 B I/O; decode needs Command", () => {
    const { bus, fn, mmio, sched } = setup();
    expect(fn).toMatchObject({ vendorId: 0x8086, deviceId: 0x100e, classCode: 0x020000, interruptPin: 1 });
    expect(fn.bars.map((b) => [b.kind, b.size])).toEqual([
      ["mem32", 0x20000],
      ["io", 0x40],
    ]);
    expect(bus.mmioRead(mmio + R.STATUS, 4)).toBe(0xffffffff); // decode off
    bus.configWrite(fn.bdf, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
    sched.advance(AUTONEG_NS);
    expect(bus.mmioRead(mmio + R.STATUS, 4) & R.STATUS_LU).toBe(R.STATUS_LU);
  });

  it("resets through IOADDR/IODATA ports, transmits by DMA, raises INTx on its routed IRQ", () => {
    const { bus, fn, mmio, io, ram, sched, nic, levels } = setup();
    bus.configWrite(fn.bdf, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
    sched.advance(AUTONEG_NS);
    bus.mmioWrite(mmio + R.IMS, 4, R.ICR_TXDW);
    bus.mmioWrite(mmio + R.RDLEN, 4, 4096);
    bus.ioWrite(io + R.IOADDR, 4, R.CTRL);
    bus.ioWrite(io + R.IODATA, 4, R.CTRL_RST);
    expect(bus.mmioRead(mmio + R.RDLEN, 4)).toBe(0);
    expect(bus.mmioRead(mmio + R.IMS, 4)).toBe(0);

    const sent: Uint8Array[] = [];
    nic.attachBackend({ send: (f, l) => sent.push(f.slice(0, l)) });
    const frame = buildUdpFrame({
      dstMac: parseMac("02:00:00:00:00:02"),
      srcMac: parseMac("52:54:00:12:34:56"),
      srcIp: 1,
      dstIp: 2,
      srcPort: 3,
      dstPort: 4,
      payload: new Uint8Array(30),
    });
    ram.set(frame, 0x8000);
    const v = new DataView(ram.buffer);
    v.setUint32(0x4000, 0x8000, true);
    v.setUint32(0x4008, (frame.length | R.TXD_CMD_EOP | R.TXD_CMD_IFCS | R.TXD_CMD_RS) >>> 0, true);
    bus.mmioWrite(mmio + R.TDBAL, 4, 0x4000);
    bus.mmioWrite(mmio + R.TDLEN, 4, 128);
    bus.mmioWrite(mmio + R.TCTL, 4, R.TCTL_EN);
    bus.mmioWrite(mmio + R.IMS, 4, R.ICR_TXDW);
    bus.mmioWrite(mmio + R.TDT, 4, 1);
    expect(sent.map((f) => Array.from(f))).toEqual([Array.from(frame)]);
    expect(ram[0x400c] & R.TXD_STAT_DD).toBe(R.TXD_STAT_DD);
    expect(fn.irq).not.toBeNull();
    expect(levels.get(fn.irq!)).toBe(true);
    bus.mmioRead(mmio + R.ICR, 4);
    expect(levels.get(fn.irq!)).toBe(false);
  });

  it("bus mastering off: DMA is a master abort recorded by the NIC and the bus, RX refuses frames", () => {
    const { bus, fn, mmio, sched, nic } = setup();
    bus.configWrite(fn.bdf, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    sched.advance(AUTONEG_NS);
    bus.mmioWrite(mmio + R.TDLEN, 4, 128);
    bus.mmioWrite(mmio + R.TCTL, 4, R.TCTL_EN);
    bus.mmioWrite(mmio + R.TDT, 4, 1);
    expect(nic.errors.at(-1)?.kind).toBe("master-abort");
    expect(bus.aborts.length).toBeGreaterThan(0);
    bus.mmioWrite(mmio + R.RCTL, 4, R.RCTL_EN);
    expect(nic.canReceive()).toBe(false);
  });
});
