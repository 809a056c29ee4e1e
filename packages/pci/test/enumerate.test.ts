import { describe, expect, it } from "vitest";
import {
  bdf,
  enumerate,
  PCI_BASE_ADDRESS_0,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_COMMAND,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_LINE_NONE,
  PCI_ROM_ADDRESS,
} from "../src/index.js";
import { E1000_IDENTITY, FakeDevice, makeBus } from "./fake-device.js";

describe("enumerate", () => {
  it("finds QEMU's e1000 at 00:03.0 with IRQ 11, its BARs sized and assigned, decode left off", () => {
    const { bus } = makeBus();
    bus.plug({ device: 3 }, new FakeDevice());
    const found = enumerate(bus);
    expect(found).toHaveLength(1);
    const e = found[0];
    expect(e).toMatchObject({
      bdf: bdf(0, 3, 0),
      device: 3,
      fn: 0,
      vendorId: 0x8086,
      deviceId: 0x100e,
      revision: 3,
      classCode: 0x020000,
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
      interruptPin: 1,
      irq: 11,
      rom: null,
      capabilities: [],
    });
    expect(e.bars).toEqual([
      { index: 0, kind: "mem32", prefetchable: false, size: 0x20000, address: 0xc000_0000 },
      { index: 1, kind: "io", prefetchable: false, size: 0x40, address: 0xc000 },
    ]);
    expect(bus.configRead(e.bdf, PCI_INTERRUPT_LINE, 1)).toBe(11);
    expect(bus.configRead(e.bdf, PCI_BASE_ADDRESS_0, 4)).toBe(0xc000_0000);
    expect(bus.configRead(e.bdf, PCI_BASE_ADDRESS_0 + 4, 4)).toBe(0xc001);
    expect(bus.configRead(e.bdf, PCI_COMMAND, 2)).toBe(0);
    expect(bus.mmioRead(0xc000_0000, 4)).toBe(0xffffffff);
    bus.functionAt(e.bdf)?.enable();
    expect(bus.mmioRead(0xc000_0000, 4)).toBe(0);
  });

  it("assigns naturally aligned, non-overlapping addresses inside the windows, largest first", () => {
    const { bus } = makeBus();
    bus.plug(
      { device: 1 },
      new FakeDevice({
        bars: [
          { kind: "mem32", size: 0x1000 },
          { kind: "io", size: 0x10 },
          { kind: "mem64", size: 0x100000, prefetchable: true },
          undefined,
        ],
        rom: new Uint8Array(0x8000),
      }),
    );
    bus.plug({ device: 3 }, new FakeDevice());
    bus.plug(
      { device: 9 },
      new FakeDevice({
        bars: [
          { kind: "mem32", size: 0x10 },
          { kind: "io", size: 0x100 },
        ],
      }),
    );
    const found = enumerate(bus);
    expect(found.map((f) => f.device)).toEqual([1, 3, 9]);
    const mem = found.flatMap((f) => [
      ...f.bars.filter((b) => b.kind !== "io"),
      ...(f.rom === null ? [] : [{ ...f.rom, kind: "rom" }]),
    ]);
    const io = found.flatMap((f) => f.bars.filter((b) => b.kind === "io"));
    for (const [list, win] of [
      [mem, bus.mmioWindow],
      [io, bus.ioWindow],
    ] as const) {
      const sorted = [...list].sort((a, b) => (a.address ?? 0) - (b.address ?? 0));
      for (let i = 0; i < sorted.length; i++) {
        const b = sorted[i];
        expect(b.address).not.toBeNull();
        const at = b.address as number;
        expect(at % b.size).toBe(0);
        expect(at).toBeGreaterThanOrEqual(win.base);
        expect(at + b.size).toBeLessThanOrEqual(win.base + win.size);
        if (i > 0) expect(at).toBeGreaterThanOrEqual((sorted[i - 1].address as number) + sorted[i - 1].size);
      }
      // Largest first: sizes are non-increasing in address order.
      for (let i = 1; i < sorted.length; i++) expect(sorted[i].size).toBeLessThanOrEqual(sorted[i - 1].size);
    }
    const d1 = found[0];
    expect(d1.bars[2]).toMatchObject({ index: 2, kind: "mem64", prefetchable: true, size: 0x100000 });
    expect(d1.rom?.size).toBe(0x8000);
    // The ROM gets an address but stays disabled.
    expect(bus.configRead(d1.bdf, PCI_ROM_ADDRESS, 4)).toBe(d1.rom?.address);
    // Device 1 INTA: routing[(1 + 0) % 4] = 10; device 9 INTA: routing[(9 + 0) % 4] = 10.
    expect(found.map((f) => f.irq)).toEqual([10, 11, 10]);
  });

  it("scans functions 1-7 only of multi-function devices and reports capabilities", () => {
    const { bus } = makeBus();
    bus.plug({ device: 2 }, new FakeDevice({ capabilities: [{ kind: "pcie", flr: true }] }));
    bus.plug(
      { device: 2, fn: 3 },
      new FakeDevice({
        identity: { interruptPin: 2 },
        capabilities: [{ kind: "msi", vectors: 1, is64: false, perVectorMask: false }],
      }),
    );
    bus.plug({ device: 5, fn: 1 }, new FakeDevice()); // no fn 0: invisible
    const found = enumerate(bus);
    expect(found.map((f) => [f.device, f.fn])).toEqual([
      [2, 0],
      [2, 3],
    ]);
    expect(found[0].headerType & 0x80).toBe(0x80);
    expect(found[0].capabilities.map((c) => c.id)).toEqual([PCI_CAP_ID_EXP]);
    expect(found[1].capabilities.map((c) => c.id)).toEqual([PCI_CAP_ID_MSI]);
    // 00:02.3 INTB: routing[(2 + 1) % 4] = 11.
    expect(found[1].irq).toBe(11);
  });

  it("leaves BARs unassigned when the window is full and marks pinless functions", () => {
    const { bus } = makeBus({ mmioWindow: { base: 0xe000_0000, size: 0x30000 } });
    bus.plug({ device: 3 }, new FakeDevice());
    bus.plug({ device: 4 }, new FakeDevice({ identity: { ...E1000_IDENTITY, interruptPin: 0 } }));
    const found = enumerate(bus);
    expect(found[0].bars[0].address).toBe(0xe000_0000);
    expect(found[1].bars[0].address).toBeNull();
    expect(bus.configRead(found[1].bdf, PCI_BASE_ADDRESS_0, 4)).toBe(0);
    expect(found[1].irq).toBeNull();
    expect(bus.configRead(found[1].bdf, PCI_INTERRUPT_LINE, 1)).toBe(PCI_INTERRUPT_LINE_NONE);
  });

  it("returns an empty list for an empty bus", () => {
    const { bus } = makeBus();
    expect(enumerate(bus)).toEqual([]);
  });
});
