import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bdf,
  PCI_BASE_ADDRESS_0,
  PCI_CACHE_LINE_SIZE,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAPABILITY_LIST,
  PCI_CLASS_PROG,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_COMMAND_PARITY,
  PCI_COMMAND_SERR,
  PCI_DEVICE_ID,
  PCI_HEADER_TYPE,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_LATENCY_TIMER,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_REVISION_ID,
  PCI_ROM_ADDRESS,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STATUS_REC_MASTER_ABORT,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
  walkCapabilities,
} from "../src/index.js";
import { FakeDevice, makeBus } from "./fake-device.js";

const E1000 = bdf(0, 3, 0);

function sizeBar(bus: ReturnType<typeof makeBus>["bus"], id: number, offset: number): number {
  const orig = bus.configRead(id, offset, 4);
  bus.configWrite(id, offset, 4, 0xffffffff);
  const sz = bus.configRead(id, offset, 4);
  bus.configWrite(id, offset, 4, orig);
  return sz;
}

describe("type-0 header", () => {
  it("holds the 82540EM identity read-only", () => {
    const { bus } = makeBus();
    bus.plug({ device: 3 }, new FakeDevice());
    expect(bus.configRead(E1000, PCI_VENDOR_ID, 2)).toBe(0x8086);
    expect(bus.configRead(E1000, PCI_DEVICE_ID, 2)).toBe(0x100e);
    expect(bus.configRead(E1000, PCI_VENDOR_ID, 4)).toBe(0x100e8086);
    expect(bus.configRead(E1000, PCI_REVISION_ID, 1)).toBe(3);
    expect(bus.configRead(E1000, PCI_REVISION_ID, 4)).toBe(0x02000003);
    expect(bus.configRead(E1000, PCI_SUBSYSTEM_VENDOR_ID, 2)).toBe(0x1af4);
    expect(bus.configRead(E1000, PCI_SUBSYSTEM_ID, 2)).toBe(0x1100);
    expect(bus.configRead(E1000, PCI_INTERRUPT_PIN, 1)).toBe(1);
    expect(bus.configRead(E1000, PCI_CACHE_LINE_SIZE, 1)).toBe(0x10);
    for (const [off, size] of [
      [PCI_VENDOR_ID, 4],
      [PCI_REVISION_ID, 4],
      [PCI_HEADER_TYPE, 1],
      [PCI_INTERRUPT_PIN, 1],
      [PCI_SUBSYSTEM_VENDOR_ID, 4],
    ] as const) {
      const before = bus.configRead(E1000, off, size);
      bus.configWrite(E1000, off, size, 0x5a5a5a5a);
      expect(bus.configRead(E1000, off, size)).toBe(before);
    }
  });

  it("lets software write only the implemented Command bits", () => {
    const { bus } = makeBus();
    bus.plug({ device: 3 }, new FakeDevice());
    bus.configWrite(E1000, PCI_COMMAND, 2, 0xffff);
    expect(bus.configRead(E1000, PCI_COMMAND, 2)).toBe(
      PCI_COMMAND_IO |
        PCI_COMMAND_MEMORY |
        PCI_COMMAND_MASTER |
        PCI_COMMAND_PARITY |
        PCI_COMMAND_SERR |
        PCI_COMMAND_INTX_DISABLE,
    );
    bus.configWrite(E1000, PCI_COMMAND, 2, 0);
    expect(bus.configRead(E1000, PCI_COMMAND, 2)).toBe(0);
  });

  it("clears Status error bits by writing 1 (RW1C) and keeps the rest", () => {
    const { bus } = makeBus();
    const f = bus.plug({ device: 3 }, new FakeDevice());
    f.configWrite(PCI_COMMAND, 2, PCI_COMMAND_MASTER);
    const buf = new Uint8Array(4);
    expect(f.dmaRead(0xffff_ffff_00, buf, 0, 4)).toBe(false); // outside memory: master abort
    expect(bus.configRead(E1000, PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT).toBe(
      PCI_STATUS_REC_MASTER_ABORT,
    );
    bus.configWrite(E1000, PCI_STATUS, 2, 0); // writing 0 leaves it
    expect(bus.configRead(E1000, PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT).toBe(
      PCI_STATUS_REC_MASTER_ABORT,
    );
    bus.configWrite(E1000, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT);
    expect(bus.configRead(E1000, PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT).toBe(0);
  });

  it("keeps cache line, latency timer and interrupt line writable", () => {
    const { bus } = makeBus();
    bus.plug({ device: 3 }, new FakeDevice());
    bus.configWrite(E1000, PCI_CACHE_LINE_SIZE, 1, 0x20);
    bus.configWrite(E1000, PCI_LATENCY_TIMER, 1, 0x40);
    bus.configWrite(E1000, PCI_INTERRUPT_LINE, 1, 11);
    expect(bus.configRead(E1000, PCI_CACHE_LINE_SIZE, 1)).toBe(0x20);
    expect(bus.configRead(E1000, PCI_LATENCY_TIMER, 1)).toBe(0x40);
    expect(bus.configRead(E1000, PCI_INTERRUPT_LINE, 1)).toBe(11);
    expect(bus.configRead(E1000, PCI_INTERRUPT_PIN, 1)).toBe(1);
  });

  it("composes word and dword reads from bytes at any offset", () => {
    const { bus } = makeBus();
    bus.plug({ device: 3 }, new FakeDevice({ capabilities: [{ kind: "pcie", flr: true }, { kind: "pm" }] }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffc }), fc.constantFrom(2, 4), (off, size) => {
        let expected = 0;
        for (let i = size - 1; i >= 0; i--) expected = expected * 256 + bus.configRead(E1000, off + i, 1);
        expect(bus.configRead(E1000, off, size as 2 | 4)).toBe(expected);
      }),
    );
  });
});

describe("BAR sizing", () => {
  it("reads back the 82540EM values: 0xFFFE0000 for 128 KiB mem32, 0xFFFFFFC1 for 64-byte I/O", () => {
    const { bus } = makeBus();
    bus.plug({ device: 3 }, new FakeDevice());
    expect(sizeBar(bus, E1000, PCI_BASE_ADDRESS_0)).toBe(0xfffe0000);
    expect(sizeBar(bus, E1000, PCI_BASE_ADDRESS_0 + 4)).toBe(0xffffffc1);
    // Absent BARs read 0 and stay 0.
    for (let i = 2; i < 6; i++) expect(sizeBar(bus, E1000, PCI_BASE_ADDRESS_0 + 4 * i)).toBe(0);
    // The original value was restored.
    expect(bus.configRead(E1000, PCI_BASE_ADDRESS_0, 4)).toBe(0);
    expect(bus.configRead(E1000, PCI_BASE_ADDRESS_0 + 4, 4)).toBe(1);
  });

  it("drops address bits below the BAR size", () => {
    const { bus } = makeBus();
    bus.plug({ device: 3 }, new FakeDevice());
    bus.configWrite(E1000, PCI_BASE_ADDRESS_0, 4, 0xc001_2345);
    expect(bus.configRead(E1000, PCI_BASE_ADDRESS_0, 4)).toBe(0xc000_0000);
    bus.configWrite(E1000, PCI_BASE_ADDRESS_0 + 4, 4, 0xc07f);
    expect(bus.configRead(E1000, PCI_BASE_ADDRESS_0 + 4, 4)).toBe(0xc041);
  });

  it("sizes a prefetchable 64-bit BAR through both halves", () => {
    const { bus } = makeBus();
    bus.plug(
      { device: 4 },
      new FakeDevice({
        bars: [undefined, undefined, { kind: "mem64", size: 0x4000, prefetchable: true }, undefined],
      }),
    );
    const id = bdf(0, 4, 0);
    expect(sizeBar(bus, id, PCI_BASE_ADDRESS_0 + 8)).toBe(0xffffc00c);
    expect(sizeBar(bus, id, PCI_BASE_ADDRESS_0 + 12)).toBe(0xffffffff);
    bus.configWrite(id, PCI_BASE_ADDRESS_0 + 12, 4, 0x12);
    expect(bus.configRead(id, PCI_BASE_ADDRESS_0 + 12, 4)).toBe(0x12);
    expect(bus.functionAt(id)?.barAddress(2)).toBe(0x12_0000_0000);
  });

  it("sizes a 64-bit BAR larger than 4 GiB in the upper half", () => {
    const { bus } = makeBus();
    bus.plug({ device: 4 }, new FakeDevice({ bars: [{ kind: "mem64", size: 2 ** 34 }] }));
    const id = bdf(0, 4, 0);
    expect(sizeBar(bus, id, PCI_BASE_ADDRESS_0)).toBe(0x4);
    expect(sizeBar(bus, id, PCI_BASE_ADDRESS_0 + 4)).toBe(0xfffffffc);
  });

  it("sizes the expansion ROM with the enable bit and reads 0 when absent", () => {
    const { bus } = makeBus();
    bus.plug({ device: 3 }, new FakeDevice());
    bus.plug({ device: 4 }, new FakeDevice({ rom: new Uint8Array(5000) }));
    expect(sizeBar(bus, E1000, PCI_ROM_ADDRESS)).toBe(0);
    // 5000 bytes round up to 8 KiB; bit 0 (enable) is writable.
    expect(sizeBar(bus, bdf(0, 4, 0), PCI_ROM_ADDRESS)).toBe(0xffffe001);
  });

  it("rejects invalid BAR declarations with a precise error", () => {
    const { bus } = makeBus();
    expect(() =>
      bus.plug({ device: 1 }, new FakeDevice({ bars: [{ kind: "mem32", size: 0x3000 }] })),
    ).toThrow(/BAR 0: mem32 size 0x3000 is not a power of two/);
    expect(() => bus.plug({ device: 1 }, new FakeDevice({ bars: [{ kind: "io", size: 0x200 }] }))).toThrow(
      /BAR 0: I\/O size 0x200/,
    );
    expect(() =>
      bus.plug(
        { device: 1 },
        new FakeDevice({
          bars: [
            { kind: "mem64", size: 0x1000 },
            { kind: "io", size: 4 },
          ],
        }),
      ),
    ).toThrow(/BAR 1 must be undefined/);
    expect(() =>
      bus.plug(
        { device: 1 },
        new FakeDevice({
          bars: [undefined, undefined, undefined, undefined, undefined, { kind: "mem64", size: 0x1000 }],
        }),
      ),
    ).toThrow(/BAR 5 cannot hold a 64-bit BAR/);
    expect(() => bus.plug({ device: 1 }, new FakeDevice({ identity: { interruptPin: 5 } }))).toThrow(
      /interruptPin 5/,
    );
    // A failed plug leaves the slot free.
    expect(bus.configRead(bdf(0, 1, 0), 0, 2)).toBe(0xffff);
  });
});

describe("capability list", () => {
  const caps = [
    { kind: "pm" },
    { kind: "msi", vectors: 4, is64: true, perVectorMask: true },
    { kind: "msix", tableSize: 8, bar: 0, tableOffset: 0x1000, pbaOffset: 0x2000 },
    { kind: "pcie", flr: true },
  ] as const;

  it("chains capabilities from 0x34 with their IDs and sets Status bit 4", () => {
    const { bus } = makeBus();
    bus.plug({ device: 5 }, new FakeDevice({ capabilities: caps }));
    const id = bdf(0, 5, 0);
    expect(bus.configRead(id, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST).toBe(PCI_STATUS_CAP_LIST);
    const found = walkCapabilities(bus, id);
    expect(found.map((c) => c.id)).toEqual([PCI_CAP_ID_PM, PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX, PCI_CAP_ID_EXP]);
    expect(found[0].offset).toBe(bus.configRead(id, PCI_CAPABILITY_LIST, 1));
    const offsets = found.map((c) => c.offset);
    for (let i = 0; i < offsets.length; i++) {
      expect(offsets[i] % 4).toBe(0);
      expect(offsets[i]).toBeGreaterThanOrEqual(0x40);
      if (i > 0) expect(offsets[i]).toBeGreaterThan(offsets[i - 1]);
    }
    // 64-bit MSI with per-vector masking: 24 bytes, so the next capability is at least 0x18 on.
    expect(offsets[2] - offsets[1]).toBeGreaterThanOrEqual(0x18);
    const msiFlags = bus.configRead(id, offsets[1] + PCI_MSI_FLAGS, 2);
    expect(msiFlags & PCI_MSI_FLAGS_64BIT).toBe(PCI_MSI_FLAGS_64BIT);
    expect(msiFlags & PCI_MSI_FLAGS_MASKBIT).toBe(PCI_MSI_FLAGS_MASKBIT);
    expect((msiFlags >> 1) & 7).toBe(2); // log2(4 vectors)
    // MSI-X: table size - 1, table offset | BIR, PBA offset | BIR.
    expect(bus.configRead(id, offsets[2] + 2, 2) & 0x7ff).toBe(7);
    expect(bus.configRead(id, offsets[2] + 4, 4)).toBe(0x1000);
    expect(bus.configRead(id, offsets[2] + 8, 4)).toBe(0x2000);
    // PCIe function: 4 KiB config space, empty extended capability list at 0x100.
    expect(bus.configRead(id, 0x100, 4)).toBe(0);
    expect(bus.configRead(id, 0xffc, 4)).toBe(0);
  });

  it("gives a function without capabilities Status bit 4 clear, pointer 0 and 256 bytes", () => {
    const { bus } = makeBus();
    bus.plug({ device: 3 }, new FakeDevice());
    expect(bus.configRead(E1000, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST).toBe(0);
    expect(bus.configRead(E1000, PCI_CAPABILITY_LIST, 1)).toBe(0);
    expect(walkCapabilities(bus, E1000)).toEqual([]);
    expect(bus.configRead(E1000, 0x100, 4)).toBe(0xffffffff);
    expect(bus.configRead(E1000, PCI_CLASS_PROG, 1)).toBe(0);
  });

  it("rejects an MSI-X table outside its BAR", () => {
    const { bus } = makeBus();
    expect(() =>
      bus.plug(
        { device: 5 },
        new FakeDevice({
          capabilities: [{ kind: "msix", tableSize: 8, bar: 1, tableOffset: 0, pbaOffset: 0x80 }],
        }),
      ),
    ).toThrow(/MSI-X capability: BAR 1 is not a memory BAR/);
    expect(() =>
      bus.plug(
        { device: 5 },
        new FakeDevice({
          capabilities: [{ kind: "msix", tableSize: 8, bar: 0, tableOffset: 0x1fff8, pbaOffset: 0x100 }],
        }),
      ),
    ).toThrow(/tableOffset 0x1fff8/);
  });
});
