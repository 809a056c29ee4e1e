/**
 * Enumeration and resource assignment as firmware (SeaBIOS) and an OS (Linux drivers/pci/probe.c,
 * setup-bus.c) do them, using only configuration accesses: scan bus 0, size every BAR and the
 * expansion ROM by the write-all-ones protocol with decode off, assign naturally aligned
 * addresses from the bus's MMIO and I/O windows (largest first), and program the Interrupt Line
 * from the host bridge's PIRQ routing. Decode stays off: a driver's pci_enable_device turns it on.
 */

import type { PciBus } from "./bus.js";
import { bdf as packBdf } from "./function.js";
import { CAPABILITY_WALK_LIMIT } from "./limits.js";
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_IO_MASK,
  PCI_BASE_ADDRESS_MEM_MASK,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_MEM_TYPE_MASK,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_CAP_LIST_NEXT,
  PCI_CAPABILITY_LIST,
  PCI_CLASS_PROG,
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MEMORY,
  PCI_DEVICE_ID,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_MFD,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_MAX_DEVICES,
  PCI_MAX_FUNCTIONS,
  PCI_NUM_BARS,
  PCI_REVISION_ID,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_MASK,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
} from "./regs.js";

const TWO_POW_32 = 0x1_0000_0000;
/** Interrupt Line value meaning "unknown / not connected" on x86 (PCI Local Bus Spec 3.0 6.2.4). */
export const PCI_INTERRUPT_LINE_NONE = 0xff;
/** Capability pointers are dword aligned: the low 2 bits are reserved. */
const CAP_POINTER_MASK = 0xfc;

/** A BAR found by sizing. `address` is null when the window had no room left. */
export interface EnumeratedBar {
  readonly index: number;
  readonly kind: "mem32" | "mem64" | "io";
  readonly prefetchable: boolean;
  readonly size: number;
  readonly address: number | null;
}

/** A capability found by walking the list from 0x34. */
export interface EnumeratedCapability {
  readonly id: number;
  readonly offset: number;
}

/** A function found by `enumerate`. */
export interface EnumeratedFunction {
  readonly bdf: number;
  readonly bus: number;
  readonly device: number;
  readonly fn: number;
  readonly vendorId: number;
  readonly deviceId: number;
  readonly revision: number;
  readonly classCode: number;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
  readonly headerType: number;
  readonly interruptPin: number;
  /** IRQ programmed into Interrupt Line, or null when the function has no INTx pin. */
  readonly irq: number | null;
  readonly bars: readonly EnumeratedBar[];
  /** The expansion ROM (left disabled), or null when absent. */
  readonly rom: { readonly size: number; readonly address: number | null } | null;
  readonly capabilities: readonly EnumeratedCapability[];
}

interface Request {
  readonly bdf: number;
  readonly offset: number;
  readonly size: number;
  readonly io: boolean;
  readonly is64: boolean;
  readonly order: number;
  address: number | null;
}

/**
 * Walks the capability list of `bdf` through configuration reads. Returns IDs and offsets in
 * chain order; empty when Status bit 4 is clear or the function is absent. Stops after 48 entries
 * (as Linux's PCI_FIND_CAP_TTL) so a looped chain cannot hang the caller.
 */
