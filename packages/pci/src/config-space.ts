/**
 * The configuration space of one PCI function, built from a device's declared identity, BARs and
 * capabilities (as QEMU's pci.c keeps `config`, `wmask` and `w1cmask`): every byte has a value,
 * a mask of bits software may write, and a mask of RW1C bits. A write merges
 * `(old & ~wmask) | (new & wmask)` and then clears `new & w1cmask`. BAR sizing falls out of the
 * masks: only address bits at or above log2(size) are writable, so writing all ones reads back
 * ~(size - 1) | type bits.
 *
 * Layout (offsets from hardware.md 4.2; capabilities dword-aligned from 0x40, in the order the
 * device lists them):
 *
 *   0x00 Vendor ID | Device ID          0x04 Command | Status
 *   0x08 Revision | Class code (3)      0x0C Cache line | Latency | Header type | BIST
 *   0x10..0x27 BAR0..BAR5               0x2C Subsystem vendor | Subsystem ID
 *   0x30 Expansion ROM base             0x34 Capabilities pointer
 *   0x3C Int line | Int pin | Min_Gnt | Max_Lat
 *   0x40.. PM (8 B), MSI (10..24 B), MSI-X (12 B), PCIe v2 (60 B), as declared
 *   0x100 extended capabilities: an all-zero header (none), only for a function with a PCIe cap
 */

import type { BarDefinition, PciDeviceModel } from "./device.js";
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_IO_MASK,
  PCI_BASE_ADDRESS_MEM_MASK,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_CACHE_LINE_SIZE,
  PCI_CAP_EXP_ENDPOINT_SIZEOF_V2,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAP_LIST_NEXT,
  PCI_CAP_MSIX_SIZEOF,
  PCI_CAPABILITY_LIST,
  PCI_CFG_SPACE_EXP_SIZE,
  PCI_CFG_SPACE_SIZE,
  PCI_CLASS_PROG,
  PCI_COMMAND,
  PCI_COMMAND_WRITABLE,
  PCI_DEVICE_ID,
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_CERE,
  PCI_EXP_DEVCTL_EXT_TAG,
  PCI_EXP_DEVCTL_FERE,
  PCI_EXP_DEVCTL_NFERE,
  PCI_EXP_DEVCTL_NOSNOOP_EN,
  PCI_EXP_DEVCTL_PAYLOAD,
  PCI_EXP_DEVCTL_READRQ,
  PCI_EXP_DEVCTL_READRQ_512B,
  PCI_EXP_DEVCTL_RELAX_EN,
  PCI_EXP_DEVCTL_URRE,
  PCI_EXP_DEVSTA,
  PCI_EXP_DEVSTA_ERRORS,
  PCI_EXP_FLAGS,
  PCI_EXP_FLAGS_VERS_2,
  PCI_EXP_LNK_SPEED_2_5GT,
  PCI_EXP_LNK_WIDTH_X1,
  PCI_EXP_LNKCAP,
  PCI_EXP_LNKCTL,
  PCI_EXP_LNKCTL_WRITABLE,
  PCI_EXP_LNKSTA,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_MFD,
  PCI_HEADER_TYPE_NORMAL,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_INTERRUPT_PIN_INTD,
  PCI_LATENCY_TIMER,
  PCI_MAX_IO_BAR_SIZE,
  PCI_MIN_IO_BAR_SIZE,
  PCI_MIN_MEM_BAR_SIZE,
  PCI_MIN_ROM_SIZE,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_32,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSI_MASK_32,
  PCI_MSI_MASK_64,
  PCI_MSI_PENDING_32,
  PCI_MSI_PENDING_64,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_MSIX_MAX_ENTRIES,
  PCI_MSIX_PBA,
  PCI_MSIX_TABLE,
  PCI_NUM_BARS,
  PCI_PM_CAP_VER_1_2,
  PCI_PM_CTRL,
  PCI_PM_CTRL_NO_SOFT_RESET,
  PCI_PM_CTRL_PME_ENABLE,
  PCI_PM_CTRL_PME_STATUS,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_PMC,
  PCI_PM_SIZEOF,
  PCI_REVISION_ID,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_ROM_ADDRESS_MASK,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STATUS_RW1C,
  PCI_STD_HEADER_SIZEOF,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
} from "./regs.js";

