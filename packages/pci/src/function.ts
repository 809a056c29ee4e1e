/**
 * One plugged PCI function: its configuration space with the side effects of writes (decode
 * changes, INTx disable, MSI unmasking, FLR), the port the device model uses for DMA and
 * interrupts, the MSI-X table and PBA, and function control (FLR, enable, disable).
 */

import { BAR_IO, BAR_MEM32, BAR_MEM64, ConfigSpace } from "./config-space.js";
import type { AccessSize, PciDeviceModel, PciDevicePort, ResetKind } from "./device.js";
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_5,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_D0,
  PCI_D1,
  PCI_D2,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSIX_ENTRY_CTRL_MASKBIT,
  PCI_MSIX_ENTRY_DATA,
  PCI_MSIX_ENTRY_LOWER_ADDR,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_UPPER_ADDR,
  PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_NUM_BARS,
  PCI_PM_CTRL,
  PCI_PM_CTRL_STATE_MASK,
  PCI_ROM_ADDRESS,
  PCI_STATUS,
  PCI_STATUS_INTERRUPT,
  PCI_STATUS_REC_MASTER_ABORT,
} from "./regs.js";

const TWO_POW_32 = 0x1_0000_0000;
/** MSI Multiple Message Enable sits in bits 6:4 of Message Control. */
const MSI_QSIZE_SHIFT = 4;
/** MSI-X entry address low: bits 1:0 reserved (read 0). */
const MSIX_ADDRESS_LO_BYTE0_MASK = 0xfc;
/** Pseudo BAR index used for the expansion ROM window. */
export const ROM_BAR_INDEX = PCI_NUM_BARS;

/** Why a DMA was refused (the master abort reason recorded in `PciBus.aborts`). */
export type DmaAbortReason = "bus-master-disabled" | "iommu-fault" | "outside-memory" | "invalid-request";

/** A refused DMA: requester, bus address, length, direction and reason. */
export interface DmaAbort {
  readonly bdf: number;
  readonly addr: number;
  readonly length: number;
  readonly write: boolean;
  readonly reason: DmaAbortReason;
}

/** The memory DMA reaches; `@side-kernel/paging`'s PhysicalMemory satisfies it. */
export interface DmaMemory {
  readonly size: number;
  readBytes(pa: number, dst: Uint8Array, dstOffset: number, length: number): void;
  writeBytes(pa: number, src: Uint8Array, srcOffset: number, length: number): void;
}

/** Where interrupts go: an interrupt controller (PIC/IOAPIC for INTx, LAPIC for MSI). */
export interface InterruptSink {
  /** The level of shared INTx line `irq` changed (wired-OR of every function routed to it). */
  setIrqLevel(irq: number, level: boolean): void;
  /** A function wrote an MSI/MSI-X message: `data` (32 bits) to `address` (up to 64 bits). */
  deliverMsi(address: number, data: number): void;
}

/**
 * An IOMMU hook: translate a requester's bus address range to a physical address valid for the
 * whole range, or return null to fault (the DMA is refused and recorded).
 */
export interface Iommu {
  translate(requesterBdf: number, addr: number, length: number, write: boolean): number | null;
}

/** What a function needs from its bus (internal seam; PciBus implements it). */
export interface FunctionHost {
  readonly memory: DmaMemory;
  readonly interrupts: InterruptSink;
  readonly iommu: Iommu | null;
  decodeChanged(): void;
  changeLine(irq: number, delta: number): void;
  recordAbort(abort: DmaAbort): void;
}

/** Packs bus, device and function into the 16-bit requester ID / BDF (bus << 8 | dev << 3 | fn). */
export function bdf(bus: number, device: number, fn: number): number {
  return (bus << 8) | (device << 3) | fn;
}

/** Formats a BDF the way lspci does: "00:03.0". */
export function formatBdf(id: number): string {
  const bus = (id >>> 8) & 0xff;
  const dev = (id >>> 3) & 0x1f;
  const fn = id & 7;
  return `${bus.toString(16).padStart(2, "0")}:${dev.toString(16).padStart(2, "0")}.${fn}`;
}