export function walkCapabilities(bus: PciBus, bdf: number): EnumeratedCapability[] {
  const out: EnumeratedCapability[] = [];
  if (bus.configRead(bdf, PCI_VENDOR_ID, 2) === 0xffff) return out;
  if ((bus.configRead(bdf, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) === 0) return out;
  let pos = bus.configRead(bdf, PCI_CAPABILITY_LIST, 1) & CAP_POINTER_MASK;
  for (let ttl = CAPABILITY_WALK_LIMIT; pos !== 0 && ttl > 0; ttl--) {
    out.push({ id: bus.configRead(bdf, pos, 1), offset: pos });
    pos = bus.configRead(bdf, pos + PCI_CAP_LIST_NEXT, 1) & CAP_POINTER_MASK;
  }
  return out;
}

/**
 * Scans bus 0 (devices 0..31; functions 1..7 only when function 0's header type has bit 7 set),
 * sizes BARs and ROMs by writing all ones (decode off meanwhile, Command restored), assigns
 * naturally aligned addresses from `bus.mmioWindow` and `bus.ioWindow`, largest first, programs
 * Interrupt Line as routing[(device + pin - 1) % 4], and returns what it found in BDF order.
 * It does not enable decode or bus mastering. A BAR that does not fit gets `address: null` and
 * stays 0 (unassigned). Never throws for device contents.
 */
export function enumerate(bus: PciBus): EnumeratedFunction[] {
  const requests: Request[] = [];
  const found: {
    base: Omit<EnumeratedFunction, "bars" | "rom">;
    bars: Request[];
    barMeta: { index: number; kind: "mem32" | "mem64" | "io"; prefetchable: boolean }[];
    rom: Request | null;
  }[] = [];
  let order = 0;

  for (let dev = 0; dev < PCI_MAX_DEVICES; dev++) {
    for (let fn = 0; fn < PCI_MAX_FUNCTIONS; fn++) {
      const id = packBdf(0, dev, fn);
      const vendor = bus.configRead(id, PCI_VENDOR_ID, 2);
      if (vendor === 0xffff) {
        if (fn === 0) break;
        continue;
      }
      const headerType = bus.configRead(id, PCI_HEADER_TYPE, 1);
      const command = bus.configRead(id, PCI_COMMAND, 2);
      bus.configWrite(id, PCI_COMMAND, 2, command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));

      const bars: Request[] = [];
      const barMeta: { index: number; kind: "mem32" | "mem64" | "io"; prefetchable: boolean }[] = [];
      for (let i = 0; i < PCI_NUM_BARS; i++) {
        const off = PCI_BASE_ADDRESS_0 + i * 4;
        const orig = bus.configRead(id, off, 4);
        bus.configWrite(id, off, 4, 0xffffffff);
        const sz = bus.configRead(id, off, 4);
        bus.configWrite(id, off, 4, orig);
        if (sz === 0 || sz === 0xffffffff) continue;
        const io = (sz & PCI_BASE_ADDRESS_SPACE_IO) !== 0;
        const is64 = !io && (sz & PCI_BASE_ADDRESS_MEM_TYPE_MASK) === PCI_BASE_ADDRESS_MEM_TYPE_64;
        let size: number;
        if (io) {
          size = lowestSetBit((sz & PCI_BASE_ADDRESS_IO_MASK) >>> 0);
        } else if (is64 && i + 1 < PCI_NUM_BARS) {
          const origHi = bus.configRead(id, off + 4, 4);
          bus.configWrite(id, off + 4, 4, 0xffffffff);
          const szHi = bus.configRead(id, off + 4, 4);
          bus.configWrite(id, off + 4, 4, origHi);
          const low = (sz & PCI_BASE_ADDRESS_MEM_MASK) >>> 0;
          size = low !== 0 ? lowestSetBit(low) : lowestSetBit(szHi) * TWO_POW_32;
        } else {
          size = lowestSetBit((sz & PCI_BASE_ADDRESS_MEM_MASK) >>> 0);
        }
        if (size === 0) continue;
        const r: Request = { bdf: id, offset: off, size, io, is64, order: order++, address: null };
        bars.push(r);
        barMeta.push({
          index: i,
          kind: io ? "io" : is64 ? "mem64" : "mem32",
          prefetchable: !io && (sz & PCI_BASE_ADDRESS_MEM_PREFETCH) !== 0,
        });
        requests.push(r);
        if (is64) i++;
      }

      const romOrig = bus.configRead(id, PCI_ROM_ADDRESS, 4);
      bus.configWrite(id, PCI_ROM_ADDRESS, 4, PCI_ROM_ADDRESS_MASK);
      const romSz = (bus.configRead(id, PCI_ROM_ADDRESS, 4) & PCI_ROM_ADDRESS_MASK) >>> 0;
      bus.configWrite(id, PCI_ROM_ADDRESS, 4, romOrig);
      let rom: Request | null = null;
      if (romSz !== 0) {
        rom = {
          bdf: id,
          offset: PCI_ROM_ADDRESS,
          size: lowestSetBit(romSz),
          io: false,
          is64: false,
          order: order++,
          address: null,
        };
        requests.push(rom);
      }
      bus.configWrite(id, PCI_COMMAND, 2, command);

      const pin = bus.configRead(id, PCI_INTERRUPT_PIN, 1);
      let irq: number | null = null;
      if (pin >= 1 && pin <= 4) {
        irq = bus.irqFor(dev, pin);
        bus.configWrite(id, PCI_INTERRUPT_LINE, 1, irq);
      } else {
        bus.configWrite(id, PCI_INTERRUPT_LINE, 1, PCI_INTERRUPT_LINE_NONE);
      }

      found.push({
        base: {
          bdf: id,
          bus: 0,
          device: dev,
          fn,
          vendorId: vendor,
          deviceId: bus.configRead(id, PCI_DEVICE_ID, 2),
          revision: bus.configRead(id, PCI_REVISION_ID, 1),
          classCode: bus.configRead(id, PCI_CLASS_PROG, 1) | (bus.configRead(id, PCI_CLASS_PROG + 1, 2) << 8),
          subsystemVendorId: bus.configRead(id, PCI_SUBSYSTEM_VENDOR_ID, 2),
          subsystemId: bus.configRead(id, PCI_SUBSYSTEM_ID, 2),
          headerType,
          interruptPin: pin,
          irq,
          capabilities: walkCapabilities(bus, id),
        },
        bars,
        barMeta,
        rom,
      });
      if (fn === 0 && (headerType & PCI_HEADER_TYPE_MFD) === 0) break;
    }
  }

  assign(
    bus,
    requests.filter((r) => !r.io),
    bus.mmioWindow.base,
    bus.mmioWindow.base + bus.mmioWindow.size,
  );
  assign(
    bus,
    requests.filter((r) => r.io),
    bus.ioWindow.base,
    bus.ioWindow.base + bus.ioWindow.size,
  );

  return found.map((f) => ({
    ...f.base,
    bars: f.bars.map((r, i) => ({ ...f.barMeta[i], size: r.size, address: r.address })),
    rom: f.rom === null ? null : { size: f.rom.size, address: f.rom.address },
  }));
}

