/**
 * The PCI host bridge and bus 0..255: slots, configuration access through ECAM and the legacy
 * CF8/CFC mechanism, decode of memory and I/O BARs (and MSI-X tables, expansion ROMs) for the
 * CPU's MMIO and port I/O, the master-abort log of refused DMA, the IOMMU hook, and wired-OR INTx
 * lines. Address decoding keeps two sorted arrays of windows (memory, I/O), rebuilt when a
 * Command, BAR, ROM or power-state write changes what a function decodes; a hit on the most
 * recently used window skips the binary search, which is what a NIC's per-packet register
 * accesses do.
 */

import type { AccessSize, PciDeviceModel } from "./device.js";
import {
  type DecodeWindow,
  type DmaAbort,
  type DmaMemory,
  type FunctionHost,
  formatBdf,
  type InterruptSink,
  type Iommu,
  PciFunction,
  bdf as packBdf,
  WINDOW_BAR,
  WINDOW_MSIX,
} from "./function.js";
import {
  DEFAULT_ABORT_LOG_LIMIT,
  DEFAULT_ECAM_BASE,
  DEFAULT_ECAM_BUSES,
  DEFAULT_INTX_ROUTING,
  DEFAULT_IO_WINDOW,
  DEFAULT_MMIO_WINDOW,
  MAX_IRQ_LINES,
} from "./limits.js";
import {
  PCI_CFG_SPACE_EXP_SIZE,
  PCI_CFG_SPACE_SIZE,
  PCI_CONF1_ADDRESS_PORT,
  PCI_CONF1_BUS_SHIFT,
  PCI_CONF1_DATA_PORT,
  PCI_CONF1_DEV_SHIFT,
  PCI_CONF1_ENABLE,
  PCI_CONF1_FN_SHIFT,
  PCI_CONF1_REG_MASK,
  PCI_MAX_BUSES,
  PCI_MAX_DEVICES,
  PCI_MAX_FUNCTIONS,
  PCIE_ECAM_BUS_SHIFT,
  PCIE_ECAM_DEV_SHIFT,
  PCIE_ECAM_FUN_SHIFT,
  PCIE_ECAM_REG_MASK,
} from "./regs.js";

/** An address range [base, base + size). */
export interface AddressWindow {
  readonly base: number;
  readonly size: number;
}

/** Options of `new PciBus`. */
export interface PciBusOptions {
  /** Memory that DMA reaches (PhysicalMemory from @side-kernel/paging fits). */
  readonly memory: DmaMemory;
  /** Interrupt controller for INTx levels and MSI messages. */
  readonly interrupts: InterruptSink;
  /** ECAM base, 1 MiB aligned (default 0xB0000000). */
  readonly ecamBase?: number;
  /** Buses covered by ECAM, 1..256 (default 256: a 256 MiB region). */
  readonly ecamBuses?: number;
  /** Window enumeration assigns memory BARs from (default 0xC0000000 + 256 MiB). */
  readonly mmioWindow?: AddressWindow;
  /** Window enumeration assigns I/O BARs from (default 0xC000 + 0x4000). */
  readonly ioWindow?: AddressWindow;
  /** PIRQA..D to IRQ (default [10, 10, 11, 11]); IRQ = routing[(device + pin - 1) % 4]. */
  readonly intxRouting?: readonly number[];
  /** Aborts kept in `aborts` (default 256). */
  readonly abortLogLimit?: number;
}

/** Where to plug a function. */
export interface PciSlot {
  readonly bus?: number;
  readonly device: number;
  readonly fn?: number;
}

const ONES = [0, 0xff, 0xffff, 0, 0xffffffff] as const;
const MAX_BDF = 0xffff;
const MAX_PORT = 0xffff;
const ECAM_ALIGN = 1 << PCIE_ECAM_BUS_SHIFT;

function checkSize(size: number, what: string): void {
  if (size !== 1 && size !== 2 && size !== 4) {
    throw new RangeError(`${what}: access size ${size} is not 1, 2 or 4`);
  }
}

function maskTo(value: number, size: number): number {
  return size === 4 ? value >>> 0 : size === 2 ? value & 0xffff : value & 0xff;
}

function checkWindow(name: string, w: AddressWindow, limit: number): void {
  if (
    !Number.isInteger(w.base) ||
    !Number.isInteger(w.size) ||
    w.base < 0 ||
    w.size <= 0 ||
    w.base + w.size > limit
  ) {
    throw new RangeError(
      `PciBus: ${name} {base: ${w.base}, size: ${w.size}} is not a non-empty range below ${limit}`,
    );
  }
}