/**
 * A function on the bus. Created by `PciBus.plug`; it is also the `PciDevicePort` handed to the
 * model's `attach`. DMA and interrupt methods never throw on device input: they return false and
 * record a master abort instead.
 */
export class PciFunction implements PciDevicePort {
  /** Requester ID: bus << 8 | device << 3 | fn. */
  readonly bdf: number;
  readonly bus: number;
  readonly device: number;
  readonly fn: number;
  readonly model: PciDeviceModel;
  /** Routed INTx line (PIIX swizzle of device and pin), or -1 when the function has no pin. */
  readonly irq: number;
  /** @internal configuration space; use the bus's config accesses. */
  readonly config: ConfigSpace;
  /** @internal */
  readonly host: FunctionHost;
  private deviceLevel = false;
  private lineAsserted = false;
  private readonly msixTable: Uint8Array;
  private readonly msixPba: Uint8Array;
  private readonly rom: Uint8Array;

  /** @internal Built by PciBus.plug, which validates the address; throws RangeError on a bad model. */
  constructor(
    host: FunctionHost,
    bus: number,
    device: number,
    fn: number,
    model: PciDeviceModel,
    irq: number,
  ) {
    this.host = host;
    this.bus = bus;
    this.device = device;
    this.fn = fn;
    this.bdf = bdf(bus, device, fn);
    this.model = model;
    this.config = new ConfigSpace(model);
    this.irq = model.identity.interruptPin === 0 ? -1 : irq;
    this.msixTable = new Uint8Array(this.config.msixTableSize * PCI_MSIX_ENTRY_SIZE);
    this.msixPba = new Uint8Array(Math.ceil(this.config.msixTableSize / 64) * 8);
    this.rom = new Uint8Array(this.config.romSize);
    if (model.rom !== undefined) this.rom.set(model.rom);
    this.resetMsix();
  }

  /** The Command register (bit 2 = bus master). */
  get command(): number {
    const b = this.config.bytes;
    return b[PCI_COMMAND] | (b[PCI_COMMAND + 1] << 8);
  }

  /** Reads `size` bytes of configuration space at `offset`; all ones beyond this function's space. */
  configRead(offset: number, size: AccessSize): number {
    if (offset + size > this.config.size) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    return this.config.read(offset, size);
  }

  /**
   * Writes configuration space through its masks and applies the side effects: decode windows
   * (Command, BARs, ROM, power state), INTx disable, MSI/MSI-X enable and unmasking of pending
   * vectors, and FLR (PCIe Device Control bit 15 on an FLR-capable function). Writes beyond the
   * function's space are dropped.
   */
  configWrite(offset: number, size: AccessSize, value: number): void {
    const c = this.config;
    if (offset + size > c.size) return;
    const end = offset + size;
    const oldCommand = this.command;
    const oldPm = c.pmCap !== 0 ? c.bytes[c.pmCap + PCI_PM_CTRL] & PCI_PM_CTRL_STATE_MASK : PCI_D0;
    c.write(offset, size, value);

    let decode = false;
    let intx = false;
    const cmd = this.command;
    const commandChanged = cmd !== oldCommand;
    if (commandChanged) {
      decode = true;
      intx = true;
    }
    if (overlaps(offset, end, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_5 + 4 - PCI_BASE_ADDRESS_0)) decode = true;
    if (overlaps(offset, end, PCI_ROM_ADDRESS, 4)) decode = true;
    if (c.pmCap !== 0 && overlaps(offset, end, c.pmCap + PCI_PM_CTRL, 1)) {
      const state = c.bytes[c.pmCap + PCI_PM_CTRL] & PCI_PM_CTRL_STATE_MASK;
      // D1 and D2 are not supported (PMC bits 9/10 clear): the spec says such a write is ignored.
      if (state === PCI_D1 || state === PCI_D2) {
        c.bytes[c.pmCap + PCI_PM_CTRL] = (c.bytes[c.pmCap + PCI_PM_CTRL] & ~PCI_PM_CTRL_STATE_MASK) | oldPm;
      } else if (state !== oldPm) {
        decode = true;
      }
    }
    if (c.msiCap !== 0 && overlaps(offset, end, c.msiCap, c.msiSize)) {
      intx = true;
      this.flushMsiPending();
    }
    if (c.msixCap !== 0 && overlaps(offset, end, c.msixCap + PCI_MSIX_FLAGS, 2)) {
      intx = true;
      this.flushMsixPending();
    }
    if (decode) this.host.decodeChanged();
    if (intx) this.updateIntx();
    // Told last, so a model reacting to bus-master enable (QEMU's e1000 flushes queued RX) sees
    // the new decode and interrupt state.
    if (commandChanged) this.model.commandChanged?.(cmd);
    if (
      c.pcieCap !== 0 &&
      c.flrCapable &&
      overlaps(offset, end, c.pcieCap + PCI_EXP_DEVCTL + 1, 1) &&
      ((value >>> ((c.pcieCap + PCI_EXP_DEVCTL + 1 - offset) * 8)) & (PCI_EXP_DEVCTL_BCR_FLR >>> 8)) !== 0
    ) {
      this.flr();
    }
  }

