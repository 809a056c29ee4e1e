import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bdf,
  DEFAULT_ECAM_BASE,
  formatBdf,
  PCI_BASE_ADDRESS_0,
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MEMORY,
  PCI_CONF1_ENABLE,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_MFD,
  PCI_PM_CTRL,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_VENDOR_ID,
  walkCapabilities,
} from "../src/index.js";
import { FakeDevice, makeBus } from "./fake-device.js";

const E1000 = bdf(0, 3, 0);
const BAR0 = 0xc000_0000;
const IOBAR = 0xc040;

function ecam(id: number, offset: number): number {
  return DEFAULT_ECAM_BASE + id * 0x1000 + offset;
}

function conf1Read(
  bus: ReturnType<typeof makeBus>["bus"],
  id: number,
  offset: number,
  size: 1 | 2 | 4,
): number {
  bus.ioWrite(0xcf8, 4, (PCI_CONF1_ENABLE | (id << 8) | (offset & 0xfc)) >>> 0);
  return bus.ioRead(0xcfc + (offset & 3), size);
}

/** A bus with the e1000-like fake at 00:03.0, BAR0 at 0xC0000000 and BAR1 at port 0xC040. */
function e1000Bus() {
  const env = makeBus();
  const dev = new FakeDevice({ capabilities: [{ kind: "pm" }, { kind: "pcie", flr: true }] });
  const fn = env.bus.plug({ device: 3 }, dev);
  env.bus.configWrite(E1000, PCI_BASE_ADDRESS_0, 4, BAR0);
  env.bus.configWrite(E1000, PCI_BASE_ADDRESS_0 + 4, 4, IOBAR);
  return { ...env, dev, fn };
}

describe("configuration access mechanisms", () => {
  it("ECAM and CF8/CFC read the same bytes (random offsets and sizes)", () => {
    const { bus } = e1000Bus();
    bus.configWrite(E1000, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xff }), fc.constantFrom(1, 2, 4), (off, size) => {
        const sz = size as 1 | 2 | 4;
        const o = Math.min(off - (off % sz), 0x100 - sz);
        expect(conf1Read(bus, E1000, o, sz)).toBe(bus.mmioRead(ecam(E1000, o), sz));
        expect(bus.configRead(E1000, o, sz)).toBe(bus.mmioRead(ecam(E1000, o), sz));
      }),
    );
  });

  it("writes through CF8/CFC are seen through ECAM and the reverse", () => {
    const { bus } = e1000Bus();
    bus.ioWrite(0xcf8, 4, (PCI_CONF1_ENABLE | (E1000 << 8) | 0x3c) >>> 0);
    bus.ioWrite(0xcfc, 1, 9);
    expect(bus.mmioRead(ecam(E1000, 0x3c), 1)).toBe(9);
    bus.mmioWrite(ecam(E1000, 0x0c), 1, 0x20);
    expect(conf1Read(bus, E1000, 0x0c, 1)).toBe(0x20);
    expect(bus.ioRead(0xcf8, 4)).toBe((PCI_CONF1_ENABLE | (E1000 << 8) | 0x0c) >>> 0);
  });

  it("reads all ones from absent functions and drops writes to them", () => {
    const { bus } = makeBus();
    expect(bus.configRead(bdf(0, 7, 0), PCI_VENDOR_ID, 4)).toBe(0xffffffff);
    expect(bus.configRead(bdf(0, 7, 0), PCI_VENDOR_ID, 2)).toBe(0xffff);
    expect(bus.mmioRead(ecam(bdf(2, 0, 0), 0), 2)).toBe(0xffff);
    expect(conf1Read(bus, bdf(0, 31, 7), 0, 1)).toBe(0xff);
    bus.configWrite(bdf(0, 7, 0), 0x3c, 1, 5); // no throw, no effect
    // CONFIG_DATA without the enable bit is not a configuration cycle.
    bus.ioWrite(0xcf8, 4, E1000 << 8);
    expect(bus.ioRead(0xcfc, 4)).toBe(0xffffffff);
  });

  it("throws precise errors for malformed config accesses", () => {
    const { bus } = makeBus();
    expect(() => bus.configRead(0x10000, 0, 4)).toThrow(/BDF 65536 is not in 0..0xffff/);
    expect(() => bus.configRead(0, 0xffe, 4)).toThrow(/offset 0xffe \+ 4 is outside configuration space/);
    expect(() => bus.configRead(0, 0, 3 as 4)).toThrow(/access size 3/);
    expect(() => bus.ioRead(0x10000, 1)).toThrow(/port 65536/);
    expect(() => bus.mmioRead(0, 8 as 4)).toThrow(/access size 8/);
  });
});