/**
 * A PCI host bridge with its buses. Plug device models with `plug`, let `enumerate` assign
 * resources, then route the CPU's MMIO to `mmioRead`/`mmioWrite` and its port I/O to
 * `ioRead`/`ioWrite`.
 */
export class PciBus implements FunctionHost {
  readonly memory: DmaMemory;
  readonly interrupts: InterruptSink;
  readonly ecamBase: number;
  /** One past the last ECAM byte. */
  readonly ecamEnd: number;
  readonly mmioWindow: AddressWindow;
  readonly ioWindow: AddressWindow;
  readonly intxRouting: readonly number[];
  /** The IOMMU DMA passes through, or null for identity (set with `setIommu`). */
  iommu: Iommu | null = null;
  /** The most recent refused DMAs, oldest first, at most `abortLogLimit` of them. */
  readonly aborts: DmaAbort[] = [];
  /** Refused DMAs since creation (including those dropped from `aborts`). */
  abortCount = 0;
  /** CPU reads no window claimed (answered with all ones). */
  unclaimedReads = 0;
  /** CPU writes no window claimed (dropped). */
  unclaimedWrites = 0;
  private readonly abortLogLimit: number;
  private readonly slots: (PciFunction | undefined)[] = new Array<PciFunction | undefined>(MAX_BDF + 1).fill(
    undefined,
  );
  private readonly lineCounts = new Int32Array(MAX_IRQ_LINES);
  private confAddress = 0;
  private mmioWindows: DecodeWindow[] = [];
  private ioWindows: DecodeWindow[] = [];
  private lastMmio: DecodeWindow | null = null;
  private lastIo: DecodeWindow | null = null;

  /** Creates an empty bus. Throws RangeError naming the option when one is out of range. */
  constructor(options: PciBusOptions) {
    this.memory = options.memory;
    this.interrupts = options.interrupts;
    this.ecamBase = options.ecamBase ?? DEFAULT_ECAM_BASE;
    const buses = options.ecamBuses ?? DEFAULT_ECAM_BUSES;
    if (!Number.isInteger(this.ecamBase) || this.ecamBase < 0 || this.ecamBase % ECAM_ALIGN !== 0) {
      throw new RangeError(`PciBus: ecamBase 0x${this.ecamBase.toString(16)} is not 1 MiB aligned`);
    }
    if (!Number.isInteger(buses) || buses < 1 || buses > PCI_MAX_BUSES) {
      throw new RangeError(`PciBus: ecamBuses ${buses} is not in 1..256`);
    }
    this.ecamEnd = this.ecamBase + buses * ECAM_ALIGN;
    this.mmioWindow = options.mmioWindow ?? DEFAULT_MMIO_WINDOW;
    this.ioWindow = options.ioWindow ?? DEFAULT_IO_WINDOW;
    checkWindow("mmioWindow", this.mmioWindow, 2 ** 52);
    checkWindow("ioWindow", this.ioWindow, MAX_PORT + 1);
    const routing = options.intxRouting ?? DEFAULT_INTX_ROUTING;
    if (
      routing.length !== 4 ||
      routing.some((irq) => !Number.isInteger(irq) || irq < 0 || irq >= MAX_IRQ_LINES)
    ) {
      throw new RangeError(`PciBus: intxRouting [${routing.join(", ")}] is not four IRQs in 0..255`);
    }
    this.intxRouting = [...routing];
    this.abortLogLimit = options.abortLogLimit ?? DEFAULT_ABORT_LOG_LIMIT;
    if (!Number.isInteger(this.abortLogLimit) || this.abortLogLimit < 0) {
      throw new RangeError(`PciBus: abortLogLimit ${this.abortLogLimit} is not a non-negative integer`);
    }
  }