  // ---- PciDevicePort ----

  /**
   * DMA read of `length` bytes at bus address `addr` into `dst[dstOffset..]`. Returns false and
   * records a master abort when bus mastering is off, the request is malformed, the IOMMU faults,
   * or the range leaves memory.
   */
  dmaRead(addr: number, dst: Uint8Array, dstOffset: number, length: number): boolean {
    const pa = this.dmaTranslate(addr, dst, dstOffset, length, false);
    if (pa < 0) return false;
    this.host.memory.readBytes(pa, dst, dstOffset, length);
    return true;
  }

  /** DMA write of `src[srcOffset..srcOffset+length]` to bus address `addr`. False on a master abort. */
  dmaWrite(addr: number, src: Uint8Array, srcOffset: number, length: number): boolean {
    const pa = this.dmaTranslate(addr, src, srcOffset, length, true);
    if (pa < 0) return false;
    this.host.memory.writeBytes(pa, src, srcOffset, length);
    return true;
  }

  /**
   * Drives the function's INTx pin. Status.Interrupt follows the level; the shared line is
   * asserted only while INTx is not disabled (Command bit 10) and MSI/MSI-X are off.
   */
  setIrq(level: boolean): void {
    if (level === this.deviceLevel) return;
    this.deviceLevel = level;
    this.updateIntx();
  }

