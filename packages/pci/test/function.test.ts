import { describe, expect, it } from "vitest";
import {
  bdf,
  PCI_BASE_ADDRESS_0,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_INTERRUPT_LINE,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_MASK_64,
  PCI_MSI_PENDING_64,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_STATUS,
  PCI_STATUS_INTERRUPT,
  walkCapabilities,
} from "../src/index.js";
import { FakeDevice, makeBus } from "./fake-device.js";

const MSI_ADDR = 0xfee0_0000;

function capOffset(bus: ReturnType<typeof makeBus>["bus"], id: number, capId: number): number {
  const c = walkCapabilities(bus, id).find((x) => x.id === capId);
  if (c === undefined) throw new Error(`capability ${capId} missing`);
  return c.offset;
}

describe("DMA", () => {
  it("works only while Command.BusMaster is set, and records refusals", () => {
    const { bus, memory } = makeBus();
    const dev = new FakeDevice();
    const fn = bus.plug({ device: 3 }, dev);
    memory.bytes.set([1, 2, 3, 4], 0x1000);
    const buf = new Uint8Array(8);
    expect(dev.port.dmaRead(0x1000, buf, 2, 4)).toBe(false);
    expect(buf).toEqual(new Uint8Array(8));
    expect(bus.aborts).toEqual([
      { bdf: fn.bdf, addr: 0x1000, length: 4, write: false, reason: "bus-master-disabled" },
    ]);
    fn.enable({ busMaster: true });
    expect(dev.port.command & PCI_COMMAND_MASTER).toBe(PCI_COMMAND_MASTER);
    expect(dev.port.dmaRead(0x1000, buf, 2, 4)).toBe(true);
    expect([...buf]).toEqual([0, 0, 1, 2, 3, 4, 0, 0]);
    expect(dev.port.dmaWrite(0x2000, new Uint8Array([9, 8, 7]), 1, 2)).toBe(true);
    expect([...memory.bytes.subarray(0x2000, 0x2003)]).toEqual([8, 7, 0]);
    fn.disable();
    expect(dev.port.dmaWrite(0x2000, buf, 0, 1)).toBe(false);
    expect(bus.abortCount).toBe(2);
  });

  it("refuses addresses outside memory and malformed requests without throwing", () => {
    const { bus, memory } = makeBus();
    const dev = new FakeDevice();
    bus.plug({ device: 3 }, dev).enable({ busMaster: true });
    const buf = new Uint8Array(16);
    expect(dev.port.dmaRead(memory.size - 8, buf, 0, 16)).toBe(false);
    expect(dev.port.dmaWrite(memory.size, buf, 0, 1)).toBe(false);
    expect(dev.port.dmaRead(-4, buf, 0, 4)).toBe(false);
    expect(dev.port.dmaRead(0, buf, 10, 16)).toBe(false);
    expect(dev.port.dmaRead(0, buf, 0, Number.NaN)).toBe(false);
    expect(bus.aborts.map((a) => a.reason)).toEqual([
      "outside-memory",
      "outside-memory",
      "invalid-request",
      "invalid-request",
      "invalid-request",
    ]);
    expect(bus.aborts[1]).toMatchObject({ addr: memory.size, length: 1, write: true });
    expect(dev.port.dmaRead(memory.size - 16, buf, 0, 16)).toBe(true);
  });

  it("passes through the IOMMU: translations apply, null faults are recorded", () => {
    const { bus, memory } = makeBus();
    const dev = new FakeDevice();
    const fn = bus.plug({ device: 3 }, dev);
    fn.enable({ busMaster: true });
    const calls: [number, number, number, boolean][] = [];
    bus.setIommu({
      translate(requester, addr, length, write) {
        calls.push([requester, addr, length, write]);
        return addr >= 0x10_0000_0000 && addr < 0x10_0001_0000 ? addr - 0x10_0000_0000 + 0x8000 : null;
      },
    });
    memory.bytes[0x8004] = 0x5a;
    const buf = new Uint8Array(1);
    expect(dev.port.dmaRead(0x10_0000_0004, buf, 0, 1)).toBe(true);
    expect(buf[0]).toBe(0x5a);
    expect(dev.port.dmaWrite(0x4, buf, 0, 1)).toBe(false);
    expect(bus.aborts).toEqual([{ bdf: fn.bdf, addr: 4, length: 1, write: true, reason: "iommu-fault" }]);
    expect(calls).toEqual([
      [fn.bdf, 0x10_0000_0004, 1, false],
      [fn.bdf, 4, 1, true],
    ]);
    bus.setIommu(null);
    expect(dev.port.dmaWrite(0x4, buf, 0, 1)).toBe(true);
  });

  it("keeps the abort log bounded while counting every abort", () => {
    const { bus } = makeBus({ abortLogLimit: 4 });
    const dev = new FakeDevice();
    bus.plug({ device: 3 }, dev);
    for (let i = 0; i < 10; i++) dev.port.dmaRead(i, new Uint8Array(1), 0, 1);
    expect(bus.abortCount).toBe(10);
    expect(bus.aborts.map((a) => a.addr)).toEqual([6, 7, 8, 9]);
  });
});