  /**
   * Plugs `model` at bus:device.fn, builds its configuration space, sets the multi-function bit
   * on every function of the device when it has more than one, and calls `model.attach(port)`.
   * Returns the function. Throws RangeError on an address out of range or an invalid model, and
   * Error when the slot is occupied.
   */
  plug(slot: PciSlot, model: PciDeviceModel): PciFunction {
    const bus = slot.bus ?? 0;
    const device = slot.device;
    const fn = slot.fn ?? 0;
    if (!Number.isInteger(bus) || bus < 0 || bus >= PCI_MAX_BUSES)
      throw new RangeError(`plug: bus ${bus} is not in 0..255`);
    if (!Number.isInteger(device) || device < 0 || device >= PCI_MAX_DEVICES) {
      throw new RangeError(`plug: device ${device} is not in 0..31`);
    }
    if (!Number.isInteger(fn) || fn < 0 || fn >= PCI_MAX_FUNCTIONS)
      throw new RangeError(`plug: fn ${fn} is not in 0..7`);
    const id = packBdf(bus, device, fn);
    if (this.slots[id] !== undefined) throw new Error(`plug: ${formatBdf(id)} is already occupied`);
    const f = new PciFunction(this, bus, device, fn, model, this.irqFor(device, model.identity.interruptPin));
    this.slots[id] = f;
    this.updateMultiFunction(bus, device);
    model.attach(f);
    return f;
  }

  /**
   * Removes the function at `bdf` (surprise removal): deasserts its INTx, stops decoding its
   * BARs. Returns the removed function, or undefined when the slot was empty.
   */
  unplug(bdf: number): PciFunction | undefined {
    this.checkBdf(bdf, "unplug");
    const f = this.slots[bdf];
    if (f === undefined) return undefined;
    f.disable();
    f.setIrq(false);
    this.slots[bdf] = undefined;
    this.updateMultiFunction(f.bus, f.device);
    this.decodeChanged();
    return f;
  }

  /** The function at `bdf`, or undefined. */
  functionAt(bdf: number): PciFunction | undefined {
    return this.slots[bdf];
  }

  /** Every plugged function in BDF order. */
  get functions(): PciFunction[] {
    return this.slots.filter((f): f is PciFunction => f !== undefined);
  }

  /** The IRQ that INTx pin `pin` (1..4) of `device` is wired to, or -1 for pin 0. */
  irqFor(device: number, pin: number): number {
    if (pin === 0) return -1;
    return this.intxRouting[(device + pin - 1) % 4];
  }

  /** Installs (or with null removes) the IOMMU every DMA passes through. */
  setIommu(iommu: Iommu | null): void {
    this.iommu = iommu;
  }

  /** Whether shared line `irq` is asserted (any function routed to it asserts INTx). */
  irqLevel(irq: number): boolean {
    return irq >= 0 && irq < MAX_IRQ_LINES && this.lineCounts[irq] > 0;
  }

  /** Resets every function (PCI bus reset, RST#): config space and device state to power-on values. */
  reset(): void {
    for (const f of this.functions) f.reset("bus");
    this.confAddress = 0;
  }

  // ---- Configuration access ----

  /**
   * Reads configuration space of `bdf` (bus << 8 | device << 3 | fn). Absent functions, and
   * offsets beyond a conventional function's 256 bytes, read all ones. Throws RangeError for a BDF
   * outside 0..0xFFFF, a size not 1/2/4, or an offset + size beyond 4096.
   */
  configRead(bdf: number, offset: number, size: AccessSize): number {
    this.checkConfig(bdf, offset, size, "configRead");
    const f = this.visible(bdf);
    return f === undefined ? ONES[size] : f.configRead(offset, size);
  }

  /** Writes configuration space (masks and side effects apply); dropped for absent functions. Throws as configRead. */
  configWrite(bdf: number, offset: number, size: AccessSize, value: number): void {
    this.checkConfig(bdf, offset, size, "configWrite");
    const f = this.visible(bdf);
    if (f !== undefined) f.configWrite(offset, size, value);
  }

  // ---- CPU-facing decode ----

  /**
   * A CPU read of physical address `pa`: ECAM, then a memory BAR / MSI-X structure / ROM of a
   * function with Memory space enabled. Unclaimed: all ones (a master abort, counted in
   * `unclaimedReads`). Throws RangeError only for a size not 1, 2 or 4.
   */
  mmioRead(pa: number, size: AccessSize): number {
    if (size !== 4 && size !== 2 && size !== 1) checkSize(size, "mmioRead");
    if (pa >= this.ecamBase && pa < this.ecamEnd) return this.ecamAccess(pa, size, 0, false);
    const w = this.mmioWindowAt(pa, size);
    if (w === null) {
      this.unclaimedReads++;
      return ONES[size];
    }
    const off = pa - w.base;
    if (w.kind === WINDOW_BAR) return maskTo(w.fn.model.barRead(w.bar, off, size), size);
    if (w.kind === WINDOW_MSIX) return maskTo(w.fn.msixBarRead(off, size), size);
    return w.fn.romRead(off, size);
  }