  /**
   * Sends message `vector` through MSI-X (when enabled) or MSI. Returns true when delivered;
   * false when bus mastering is off, neither is enabled, the vector is out of range, or the
   * vector is masked (then its pending bit is set and it is sent on unmask).
   */
  signalMsi(vector: number): boolean {
    if (!Number.isInteger(vector) || vector < 0) return false;
    const c = this.config;
    if ((this.command & PCI_COMMAND_MASTER) === 0) return false;
    if (c.msixCap !== 0 && (c.get16(c.msixCap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE) !== 0) {
      return this.signalMsix(vector);
    }
    if (c.msiCap !== 0 && (c.get16(c.msiCap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE) !== 0) {
      return this.signalMsiVector(vector);
    }
    return false;
  }

  // ---- Function control ----

  /**
   * Function-level reset, as PCIe's FLR: deasserts INTx, restores the power-on configuration
   * space (decode and bus mastering off, BARs unassigned, MSI/MSI-X disabled), clears the MSI-X
   * table to masked entries, and resets the device model with kind "flr". Works on any function
   * (the host's view); software reaches it through Device Control bit 15 only when FLR-capable.
   */
  flr(): void {
    this.reset("flr");
  }

  /**
   * As Linux pci_enable_device (and pci_set_master when `busMaster`): sets Command I/O space when
   * the function has an I/O BAR and Memory space when it has a memory BAR or a ROM.
   */
  enable(options: { busMaster?: boolean } = {}): void {
    const c = this.config;
    let cmd = this.command;
    for (let i = 0; i < PCI_NUM_BARS; i++) {
      if (c.barKind[i] === BAR_IO) cmd |= PCI_COMMAND_IO;
      if (c.barKind[i] === BAR_MEM32 || c.barKind[i] === BAR_MEM64) cmd |= PCI_COMMAND_MEMORY;
    }
    if (c.romSize !== 0) cmd |= PCI_COMMAND_MEMORY;
    if (options.busMaster === true) cmd |= PCI_COMMAND_MASTER;
    this.configWrite(PCI_COMMAND, 2, cmd);
  }

  /** As Linux pci_disable_device: clears Command I/O, Memory and Bus Master. */
  disable(): void {
    this.configWrite(
      PCI_COMMAND,
      2,
      this.command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER),
    );
  }

  /** The address BAR `bar` is programmed with (0 = unassigned or absent). */
  barAddress(bar: number): number {
    return this.config.barAddress(bar);
  }

  /** Whether the function's INTx currently drives its shared line. */
  get intxAsserted(): boolean {
    return this.lineAsserted;
  }

  /** @internal Reset of the given kind (bus reset or FLR). */
  reset(kind: ResetKind): void {
    this.deviceLevel = false;
    this.updateIntxLine(false);
    this.config.reset();
    this.resetMsix();
    this.model.reset(kind);
    this.host.decodeChanged();
  }

  /** @internal Appends this function's decoded windows (memory or I/O) to `out`. */
  collectWindows(io: boolean, out: DecodeWindow[]): void {
    const c = this.config;
    if (c.pmCap !== 0 && (c.bytes[c.pmCap + PCI_PM_CTRL] & PCI_PM_CTRL_STATE_MASK) !== PCI_D0) return;
    const cmd = this.command;
    if (io) {
      if ((cmd & PCI_COMMAND_IO) === 0) return;
      for (let i = 0; i < PCI_NUM_BARS; i++) {
        if (c.barKind[i] !== BAR_IO) continue;
        const base = c.barAddress(i);
        if (base !== 0) out.push(new DecodeWindow(base, base + c.barSize[i], this, i, WINDOW_BAR));
      }
      return;
    }
    if ((cmd & PCI_COMMAND_MEMORY) === 0) return;
    for (let i = 0; i < PCI_NUM_BARS; i++) {
      const k = c.barKind[i];
      if (k !== BAR_MEM32 && k !== BAR_MEM64) continue;
      const base = c.barAddress(i);
      if (base === 0) continue;
      out.push(
        new DecodeWindow(base, base + c.barSize[i], this, i, i === c.msixBar ? WINDOW_MSIX : WINDOW_BAR),
      );
    }
    if (c.romEnabled()) {
      const base = c.romAddress();
      if (base !== 0) out.push(new DecodeWindow(base, base + c.romSize, this, ROM_BAR_INDEX, WINDOW_ROM));
    }
  }

  /** @internal Read within an MSI-X BAR: table or PBA if `offset` is in them, else the device. */
  msixBarRead(offset: number, size: AccessSize): number {
    const c = this.config;
    const t = offset - c.msixTableOffset;
    if (t >= 0 && t < this.msixTable.length) return readLe(this.msixTable, t, size);
    const p = offset - c.msixPbaOffset;
    if (p >= 0 && p < this.msixPba.length) return readLe(this.msixPba, p, size);
    return this.model.barRead(c.msixBar, offset, size);
  }

  /** @internal Write within an MSI-X BAR: table entries (masks applied), PBA (read-only), else the device. */
  msixBarWrite(offset: number, size: AccessSize, value: number): void {
    const c = this.config;
    const t = offset - c.msixTableOffset;
    if (t >= 0 && t < this.msixTable.length) {
      const tab = this.msixTable;
      for (let i = 0; i < size; i++) {
        const at = t + i;
        if (at >= tab.length) break;
        const field = at % PCI_MSIX_ENTRY_SIZE;
        let v = (value >>> (i * 8)) & 0xff;
        if (field === PCI_MSIX_ENTRY_LOWER_ADDR) v &= MSIX_ADDRESS_LO_BYTE0_MASK;
        else if (field === PCI_MSIX_ENTRY_VECTOR_CTRL) v &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
        else if (field > PCI_MSIX_ENTRY_VECTOR_CTRL) v = 0;
        tab[at] = v;
      }
      this.flushMsixPending();
      return;
    }
    const p = offset - c.msixPbaOffset;
    if (p >= 0 && p < this.msixPba.length) return;
    this.model.barWrite(c.msixBar, offset, size, value);
  }

  /** @internal Read of the expansion ROM image. */
  romRead(offset: number, size: AccessSize): number {
    return readLe(this.rom, offset, size);
  }

  private dmaTranslate(addr: number, buf: Uint8Array, off: number, length: number, write: boolean): number {
    if ((this.command & PCI_COMMAND_MASTER) === 0)
      return this.abort(addr, length, write, "bus-master-disabled");
    if (
      !Number.isInteger(addr) ||
      !Number.isInteger(length) ||
      !Number.isInteger(off) ||
      addr < 0 ||
      length < 0 ||
      off < 0 ||
      off + length > buf.length
    ) {
      return this.abort(addr, length, write, "invalid-request");
    }
    let pa = addr;
    const iommu = this.host.iommu;
    if (iommu !== null) {
      const t = iommu.translate(this.bdf, addr, length, write);
      if (t === null) return this.abort(addr, length, write, "iommu-fault");
      pa = t;
    }
    if (!Number.isInteger(pa) || pa < 0 || pa + length > this.host.memory.size) {
      return this.abort(addr, length, write, "outside-memory");
    }
    return pa;
  }

  private abort(addr: number, length: number, write: boolean, reason: DmaAbortReason): number {
    const c = this.config;
    c.set16(PCI_STATUS, c.get16(PCI_STATUS) | PCI_STATUS_REC_MASTER_ABORT);
    this.host.recordAbort({ bdf: this.bdf, addr, length, write, reason });
    return -1;
  }

  private msiEnabled(): boolean {
    const c = this.config;
    return c.msiCap !== 0 && (c.get16(c.msiCap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE) !== 0;
  }

  private msixEnabled(): boolean {
    const c = this.config;
    return c.msixCap !== 0 && (c.get16(c.msixCap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE) !== 0;
  }

  private updateIntx(): void {
    const c = this.config;
    const status = c.get16(PCI_STATUS);
    c.set16(PCI_STATUS, this.deviceLevel ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT);
    const want =
      this.deviceLevel &&
      this.irq >= 0 &&
      (this.command & PCI_COMMAND_INTX_DISABLE) === 0 &&
      !this.msiEnabled() &&
      !this.msixEnabled();
    this.updateIntxLine(want);
  }

  private updateIntxLine(want: boolean): void {
    if (want === this.lineAsserted) return;
    this.lineAsserted = want;
    this.host.changeLine(this.irq, want ? 1 : -1);
  }

  /** Vectors software enabled (Multiple Message Enable), capped at what the function supports. */
  private msiAllocated(): number {
    const c = this.config;
    const mme = (c.get16(c.msiCap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_QSIZE) >>> MSI_QSIZE_SHIFT;
    return Math.min(1 << mme, c.msiVectors);
  }

  private signalMsiVector(vector: number): boolean {
    const c = this.config;
    if (vector >= this.msiAllocated()) return false;
    if (c.msiMaskOffset !== 0 && ((c.read(c.msiMaskOffset, 4) >>> vector) & 1) !== 0) {
      c.set32(c.msiPendingOffset, (c.read(c.msiPendingOffset, 4) | (1 << vector)) >>> 0);
      return false;
    }
    this.sendMsi(vector);
    return true;
  }

  private sendMsi(vector: number): void {
    const c = this.config;
    let address = c.read(c.msiCap + PCI_MSI_ADDRESS_LO, 4);
    if (c.msiIs64) address += c.read(c.msiCap + PCI_MSI_ADDRESS_HI, 4) * TWO_POW_32;
    const n = this.msiAllocated();
    const data = (c.get16(c.msiDataOffset) & ~(n - 1)) | vector;
    this.host.interrupts.deliverMsi(address, data);
  }

  private flushMsiPending(): void {
    const c = this.config;
    if (c.msiMaskOffset === 0 || !this.msiEnabled() || (this.command & PCI_COMMAND_MASTER) === 0) return;
    let pending = c.read(c.msiPendingOffset, 4);
    if (pending === 0) return;
    const mask = c.read(c.msiMaskOffset, 4);
    const n = this.msiAllocated();
    for (let v = 0; v < n; v++) {
      const bit = 1 << v;
      if ((pending & bit) !== 0 && (mask & bit) === 0) {
        pending &= ~bit;
        c.set32(c.msiPendingOffset, pending >>> 0);
        this.sendMsi(v);
      }
    }
  }

  private signalMsix(vector: number): boolean {
    const c = this.config;
    if (vector >= c.msixTableSize) return false;
    const entry = vector * PCI_MSIX_ENTRY_SIZE;
    const masked =
      (c.get16(c.msixCap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_MASKALL) !== 0 ||
      (this.msixTable[entry + PCI_MSIX_ENTRY_VECTOR_CTRL] & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0;
    if (masked) {
      this.msixPba[vector >>> 3] |= 1 << (vector & 7);
      return false;
    }
    this.sendMsix(vector);
    return true;
  }

  private sendMsix(vector: number): void {
    const tab = this.msixTable;
    const entry = vector * PCI_MSIX_ENTRY_SIZE;
    const address =
      readLe(tab, entry + PCI_MSIX_ENTRY_LOWER_ADDR, 4) +
      readLe(tab, entry + PCI_MSIX_ENTRY_UPPER_ADDR, 4) * TWO_POW_32;
    this.host.interrupts.deliverMsi(address, readLe(tab, entry + PCI_MSIX_ENTRY_DATA, 4));
  }

  private flushMsixPending(): void {
    const c = this.config;
    if (!this.msixEnabled() || (this.command & PCI_COMMAND_MASTER) === 0) return;
    if ((c.get16(c.msixCap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_MASKALL) !== 0) return;
    const pba = this.msixPba;
    for (let byte = 0; byte < pba.length; byte++) {
      if (pba[byte] === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        const v = byte * 8 + bit;
        if ((pba[byte] & (1 << bit)) === 0) continue;
        if (
          (this.msixTable[v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] &
            PCI_MSIX_ENTRY_CTRL_MASKBIT) !==
          0
        ) {
          continue;
        }
        pba[byte] &= ~(1 << bit);
        this.sendMsix(v);
      }
    }
  }

  private resetMsix(): void {
    this.msixTable.fill(0);
    this.msixPba.fill(0);
    for (let v = 0; v < this.config.msixTableSize; v++) {
      this.msixTable[v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
    }
  }
}

/** Window kinds: a plain BAR, a BAR holding MSI-X structures, the expansion ROM. */
export const WINDOW_BAR = 0;
export const WINDOW_MSIX = 1;
export const WINDOW_ROM = 2;

/** @internal One decoded address range [base, end) of a function's BAR or ROM. */
export class DecodeWindow {
  constructor(
    readonly base: number,
    readonly end: number,
    readonly fn: PciFunction,
    readonly bar: number,
    readonly kind: number,
  ) {}
}

function overlaps(start: number, end: number, at: number, len: number): boolean {
  return start < at + len && at < end;
}

function readLe(b: Uint8Array, at: number, size: number): number {
  const n = b.length;
  const b0 = at < n ? b[at] : 0;
  if (size === 1) return b0;
  const b1 = at + 1 < n ? b[at + 1] : 0;
  if (size === 2) return b0 | (b1 << 8);
  const b2 = at + 2 < n ? b[at + 2] : 0;
  const b3 = at + 3 < n ? b[at + 3] : 0;
  return (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0;
}