describe("INTx", () => {
  it("routes INTA of 00:03.0 to IRQ 11 and reflects the level in Status", () => {
    const { bus, sink } = makeBus();
    const dev = new FakeDevice();
    const fn = bus.plug({ device: 3 }, dev);
    expect(fn.irq).toBe(11);
    dev.port.setIrq(true);
    expect(sink.changes).toEqual([{ irq: 11, level: true }]);
    expect(bus.configRead(fn.bdf, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT).toBe(PCI_STATUS_INTERRUPT);
    dev.port.setIrq(true); // no edge
    dev.port.setIrq(false);
    expect(sink.changes).toEqual([
      { irq: 11, level: true },
      { irq: 11, level: false },
    ]);
    expect(bus.configRead(fn.bdf, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT).toBe(0);
  });

  it("wire-ORs two devices sharing a line", () => {
    const { bus, sink } = makeBus();
    const a = new FakeDevice();
    const b = new FakeDevice();
    // 00:02.0 INTA and 00:03.0 INTA: routing[(2+0)%4]=11 and routing[(3+0)%4]=11.
    expect(bus.plug({ device: 2 }, a).irq).toBe(11);
    expect(bus.plug({ device: 3 }, b).irq).toBe(11);
    a.port.setIrq(true);
    b.port.setIrq(true);
    a.port.setIrq(false);
    expect(bus.irqLevel(11)).toBe(true);
    expect(sink.levels.get(11)).toBe(true);
    b.port.setIrq(false);
    expect(bus.irqLevel(11)).toBe(false);
    expect(sink.changes).toEqual([
      { irq: 11, level: true },
      { irq: 11, level: false },
    ]);
  });

  it("honours Command.INTx-disable while Status still shows the interrupt", () => {
    const { bus, sink } = makeBus();
    const dev = new FakeDevice();
    const fn = bus.plug({ device: 3 }, dev);
    bus.configWrite(fn.bdf, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
    dev.port.setIrq(true);
    expect(sink.changes).toEqual([]);
    expect(bus.configRead(fn.bdf, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT).toBe(PCI_STATUS_INTERRUPT);
    bus.configWrite(fn.bdf, PCI_COMMAND, 2, 0);
    expect(sink.changes).toEqual([{ irq: 11, level: true }]);
    expect(fn.intxAsserted).toBe(true);
    // The Interrupt Line register is software scratch; it does not re-route the wire.
    bus.configWrite(fn.bdf, PCI_INTERRUPT_LINE, 1, 5);
    dev.port.setIrq(false);
    expect(sink.changes.at(-1)).toEqual({ irq: 11, level: false });
  });

  it("ignores setIrq for a function without an interrupt pin", () => {
    const { bus, sink } = makeBus();
    const dev = new FakeDevice({ identity: { interruptPin: 0 } });
    expect(bus.plug({ device: 3 }, dev).irq).toBe(-1);
    dev.port.setIrq(true);
    expect(sink.changes).toEqual([]);
  });
});

describe("MSI", () => {
  function msiBus() {
    const env = makeBus();
    const dev = new FakeDevice({
      capabilities: [{ kind: "msi", vectors: 4, is64: true, perVectorMask: true }],
    });
    const fn = env.bus.plug({ device: 3 }, dev);
    const cap = capOffset(env.bus, fn.bdf, PCI_CAP_ID_MSI);
    return { ...env, dev, fn, cap };
  }

  it("returns false until enabled, then delivers address/data with the vector in the low data bits", () => {
    const { bus, sink, dev, fn, cap } = msiBus();
    expect(dev.port.signalMsi(0)).toBe(false);
    bus.configWrite(fn.bdf, cap + PCI_MSI_ADDRESS_LO, 4, MSI_ADDR + 0x3000);
    bus.configWrite(fn.bdf, cap + PCI_MSI_ADDRESS_HI, 4, 0);
    bus.configWrite(fn.bdf, cap + PCI_MSI_DATA_64, 2, 0x40);
    bus.configWrite(fn.bdf, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (2 << 4)); // 4 vectors
    expect(dev.port.signalMsi(0)).toBe(false); // bus master off: no memory write possible
    fn.enable({ busMaster: true });
    expect(dev.port.signalMsi(0)).toBe(true);
    expect(dev.port.signalMsi(3)).toBe(true);
    expect(dev.port.signalMsi(4)).toBe(false);
    expect(sink.msis).toEqual([
      { address: MSI_ADDR + 0x3000, data: 0x40 },
      { address: MSI_ADDR + 0x3000, data: 0x43 },
    ]);
  });

  it("sends only the vectors software enabled (Multiple Message Enable)", () => {
    const { bus, dev, fn, cap } = msiBus();
    fn.enable({ busMaster: true });
    bus.configWrite(fn.bdf, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE); // 1 vector
    expect(dev.port.signalMsi(0)).toBe(true);
    expect(dev.port.signalMsi(1)).toBe(false);
  });

  it("holds masked vectors pending and sends them on unmask", () => {
    const { bus, sink, dev, fn, cap } = msiBus();
    fn.enable({ busMaster: true });
    bus.configWrite(fn.bdf, cap + PCI_MSI_ADDRESS_LO, 4, MSI_ADDR);
    bus.configWrite(fn.bdf, cap + PCI_MSI_DATA_64, 2, 0x50);
    bus.configWrite(fn.bdf, cap + PCI_MSI_MASK_64, 4, 0b0110);
    bus.configWrite(fn.bdf, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (2 << 4));
    expect(bus.configRead(fn.bdf, cap + PCI_MSI_MASK_64, 4)).toBe(0b0110);
    expect(dev.port.signalMsi(1)).toBe(false);
    expect(dev.port.signalMsi(2)).toBe(false);
    expect(bus.configRead(fn.bdf, cap + PCI_MSI_PENDING_64, 4)).toBe(0b0110);
    bus.configWrite(fn.bdf, cap + PCI_MSI_PENDING_64, 4, 0); // pending bits are read-only
    expect(bus.configRead(fn.bdf, cap + PCI_MSI_PENDING_64, 4)).toBe(0b0110);
    expect(sink.msis).toEqual([]);
    bus.configWrite(fn.bdf, cap + PCI_MSI_MASK_64, 4, 0b0100);
    expect(sink.msis).toEqual([{ address: MSI_ADDR, data: 0x51 }]);
    expect(bus.configRead(fn.bdf, cap + PCI_MSI_PENDING_64, 4)).toBe(0b0100);
    // Mask bits above the supported vectors are read-only zero.
    bus.configWrite(fn.bdf, cap + PCI_MSI_MASK_64, 4, 0xffffffff);
    expect(bus.configRead(fn.bdf, cap + PCI_MSI_MASK_64, 4)).toBe(0xf);
  });

  it("stops INTx from reaching the line while MSI is enabled", () => {
    const { bus, sink, dev, fn, cap } = msiBus();
    bus.configWrite(fn.bdf, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
    dev.port.setIrq(true);
    expect(sink.changes).toEqual([]);
    bus.configWrite(fn.bdf, cap + PCI_MSI_FLAGS, 2, 0);
    expect(sink.changes).toEqual([{ irq: 11, level: true }]);
  });
});

describe("MSI-X", () => {
  const TABLE = 0x1000;
  const PBA = 0x1800;
  const BAR = 0xc000_0000;

  function msixBus() {
    const env = makeBus();
    const dev = new FakeDevice({
      bars: [{ kind: "mem32", size: 0x4000 }],
      capabilities: [{ kind: "msix", tableSize: 4, bar: 0, tableOffset: TABLE, pbaOffset: PBA }],
    });
    const fn = env.bus.plug({ device: 4 }, dev);
    env.bus.configWrite(fn.bdf, PCI_BASE_ADDRESS_0, 4, BAR);
    env.bus.configWrite(fn.bdf, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    const cap = capOffset(env.bus, fn.bdf, PCI_CAP_ID_MSIX);
    const program = (v: number, data: number, masked: boolean) => {
      env.bus.mmioWrite(BAR + TABLE + v * 16, 4, MSI_ADDR + v * 0x1000);
      env.bus.mmioWrite(BAR + TABLE + v * 16 + 4, 4, 0);
      env.bus.mmioWrite(BAR + TABLE + v * 16 + 8, 4, data);
      env.bus.mmioWrite(BAR + TABLE + v * 16 + 12, 4, masked ? 1 : 0);
    };
    return { ...env, dev, fn, cap, program };
  }

  it("serves the table and PBA from the BAR with entries masked at reset, the rest to the device", () => {
    const { bus, dev } = msixBus();
    for (let v = 0; v < 4; v++) expect(bus.mmioRead(BAR + TABLE + v * 16 + 12, 4)).toBe(1);
    expect(bus.mmioRead(BAR + PBA, 4)).toBe(0);
    bus.mmioWrite(BAR + TABLE + 8, 4, 0x1234);
    expect(bus.mmioRead(BAR + TABLE + 8, 4)).toBe(0x1234);
    bus.mmioWrite(BAR + TABLE + 12, 4, 0xfffffffe); // reserved control bits stay 0
    expect(bus.mmioRead(BAR + TABLE + 12, 4)).toBe(0);
    bus.mmioWrite(BAR + 0x10, 4, 0xabcd);
    expect(bus.mmioRead(BAR + 0x10, 4)).toBe(0xabcd);
    expect(dev.accesses.every((a) => a.offset === 0x10)).toBe(true);
    expect(dev.accesses).toHaveLength(2);
  });

  it("delivers per-entry messages and holds masked ones in the PBA until unmasked", () => {
    const { bus, sink, dev, fn, cap, program } = msixBus();
    program(0, 0x60, false);
    program(2, 0x62, true);
    expect(dev.port.signalMsi(0)).toBe(false); // not enabled yet
    bus.configWrite(fn.bdf, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
    expect(dev.port.signalMsi(0)).toBe(true);
    expect(dev.port.signalMsi(2)).toBe(false);
    expect(dev.port.signalMsi(4)).toBe(false); // beyond the table
    expect(bus.mmioRead(BAR + PBA, 4)).toBe(0b100);
    bus.mmioWrite(BAR + PBA, 4, 0); // PBA is read-only
    expect(bus.mmioRead(BAR + PBA, 4)).toBe(0b100);
    bus.mmioWrite(BAR + TABLE + 2 * 16 + 12, 4, 0);
    expect(sink.msis).toEqual([
      { address: MSI_ADDR, data: 0x60 },
      { address: MSI_ADDR + 0x2000, data: 0x62 },
    ]);
    expect(bus.mmioRead(BAR + PBA, 4)).toBe(0);
  });

  it("applies the function mask over every entry", () => {
    const { bus, sink, dev, fn, cap, program } = msixBus();
    program(1, 0x71, false);
    bus.configWrite(fn.bdf, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    expect(dev.port.signalMsi(1)).toBe(false);
    expect(bus.mmioRead(BAR + PBA, 1)).toBe(0b10);
    bus.configWrite(fn.bdf, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
    expect(sink.msis).toEqual([{ address: MSI_ADDR + 0x1000, data: 0x71 }]);
    expect(bus.configRead(fn.bdf, cap + PCI_MSIX_FLAGS, 2) & 0x7ff).toBe(3);
  });
});

describe("function-level reset", () => {
  function pcieBus() {
    const env = makeBus();
    const dev = new FakeDevice({
      capabilities: [
        { kind: "msix", tableSize: 2, bar: 0, tableOffset: 0x1000, pbaOffset: 0x1800 },
        { kind: "pcie", flr: true },
      ],
    });
    const fn = env.bus.plug({ device: 3 }, dev);
    return { ...env, dev, fn, exp: capOffset(env.bus, fn.bdf, PCI_CAP_ID_EXP) };
  }

  it("resets config space, the MSI-X table and the device on Device Control bit 15", () => {
    const { bus, sink, dev, fn, exp } = pcieBus();
    const pristine = Array.from({ length: 0x40 }, (_, i) => bus.configRead(fn.bdf, i, 1));
    bus.configWrite(fn.bdf, PCI_BASE_ADDRESS_0, 4, 0xc000_0000);
    bus.configWrite(fn.bdf, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    bus.configWrite(fn.bdf, PCI_INTERRUPT_LINE, 1, 11);
    bus.mmioWrite(0xc000_1000 + 12, 4, 0); // unmask entry 0
    dev.port.setIrq(true);
    expect(bus.mmioRead(0xc000_0000, 4)).toBe(0);
    expect(bus.configRead(fn.bdf, exp + 4, 4) & (1 << 28)).not.toBe(0); // FLR capable
    bus.configWrite(fn.bdf, exp + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR | 0x2810);
    expect(dev.resets).toEqual(["flr"]);
    expect(Array.from({ length: 0x40 }, (_, i) => bus.configRead(fn.bdf, i, 1))).toEqual(pristine);
    expect(bus.configRead(fn.bdf, exp + PCI_EXP_DEVCTL, 2) & PCI_EXP_DEVCTL_BCR_FLR).toBe(0);
    expect(bus.mmioRead(0xc000_0000, 4)).toBe(0xffffffff); // decode off, BAR unassigned
    expect(sink.changes.at(-1)).toEqual({ irq: 11, level: false });
    // Table entries are masked again.
    bus.configWrite(fn.bdf, PCI_BASE_ADDRESS_0, 4, 0xc000_0000);
    bus.configWrite(fn.bdf, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    expect(bus.mmioRead(0xc000_1000 + 12, 4)).toBe(1);
  });

  it("ignores the FLR bit on a function that does not advertise FLR, while flr() always resets", () => {
    const { bus } = makeBus();
    const dev = new FakeDevice({ capabilities: [{ kind: "pcie", flr: false }] });
    const fn = bus.plug({ device: 3 }, dev);
    const exp = capOffset(bus, fn.bdf, PCI_CAP_ID_EXP);
    bus.configWrite(fn.bdf, PCI_INTERRUPT_LINE, 1, 11);
    bus.configWrite(fn.bdf, exp + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR);
    expect(dev.resets).toEqual([]);
    expect(bus.configRead(fn.bdf, PCI_INTERRUPT_LINE, 1)).toBe(11);
    fn.flr();
    expect(dev.resets).toEqual(["flr"]);
    expect(bus.configRead(fn.bdf, PCI_INTERRUPT_LINE, 1)).toBe(0);
    bus.reset();
    expect(dev.resets).toEqual(["flr", "bus"]);
  });
});

describe("enable and disable", () => {
  it("set and clear decode bits as pci_enable_device / pci_disable_device", () => {
    const { bus } = makeBus();
    const fn = bus.plug({ device: 3 }, new FakeDevice());
    fn.enable();
    expect(bus.configRead(bdf(0, 3, 0), PCI_COMMAND, 2)).toBe(3);
    fn.enable({ busMaster: true });
    expect(fn.command).toBe(7);
    fn.disable();
    expect(fn.command).toBe(0);
    const memOnly = bus.plug({ device: 4 }, new FakeDevice({ bars: [{ kind: "mem32", size: 0x1000 }] }));
    memOnly.enable();
    expect(memOnly.command).toBe(PCI_COMMAND_MEMORY);
  });
});