/** Assigns requests largest first, each naturally aligned, bumping up from `base`. */
function assign(bus: PciBus, requests: Request[], base: number, limit: number): void {
  requests.sort((a, b) => b.size - a.size || a.order - b.order);
  let next = base;
  for (const r of requests) {
    const at = Math.ceil(next / r.size) * r.size;
    if (at + r.size > limit || (!r.is64 && at + r.size > TWO_POW_32)) continue;
    next = at + r.size;
    r.address = at;
    if (r.offset === PCI_ROM_ADDRESS) {
      // Address only; the enable bit stays clear until a driver maps the ROM.
      bus.configWrite(r.bdf, r.offset, 4, at);
    } else if (r.io) {
      bus.configWrite(r.bdf, r.offset, 4, at);
    } else {
      const low = bus.configRead(r.bdf, r.offset, 4);
      bus.configWrite(r.bdf, r.offset, 4, ((at % TWO_POW_32) | (low & ~PCI_BASE_ADDRESS_MEM_MASK)) >>> 0);
      if (r.is64) bus.configWrite(r.bdf, r.offset + 4, 4, Math.floor(at / TWO_POW_32));
    }
  }
}

/** The value of the lowest set bit of a 32-bit unsigned `x` (0 for 0). */
function lowestSetBit(x: number): number {
  if (x === 0) return 0;
  return (x & -x) >>> 0;
}