/** BAR kind codes kept per slot (numbers, so the decode path compares integers). */
export const BAR_NONE = 0;
export const BAR_MEM32 = 1;
export const BAR_MEM64 = 2;
/** The upper half of a 64-bit BAR in the slot below. */
export const BAR_MEM64_HIGH = 3;
export const BAR_IO = 4;

const TWO_POW_32 = 0x1_0000_0000;
/** MSI capability sizes by (64-bit, per-vector mask): PCI Local Bus Spec 3.0 6.8.1. */
const MSI_SIZE_32 = 0x0a;
const MSI_SIZE_32_MASK = 0x14;
const MSI_SIZE_64 = 0x0e;
const MSI_SIZE_64_MASK = 0x18;
/** Capabilities are placed on dword boundaries. */
const CAP_ALIGN = 4;
/** MSI Message Data is 16 bits; MSI Message Address low has bits 1:0 reserved. */
const MSI_DATA_MASK = 0xffff;
const MSI_ADDRESS_LO_MASK = 0xfffffffc;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * One function's configuration space: values, writable mask, RW1C mask, the power-on image
 * that resets restore, and where each capability sits. Internal to the package: the bus and
 * `PciFunction` own it; users reach it through config accesses.
 */
export class ConfigSpace {
  /** 256 or 4096 bytes. */
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly wmask: Uint8Array;
  readonly w1cmask: Uint8Array;
  readonly resetImage: Uint8Array;
  /** Per BAR slot: BAR_NONE, BAR_MEM32, BAR_MEM64, BAR_MEM64_HIGH or BAR_IO. */
  readonly barKind: Uint8Array = new Uint8Array(PCI_NUM_BARS);
  /** Per BAR slot: size in bytes (0 when absent). */
  readonly barSize: Float64Array = new Float64Array(PCI_NUM_BARS);
  /** Expansion ROM size in bytes (0 when absent). */
  readonly romSize: number;
  /** Capability offsets, 0 when absent. */
  readonly pmCap: number = 0;
  readonly msiCap: number = 0;
  readonly msixCap: number = 0;
  readonly pcieCap: number = 0;
  /** MSI: vectors supported, 64-bit address, per-vector mask; offsets of data, mask, pending. */
  readonly msiVectors: number = 0;
  /** Bytes the MSI capability occupies (10, 14, 20 or 24). */
  readonly msiSize: number = 0;
  readonly msiIs64: boolean = false;
  readonly msiPerVectorMask: boolean = false;
  readonly msiDataOffset: number = 0;
  readonly msiMaskOffset: number = 0;
  readonly msiPendingOffset: number = 0;
  /** MSI-X: entries, BAR index, table and PBA offsets within the BAR. */
  readonly msixTableSize: number = 0;
  readonly msixBar: number = -1;
  readonly msixTableOffset: number = 0;
  readonly msixPbaOffset: number = 0;
  /** PCIe: whether the function advertises FLR. */
  readonly flrCapable: boolean = false;