describe("multi-function devices", () => {
  it("sets header type bit 7 once a second function exists, and hides functions without fn 0", () => {
    const { bus } = makeBus();
    bus.plug({ device: 6, fn: 2 }, new FakeDevice());
    expect(bus.configRead(bdf(0, 6, 2), PCI_VENDOR_ID, 2)).toBe(0xffff);
    bus.plug({ device: 6 }, new FakeDevice());
    expect(bus.configRead(bdf(0, 6, 2), PCI_VENDOR_ID, 2)).toBe(0x8086);
    expect(bus.configRead(bdf(0, 6, 0), PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MFD).toBe(PCI_HEADER_TYPE_MFD);
    bus.unplug(bdf(0, 6, 2));
    expect(bus.configRead(bdf(0, 6, 0), PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MFD).toBe(0);
  });

  it("refuses to plug into an occupied slot or out-of-range addresses", () => {
    const { bus } = makeBus();
    bus.plug({ device: 3 }, new FakeDevice());
    expect(() => bus.plug({ device: 3 }, new FakeDevice())).toThrow("plug: 00:03.0 is already occupied");
    expect(() => bus.plug({ device: 32 }, new FakeDevice())).toThrow(/device 32 is not in 0..31/);
    expect(() => bus.plug({ device: 1, fn: 8 }, new FakeDevice())).toThrow(/fn 8/);
    expect(formatBdf(bdf(0x1a, 0x1f, 7))).toBe("1a:1f.7");
  });
});

describe("BAR decode", () => {
  it("reaches the device's memory BAR only while Command.Memory is set", () => {
    const { bus, dev } = e1000Bus();
    dev.regs[0].set([0x78, 0x56, 0x34, 0x12], 8);
    expect(bus.mmioRead(BAR0 + 8, 4)).toBe(0xffffffff);
    bus.mmioWrite(BAR0 + 16, 4, 0xdead);
    expect(dev.accesses).toEqual([]);
    expect(bus.unclaimedReads).toBe(1);
    expect(bus.unclaimedWrites).toBe(1);
    bus.configWrite(E1000, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    expect(bus.mmioRead(BAR0 + 8, 4)).toBe(0x12345678);
    expect(bus.mmioRead(BAR0 + 10, 2)).toBe(0x1234);
    bus.mmioWrite(BAR0 + 0x1fffc, 4, 0xcafef00d);
    expect(dev.accesses.at(-1)).toEqual({ bar: 0, offset: 0x1fffc, size: 4, write: true, value: 0xcafef00d });
    // Just past the BAR, and straddling its end: unclaimed.
    expect(bus.mmioRead(BAR0 + 0x20000, 1)).toBe(0xff);
    expect(bus.mmioRead(BAR0 + 0x1fffe, 4)).toBe(0xffffffff);
    // I/O is still off.
    expect(bus.ioRead(IOBAR, 4)).toBe(0xffffffff);
    bus.configWrite(E1000, PCI_COMMAND, 2, 0);
    expect(bus.mmioRead(BAR0 + 8, 4)).toBe(0xffffffff);
  });

  it("reaches the I/O BAR only while Command.IO is set", () => {
    const { bus, dev } = e1000Bus();
    bus.ioWrite(IOBAR + 4, 4, 0x11223344);
    expect(dev.accesses).toEqual([]);
    bus.configWrite(E1000, PCI_COMMAND, 2, PCI_COMMAND_IO);
    bus.ioWrite(IOBAR + 4, 4, 0x11223344);
    expect(bus.ioRead(IOBAR + 4, 4)).toBe(0x11223344);
    expect(bus.ioRead(IOBAR + 7, 1)).toBe(0x11);
    expect(dev.accesses.filter((a) => a.bar === 1)).toHaveLength(3);
    expect(bus.mmioRead(BAR0, 4)).toBe(0xffffffff);
  });

  it("follows a BAR that software moves while decode is on, and ignores unassigned BARs", () => {
    const { bus, dev } = e1000Bus();
    bus.configWrite(E1000, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    dev.regs[0][0] = 0x42;
    expect(bus.mmioRead(BAR0, 1)).toBe(0x42);
    bus.configWrite(E1000, PCI_BASE_ADDRESS_0, 4, 0xd000_0000);
    expect(bus.mmioRead(BAR0, 1)).toBe(0xff);
    expect(bus.mmioRead(0xd000_0000, 1)).toBe(0x42);
    bus.configWrite(E1000, PCI_BASE_ADDRESS_0, 4, 0);
    expect(bus.mmioRead(0, 1)).toBe(0xff);
    expect(dev.accesses.filter((a) => !a.write)).toHaveLength(2);
  });

  it("decodes several devices and picks the right one", () => {
    const { bus } = makeBus();
    const devs: FakeDevice[] = [];
    for (let d = 0; d < 8; d++) {
      const dev = new FakeDevice({ bars: [{ kind: "mem32", size: 0x1000 }] });
      devs.push(dev);
      bus.plug({ device: d }, dev);
      bus.configWrite(bdf(0, d, 0), PCI_BASE_ADDRESS_0, 4, 0xc000_0000 + (7 - d) * 0x2000);
      bus.configWrite(bdf(0, d, 0), PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
      dev.regs[0][4] = d;
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), (d) => {
        expect(bus.mmioRead(0xc000_0000 + (7 - d) * 0x2000 + 4, 1)).toBe(d);
        expect(bus.mmioRead(0xc000_0000 + (7 - d) * 0x2000 + 0x1004, 1)).toBe(0xff); // the gaps
      }),
    );
  });

  it("serves the expansion ROM only with ROM enable and Command.Memory", () => {
    const rom = new Uint8Array([0x55, 0xaa, 0x10, 0x20]);
    const { bus } = makeBus();
    bus.plug({ device: 3 }, new FakeDevice({ rom }));
    bus.configWrite(E1000, PCI_ROM_ADDRESS, 4, 0xc010_0000);
    bus.configWrite(E1000, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    expect(bus.mmioRead(0xc010_0000, 2)).toBe(0xffff);
    bus.configWrite(E1000, PCI_ROM_ADDRESS, 4, 0xc010_0000 | PCI_ROM_ADDRESS_ENABLE);
    expect(bus.mmioRead(0xc010_0000, 2)).toBe(0xaa55);
    expect(bus.mmioRead(0xc010_0000, 4)).toBe(0x2010aa55);
    bus.mmioWrite(0xc010_0000, 1, 0); // ROM is read-only
    expect(bus.mmioRead(0xc010_0000, 1)).toBe(0x55);
  });

  it("stops decoding in D3hot and resumes in D0", () => {
    const { bus, dev } = e1000Bus();
    const pm = walkCapabilities(bus, E1000)[0].offset;
    bus.configWrite(E1000, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    dev.regs[0][0] = 7;
    bus.configWrite(E1000, pm + PCI_PM_CTRL, 2, 3);
    expect(bus.mmioRead(BAR0, 1)).toBe(0xff);
    bus.configWrite(E1000, pm + PCI_PM_CTRL, 2, 1); // D1 unsupported: ignored
    expect(bus.configRead(E1000, pm + PCI_PM_CTRL, 2) & 3).toBe(3);
    bus.configWrite(E1000, pm + PCI_PM_CTRL, 2, 0);
    expect(bus.mmioRead(BAR0, 1)).toBe(7);
  });

  it("reports Command changes to the device model", () => {
    const { bus, dev } = e1000Bus();
    bus.configWrite(E1000, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    bus.configWrite(E1000, PCI_COMMAND, 2, PCI_COMMAND_MEMORY); // no change, no call
    bus.configWrite(E1000, PCI_COMMAND, 1, PCI_COMMAND_MEMORY | 4);
    expect(dev.commands).toEqual([PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY | 4]);
  });

  it("stops decoding an unplugged function", () => {
    const { bus, fn } = e1000Bus();
    fn.enable();
    expect(bus.mmioRead(BAR0, 4)).toBe(0);
    expect(bus.unplug(E1000)).toBe(fn);
    expect(bus.mmioRead(BAR0, 4)).toBe(0xffffffff);
    expect(bus.unplug(E1000)).toBeUndefined();
  });
});

describe("decode against a naive reference", () => {
  it("matches a scan of every function for random placements, decode bits and addresses", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ slot: fc.integer({ min: 0, max: 63 }), mem: fc.boolean(), io: fc.boolean() }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.array(fc.integer({ min: 0, max: 64 * 0x1000 - 1 }), { minLength: 1, maxLength: 32 }),
        (devs, probes) => {
          const { bus } = makeBus();
          const used = new Set<number>();
          const placed: { base: number; io: number; mem: boolean; ioOn: boolean; tag: number }[] = [];
          devs.forEach((d, i) => {
            if (used.has(d.slot)) return;
            used.add(d.slot);
            const dev = new FakeDevice({
              bars: [
                { kind: "mem32", size: 0x1000 },
                { kind: "io", size: 0x10 },
              ],
            });
            const id = bdf(0, i, 0);
            bus.plug({ device: i }, dev);
            dev.recordAccesses = false;
            dev.regs[0].fill(i + 1);
            dev.regs[1].fill(i + 1);
            const base = 0xc000_0000 + d.slot * 0x1000;
            const io = 0xc000 + d.slot * 0x10;
            bus.configWrite(id, PCI_BASE_ADDRESS_0, 4, base);
            bus.configWrite(id, PCI_BASE_ADDRESS_0 + 4, 4, io);
            bus.configWrite(
              id,
              PCI_COMMAND,
              2,
              (d.mem ? PCI_COMMAND_MEMORY : 0) | (d.io ? PCI_COMMAND_IO : 0),
            );
            placed.push({ base, io, mem: d.mem, ioOn: d.io, tag: i + 1 });
          });
          for (const p of probes) {
            const pa = 0xc000_0000 + p;
            const m = placed.find((x) => x.mem && pa >= x.base && pa < x.base + 0x1000);
            expect(bus.mmioRead(pa, 1)).toBe(m === undefined ? 0xff : m.tag);
            const port = 0xc000 + (p % 0x400);
            const q = placed.find((x) => x.ioOn && port >= x.io && port < x.io + 0x10);
            expect(bus.ioRead(port, 1)).toBe(q === undefined ? 0xff : q.tag);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