  /** A CPU write to `pa` (decoded as mmioRead); unclaimed writes are dropped and counted. ROM writes are ignored. */
  mmioWrite(pa: number, size: AccessSize, value: number): void {
    if (size !== 4 && size !== 2 && size !== 1) checkSize(size, "mmioWrite");
    if (pa >= this.ecamBase && pa < this.ecamEnd) {
      this.ecamAccess(pa, size, value, true);
      return;
    }
    const w = this.mmioWindowAt(pa, size);
    if (w === null) {
      this.unclaimedWrites++;
      return;
    }
    const off = pa - w.base;
    if (w.kind === WINDOW_BAR) w.fn.model.barWrite(w.bar, off, size, maskTo(value, size));
    else if (w.kind === WINDOW_MSIX) w.fn.msixBarWrite(off, size, maskTo(value, size));
  }

  /**
   * A CPU port read: CONFIG_ADDRESS (0xCF8, dword), CONFIG_DATA (0xCFC..0xCFF while bit 31 of
   * CONFIG_ADDRESS is set), then I/O BARs of functions with I/O space enabled. Unclaimed: all
   * ones, counted. Throws RangeError for a port outside 0..0xFFFF or a bad size.
   */
  ioRead(port: number, size: AccessSize): number {
    this.checkPort(port, size, "ioRead");
    if (port === PCI_CONF1_ADDRESS_PORT && size === 4) return this.confAddress;
    if (
      port >= PCI_CONF1_DATA_PORT &&
      port < PCI_CONF1_DATA_PORT + 4 &&
      (this.confAddress & PCI_CONF1_ENABLE) !== 0
    ) {
      const reg = (this.confAddress & PCI_CONF1_REG_MASK) + (port & 3);
      const f = this.visible(this.conf1Bdf());
      if (f === undefined || reg + size > PCI_CFG_SPACE_SIZE) return ONES[size];
      return f.configRead(reg, size);
    }
    const w = this.ioWindowAt(port, size);
    if (w === null) {
      this.unclaimedReads++;
      return ONES[size];
    }
    return maskTo(w.fn.model.barRead(w.bar, port - w.base, size), size);
  }

  /** A CPU port write, decoded as ioRead; unclaimed writes are dropped and counted. Throws as ioRead. */
  ioWrite(port: number, size: AccessSize, value: number): void {
    this.checkPort(port, size, "ioWrite");
    if (port === PCI_CONF1_ADDRESS_PORT && size === 4) {
      this.confAddress = value >>> 0;
      return;
    }
    if (
      port >= PCI_CONF1_DATA_PORT &&
      port < PCI_CONF1_DATA_PORT + 4 &&
      (this.confAddress & PCI_CONF1_ENABLE) !== 0
    ) {
      const reg = (this.confAddress & PCI_CONF1_REG_MASK) + (port & 3);
      const f = this.visible(this.conf1Bdf());
      if (f !== undefined && reg + size <= PCI_CFG_SPACE_SIZE) f.configWrite(reg, size, value);
      return;
    }
    const w = this.ioWindowAt(port, size);
    if (w === null) {
      this.unclaimedWrites++;
      return;
    }
    w.fn.model.barWrite(w.bar, port - w.base, size, maskTo(value, size));
  }

  // ---- FunctionHost (called by functions) ----

  /** The memory window claiming [pa, pa + size), the last one found first; null if none. */
  private mmioWindowAt(pa: number, size: number): DecodeWindow | null {
    const last = this.lastMmio;
    if (last !== null && pa >= last.base && pa + size <= last.end) return last;
    const w = findWindow(this.mmioWindows, pa, size);
    if (w !== null) this.lastMmio = w;
    return w;
  }

  /** The I/O window claiming [port, port + size), the last one found first; null if none. */
  private ioWindowAt(port: number, size: number): DecodeWindow | null {
    const last = this.lastIo;
    if (last !== null && port >= last.base && port + size <= last.end) return last;
    const w = findWindow(this.ioWindows, port, size);
    if (w !== null) this.lastIo = w;
    return w;
  }