  /**
   * Builds the power-on configuration space of `model`. Throws a RangeError naming the field and
   * value when the declaration is invalid (BAR size not a power of two or below the minimum, a
   * 64-bit BAR in slot 5 or with its upper slot used, an identity field out of range, an MSI-X
   * table outside its BAR, or capabilities that do not fit in 0x40..0xFF).
   */
  constructor(model: PciDeviceModel) {
    const caps = model.capabilities ?? [];
    const hasPcie = caps.some((c) => c.kind === "pcie");
    this.size = hasPcie ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;
    this.bytes = new Uint8Array(this.size);
    this.wmask = new Uint8Array(this.size);
    this.w1cmask = new Uint8Array(this.size);

    const id = model.identity;
    checkField("vendorId", id.vendorId, 0xffff);
    if (id.vendorId === 0xffff) throw new RangeError("PCI identity: vendorId 0xffff is reserved (absent)");
    checkField("deviceId", id.deviceId, 0xffff);
    checkField("revision", id.revision, 0xff);
    checkField("classCode", id.classCode, 0xffffff);
    checkField("subsystemVendorId", id.subsystemVendorId, 0xffff);
    checkField("subsystemId", id.subsystemId, 0xffff);
    checkField("interruptPin", id.interruptPin, PCI_INTERRUPT_PIN_INTD);
    if (id.cacheLineSize !== undefined) checkField("cacheLineSize", id.cacheLineSize, 0xff);

    this.set16(PCI_VENDOR_ID, id.vendorId);
    this.set16(PCI_DEVICE_ID, id.deviceId);
    this.bytes[PCI_REVISION_ID] = id.revision;
    this.set8(PCI_CLASS_PROG, id.classCode & 0xff);
    this.set16(PCI_CLASS_PROG + 1, id.classCode >>> 8);
    this.set16(PCI_SUBSYSTEM_VENDOR_ID, id.subsystemVendorId);
    this.set16(PCI_SUBSYSTEM_ID, id.subsystemId);
    this.bytes[PCI_INTERRUPT_PIN] = id.interruptPin;
    this.bytes[PCI_CACHE_LINE_SIZE] = id.cacheLineSize ?? 0;
    this.bytes[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;

    this.setMask16(PCI_COMMAND, PCI_COMMAND_WRITABLE);
    this.setW1c16(PCI_STATUS, PCI_STATUS_RW1C);
    this.wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    this.wmask[PCI_LATENCY_TIMER] = 0xff;
    this.wmask[PCI_INTERRUPT_LINE] = 0xff;

    this.layoutBars(model.bars);

    let romSize = 0;
    if (model.rom !== undefined) {
      romSize = PCI_MIN_ROM_SIZE;
      while (romSize < model.rom.length) romSize *= 2;
      this.setMask32(
        PCI_ROM_ADDRESS,
        ((PCI_ROM_ADDRESS_MASK & ~(romSize - 1)) | PCI_ROM_ADDRESS_ENABLE) >>> 0,
      );
    }
    this.romSize = romSize;

    // Capabilities, chained in declaration order.
    let next = PCI_STD_HEADER_SIZEOF;
    let prev = PCI_CAPABILITY_LIST;
    for (const cap of caps) {
      const at = next;
      let size: number;
      switch (cap.kind) {
        case "pm":
          size = PCI_PM_SIZEOF;
          this.fitCap(at, size, cap.kind);
          this.pmCap = at;
          this.bytes[at] = PCI_CAP_ID_PM;
          this.set16(at + PCI_PM_PMC, PCI_PM_CAP_VER_1_2);
          this.set16(at + PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET);
          this.setMask16(at + PCI_PM_CTRL, PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE);
          this.setW1c16(at + PCI_PM_CTRL, PCI_PM_CTRL_PME_STATUS);
          break;
        case "msi": {
          if (![1, 2, 4, 8, 16, 32].includes(cap.vectors)) {
            throw new RangeError(`MSI capability: vectors ${cap.vectors} is not 1, 2, 4, 8, 16 or 32`);
          }
          size = cap.is64
            ? cap.perVectorMask
              ? MSI_SIZE_64_MASK
              : MSI_SIZE_64
            : cap.perVectorMask
              ? MSI_SIZE_32_MASK
              : MSI_SIZE_32;
          this.fitCap(at, size, cap.kind);
          this.msiCap = at;
          this.msiSize = size;
          this.msiVectors = cap.vectors;
          this.msiIs64 = cap.is64;
          this.msiPerVectorMask = cap.perVectorMask;
          this.bytes[at] = PCI_CAP_ID_MSI;
          const mmc = Math.log2(cap.vectors);
          this.set16(
            at + PCI_MSI_FLAGS,
            (mmc << 1) |
              (cap.is64 ? PCI_MSI_FLAGS_64BIT : 0) |
              (cap.perVectorMask ? PCI_MSI_FLAGS_MASKBIT : 0),
          );
          this.setMask16(at + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
          this.setMask32(at + PCI_MSI_ADDRESS_LO, MSI_ADDRESS_LO_MASK);
          if (cap.is64) this.setMask32(at + PCI_MSI_ADDRESS_HI, 0xffffffff);
          this.msiDataOffset = at + (cap.is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
          this.setMask16(this.msiDataOffset, MSI_DATA_MASK);
          if (cap.perVectorMask) {
            this.msiMaskOffset = at + (cap.is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
            this.msiPendingOffset = at + (cap.is64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32);
            const vectorBits = cap.vectors === 32 ? 0xffffffff : (1 << cap.vectors) - 1;
            this.setMask32(this.msiMaskOffset, vectorBits >>> 0);
          }
          break;
        }
        case "msix": {
          size = PCI_CAP_MSIX_SIZEOF;
          this.fitCap(at, size, cap.kind);
          this.checkMsix(cap.tableSize, cap.bar, cap.tableOffset, cap.pbaOffset);
          this.msixCap = at;
          this.msixTableSize = cap.tableSize;
          this.msixBar = cap.bar;
          this.msixTableOffset = cap.tableOffset;
          this.msixPbaOffset = cap.pbaOffset;
          this.bytes[at] = PCI_CAP_ID_MSIX;
          this.set16(at + PCI_MSIX_FLAGS, cap.tableSize - 1);
          this.setMask16(at + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
          this.set32(at + PCI_MSIX_TABLE, (cap.tableOffset | cap.bar) >>> 0);
          this.set32(at + PCI_MSIX_PBA, (cap.pbaOffset | cap.bar) >>> 0);
          break;
        }
        case "pcie": {
          size = PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
          this.fitCap(at, size, cap.kind);
          this.pcieCap = at;
          this.flrCapable = cap.flr;
          this.bytes[at] = PCI_CAP_ID_EXP;
          this.set16(at + PCI_EXP_FLAGS, PCI_EXP_FLAGS_VERS_2 | (PCI_EXP_TYPE_ENDPOINT << 4));
          this.set32(at + PCI_EXP_DEVCAP, cap.flr ? PCI_EXP_DEVCAP_FLR : 0);
          this.set16(
            at + PCI_EXP_DEVCTL,
            PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN | PCI_EXP_DEVCTL_READRQ_512B,
          );
          // Initiate FLR (bit 15) is not in the mask: it always reads 0; the function acts on it.
          this.setMask16(
            at + PCI_EXP_DEVCTL,
            PCI_EXP_DEVCTL_CERE |
              PCI_EXP_DEVCTL_NFERE |
              PCI_EXP_DEVCTL_FERE |
              PCI_EXP_DEVCTL_URRE |
              PCI_EXP_DEVCTL_RELAX_EN |
              PCI_EXP_DEVCTL_PAYLOAD |
              PCI_EXP_DEVCTL_EXT_TAG |
              PCI_EXP_DEVCTL_NOSNOOP_EN |
              PCI_EXP_DEVCTL_READRQ,
          );
          this.setW1c16(at + PCI_EXP_DEVSTA, PCI_EXP_DEVSTA_ERRORS);
          this.set32(at + PCI_EXP_LNKCAP, PCI_EXP_LNK_SPEED_2_5GT | PCI_EXP_LNK_WIDTH_X1);
          this.setMask16(at + PCI_EXP_LNKCTL, PCI_EXP_LNKCTL_WRITABLE);
          this.set16(at + PCI_EXP_LNKSTA, PCI_EXP_LNK_SPEED_2_5GT | PCI_EXP_LNK_WIDTH_X1);
          break;
        }
        default:
          throw new RangeError(`unknown capability kind ${JSON.stringify((cap as { kind: unknown }).kind)}`);
      }
      this.bytes[prev === PCI_CAPABILITY_LIST ? prev : prev + PCI_CAP_LIST_NEXT] = at;
      prev = at;
      next = at + Math.ceil(size / CAP_ALIGN) * CAP_ALIGN;
    }
    if (caps.length > 0) this.set16(PCI_STATUS, this.get16(PCI_STATUS) | PCI_STATUS_CAP_LIST);
    this.resetImage = this.bytes.slice();
  }

  /** Reads `size` bytes at `offset`, little-endian, unsigned. Caller checks bounds. */
  read(offset: number, size: number): number {
    const b = this.bytes;
    if (size === 4)
      return (b[offset] | (b[offset + 1] << 8) | (b[offset + 2] << 16) | (b[offset + 3] << 24)) >>> 0;
    if (size === 2) return b[offset] | (b[offset + 1] << 8);
    return b[offset];
  }

  /** Writes `size` bytes at `offset` through the writable and RW1C masks. Caller checks bounds. */
  write(offset: number, size: number, value: number): void {
    const b = this.bytes;
    const wm = this.wmask;
    const w1c = this.w1cmask;
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      const v = (value >>> (i * 8)) & 0xff;
      const merged = (b[at] & ~wm[at]) | (v & wm[at]);
      b[at] = merged & ~(v & w1c[at]);
    }
  }

  /** Returns the configuration space to its power-on image (reset, FLR). */
  reset(): void {
    this.bytes.set(this.resetImage);
  }

  /** Sets or clears the multi-function bit in the header type (value and reset image). */
  setMultiFunction(on: boolean): void {
    const v = on ? PCI_HEADER_TYPE_MFD : 0;
    this.bytes[PCI_HEADER_TYPE] = (this.bytes[PCI_HEADER_TYPE] & ~PCI_HEADER_TYPE_MFD) | v;
    this.resetImage[PCI_HEADER_TYPE] = (this.resetImage[PCI_HEADER_TYPE] & ~PCI_HEADER_TYPE_MFD) | v;
  }

  /**
   * The address BAR `bar` decodes: memory bits 31:4 (plus the upper dword for 64-bit), I/O bits
   * 31:2. Returns 0 for an absent BAR or the upper half of a 64-bit BAR.
   */
  barAddress(bar: number): number {
    const kind = this.barKind[bar];
    const off = PCI_BASE_ADDRESS_0 + bar * 4;
    if (kind === BAR_MEM32) return (this.read(off, 4) & PCI_BASE_ADDRESS_MEM_MASK) >>> 0;
    if (kind === BAR_MEM64) {
      return ((this.read(off, 4) & PCI_BASE_ADDRESS_MEM_MASK) >>> 0) + this.read(off + 4, 4) * TWO_POW_32;
    }
    if (kind === BAR_IO) return (this.read(off, 4) & PCI_BASE_ADDRESS_IO_MASK) >>> 0;
    return 0;
  }

  /** The expansion ROM's programmed address (bits 31:11), 0 when absent. */
  romAddress(): number {
    return this.romSize === 0 ? 0 : (this.read(PCI_ROM_ADDRESS, 4) & PCI_ROM_ADDRESS_MASK) >>> 0;
  }

  /** Whether the expansion ROM's enable bit is set. */
  romEnabled(): boolean {
    return this.romSize !== 0 && (this.bytes[PCI_ROM_ADDRESS] & PCI_ROM_ADDRESS_ENABLE) !== 0;
  }

  /** Reads a 16-bit field. */
  get16(offset: number): number {
    return this.bytes[offset] | (this.bytes[offset + 1] << 8);
  }

  /** Sets a 16-bit field directly (device-side state, bypassing the masks). */
  set16(offset: number, value: number): void {
    this.bytes[offset] = value & 0xff;
    this.bytes[offset + 1] = (value >>> 8) & 0xff;
  }

  /** Sets a 32-bit field directly (device-side state, bypassing the masks). */
  set32(offset: number, value: number): void {
    this.set16(offset, value & 0xffff);
    this.set16(offset + 2, value >>> 16);
  }

  private set8(offset: number, value: number): void {
    this.bytes[offset] = value & 0xff;
  }

  private setMask16(offset: number, mask: number): void {
    this.wmask[offset] = mask & 0xff;
    this.wmask[offset + 1] = (mask >>> 8) & 0xff;
  }

  private setMask32(offset: number, mask: number): void {
    this.setMask16(offset, mask & 0xffff);
    this.setMask16(offset + 2, mask >>> 16);
  }

  private setW1c16(offset: number, mask: number): void {
    this.w1cmask[offset] = mask & 0xff;
    this.w1cmask[offset + 1] = (mask >>> 8) & 0xff;
  }

  private layoutBars(bars: readonly (BarDefinition | undefined)[]): void {
    if (bars.length > PCI_NUM_BARS) throw new RangeError(`a type-0 header has 6 BARs; got ${bars.length}`);
    for (let i = 0; i < bars.length; i++) {
      const bar = bars[i];
      if (bar === undefined) continue;
      if (this.barKind[i] === BAR_MEM64_HIGH) {
        throw new RangeError(`BAR ${i} is the upper half of 64-bit BAR ${i - 1} and must be undefined`);
      }
      const off = PCI_BASE_ADDRESS_0 + i * 4;
      if (bar.kind === "io") {
        if (!isPowerOfTwo(bar.size) || bar.size < PCI_MIN_IO_BAR_SIZE || bar.size > PCI_MAX_IO_BAR_SIZE) {
          throw new RangeError(`BAR ${i}: I/O size ${hex(bar.size)} is not a power of two in 0x4..0x100`);
        }
        this.barKind[i] = BAR_IO;
        this.barSize[i] = bar.size;
        this.set32(off, PCI_BASE_ADDRESS_SPACE_IO);
        this.setMask32(off, (PCI_BASE_ADDRESS_IO_MASK & ~(bar.size - 1)) >>> 0);
      } else if (bar.kind === "mem32" || bar.kind === "mem64") {
        const is64 = bar.kind === "mem64";
        const max = is64 ? 2 ** 52 : TWO_POW_32 / 2;
        if (!isPowerOfTwo(bar.size) || bar.size < PCI_MIN_MEM_BAR_SIZE || bar.size > max) {
          throw new RangeError(
            `BAR ${i}: ${bar.kind} size ${hex(bar.size)} is not a power of two in 0x10..${hex(max)}`,
          );
        }
        if (is64 && i === PCI_NUM_BARS - 1)
          throw new RangeError("BAR 5 cannot hold a 64-bit BAR (no upper slot)");
        if (is64 && bars[i + 1] !== undefined) {
          throw new RangeError(`BAR ${i + 1} must be undefined: it is the upper half of 64-bit BAR ${i}`);
        }
        const type =
          (is64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (bar.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
        this.barKind[i] = is64 ? BAR_MEM64 : BAR_MEM32;
        this.barSize[i] = bar.size;
        this.set32(off, type);
        const lowMask = bar.size >= TWO_POW_32 ? 0 : (PCI_BASE_ADDRESS_MEM_MASK & ~(bar.size - 1)) >>> 0;
        this.setMask32(off, lowMask);
        if (is64) {
          this.barKind[i + 1] = BAR_MEM64_HIGH;
          const highMask = bar.size > TWO_POW_32 ? ~(bar.size / TWO_POW_32 - 1) >>> 0 : 0xffffffff;
          this.setMask32(off + 4, highMask);
        }
      } else {
        throw new RangeError(`BAR ${i}: unknown kind ${JSON.stringify((bar as { kind: unknown }).kind)}`);
      }
    }
  }

  private fitCap(at: number, size: number, kind: string): void {
    if (at + size > PCI_CFG_SPACE_SIZE) {
      throw new RangeError(`capability ${kind} at ${hex(at)} (${size} bytes) does not fit below 0x100`);
    }
  }

  private checkMsix(tableSize: number, bar: number, tableOffset: number, pbaOffset: number): void {
    if (!Number.isInteger(tableSize) || tableSize < 1 || tableSize > PCI_MSIX_MAX_ENTRIES) {
      throw new RangeError(`MSI-X capability: tableSize ${tableSize} is not in 1..2048`);
    }
    if (!Number.isInteger(bar) || bar < 0 || bar >= PCI_NUM_BARS) {
      throw new RangeError(`MSI-X capability: bar ${bar} is not in 0..5`);
    }
    const kind = this.barKind[bar];
    if (kind !== BAR_MEM32 && kind !== BAR_MEM64) {
      throw new RangeError(`MSI-X capability: BAR ${bar} is not a memory BAR`);
    }
    const barSize = this.barSize[bar];
    const pbaBytes = Math.ceil(tableSize / 64) * 8;
    for (const [name, off, len] of [
      ["tableOffset", tableOffset, tableSize * PCI_MSIX_ENTRY_SIZE],
      ["pbaOffset", pbaOffset, pbaBytes],
    ] as const) {
      if (!Number.isInteger(off) || off < 0 || off % 8 !== 0 || off + len > barSize) {
        throw new RangeError(
          `MSI-X capability: ${name} ${hex(off)} (+${len} bytes) is not 8-byte aligned inside BAR ${bar} (${hex(barSize)} bytes)`,
        );
      }
    }
    const tableEnd = tableOffset + tableSize * PCI_MSIX_ENTRY_SIZE;
    if (pbaOffset < tableEnd && tableOffset < pbaOffset + pbaBytes) {
      throw new RangeError(
        `MSI-X capability: PBA at ${hex(pbaOffset)} overlaps the table at ${hex(tableOffset)}`,
      );
    }
  }
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`PCI identity: ${name} ${value} is not an integer in 0..${hex(max)}`);
  }
}