  /** @internal Rebuilds the decode windows after a Command, BAR, ROM or power-state change. */
  decodeChanged(): void {
    const mem: DecodeWindow[] = [];
    const io: DecodeWindow[] = [];
    for (const f of this.slots) {
      if (f === undefined) continue;
      f.collectWindows(false, mem);
      f.collectWindows(true, io);
    }
    mem.sort((a, b) => a.base - b.base);
    io.sort((a, b) => a.base - b.base);
    this.mmioWindows = mem;
    this.ioWindows = io;
    this.lastMmio = null;
    this.lastIo = null;
  }

  /** @internal A function's contribution to wired-OR line `irq` changed by `delta` (+1 / -1). */
  changeLine(irq: number, delta: number): void {
    if (irq < 0 || irq >= MAX_IRQ_LINES) return;
    const before = this.lineCounts[irq];
    const after = before + delta;
    this.lineCounts[irq] = after;
    if (before === 0 && after > 0) this.interrupts.setIrqLevel(irq, true);
    else if (before > 0 && after === 0) this.interrupts.setIrqLevel(irq, false);
  }

  /** @internal Records a refused DMA. */
  recordAbort(abort: DmaAbort): void {
    this.abortCount++;
    if (this.abortLogLimit === 0) return;
    if (this.aborts.length >= this.abortLogLimit) this.aborts.shift();
    this.aborts.push(abort);
  }

  // ---- internals ----

  /** A function is visible to configuration cycles only when function 0 of its device exists (as QEMU). */
  private visible(bdf: number): PciFunction | undefined {
    const f = this.slots[bdf];
    if (f === undefined || (bdf & 7) === 0) return f;
    return this.slots[bdf & ~7] === undefined ? undefined : f;
  }

  private conf1Bdf(): number {
    const a = this.confAddress;
    return packBdf(
      (a >>> PCI_CONF1_BUS_SHIFT) & 0xff,
      (a >>> PCI_CONF1_DEV_SHIFT) & 0x1f,
      (a >>> PCI_CONF1_FN_SHIFT) & 7,
    );
  }

  private ecamAccess(pa: number, size: AccessSize, value: number, write: boolean): number {
    const off = pa - this.ecamBase;
    const reg = off & PCIE_ECAM_REG_MASK;
    const id = packBdf(
      Math.floor(off / 2 ** PCIE_ECAM_BUS_SHIFT) & 0xff,
      (off >>> PCIE_ECAM_DEV_SHIFT) & 0x1f,
      (off >>> PCIE_ECAM_FUN_SHIFT) & 7,
    );
    const f = this.visible(id);
    if (f === undefined || reg + size > PCI_CFG_SPACE_EXP_SIZE) return ONES[size];
    if (write) {
      f.configWrite(reg, size, value);
      return 0;
    }
    return f.configRead(reg, size);
  }

  private updateMultiFunction(bus: number, device: number): void {
    const base = packBdf(bus, device, 0);
    let count = 0;
    for (let fn = 0; fn < PCI_MAX_FUNCTIONS; fn++) if (this.slots[base + fn] !== undefined) count++;
    for (let fn = 0; fn < PCI_MAX_FUNCTIONS; fn++) this.slots[base + fn]?.config.setMultiFunction(count > 1);
  }

  private checkBdf(bdf: number, what: string): void {
    if (!Number.isInteger(bdf) || bdf < 0 || bdf > MAX_BDF)
      throw new RangeError(`${what}: BDF ${bdf} is not in 0..0xffff`);
  }

  private checkConfig(bdf: number, offset: number, size: number, what: string): void {
    this.checkBdf(bdf, what);
    checkSize(size, what);
    if (!Number.isInteger(offset) || offset < 0 || offset + size > PCI_CFG_SPACE_EXP_SIZE) {
      throw new RangeError(
        `${what}: offset 0x${offset.toString(16)} + ${size} is outside configuration space (0x1000)`,
      );
    }
  }

  private checkPort(port: number, size: number, what: string): void {
    if (size !== 4 && size !== 2 && size !== 1) checkSize(size, what);
    if (!(port >= 0 && port <= MAX_PORT && (port | 0) === port)) {
      throw new RangeError(`${what}: port ${port} is not in 0..0xffff`);
    }
  }
}

/** Binary search of sorted windows for one containing [addr, addr + size). */
function findWindow(ws: DecodeWindow[], addr: number, size: number): DecodeWindow | null {
  let lo = 0;
  let hi = ws.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const w = ws[mid];
    if (addr < w.base) hi = mid - 1;
    else if (addr >= w.end) lo = mid + 1;
    else return addr + size <= w.end ? w : null;
  }
  return null;
}
