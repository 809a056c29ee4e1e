/**
 * The 64-bit task-state segment: the stacks the CPU switches to on interrupt delivery (RSP0-2,
 * IST1-7) and the I/O permission bitmap that lets CPL > IOPL code use chosen ports.
 *
 * Hardware layout (hardware.md 3.3, Linux `struct x86_hw_tss`):
 *
 *   0x00  reserved (4)    0x04 RSP0   0x0C RSP1   0x14 RSP2   0x1C reserved (8)
 *   0x24  IST1 ... 0x54 IST7 (8 each)   0x5C reserved (8)   0x64 reserved (2)
 *   0x66  I/O-map base (16 bit, offset of the bitmap from the TSS base)
 *   0x68  I/O permission bitmap: 65536 bits, one per port (1 = denied), then one byte of ones
 *
 * The I/O check (hardware.md 3.1, SDM-IO): at CPL > IOPL, IN/OUT fault unless the bit of every
 * port byte accessed is 0 and lies within the TSS limit.
 */
import { MAX_PORT, PORT_COUNT } from "./regs.js";

/** Size of the hardware part of the 64-bit TSS, and Linux's I/O-map base: 0x68 bytes. */
export const TSS_HW_SIZE = 0x68;
/** Offset of RSP0 in the TSS. */
export const TSS_RSP0 = 0x04;
/** Offset of IST1 in the TSS (ISTn at TSS_IST1 + 8 * (n - 1)). */
export const TSS_IST1 = 0x24;
/** Offset of the 16-bit I/O-map base field. */
export const TSS_IO_MAP_BASE = 0x66;
/** Bytes of the I/O permission bitmap proper (65536 bits). */
export const IO_BITMAP_BYTES = PORT_COUNT / 8;
/** The bitmap is followed by one byte of all ones (hardware.md 3.3). */
export const IO_BITMAP_TRAILER = 0xff;
/** Number of interrupt stack table slots (IST1..IST7). */
export const IST_SLOTS = 7;
/** Number of privileged stack pointers (RSP0..RSP2). */
export const RSP_SLOTS = 3;

const TWO_32 = 2 ** 32;
const LINEAR_LIMIT = 2 ** 48;

function checkStackPointer(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= LINEAR_LIMIT) {
    throw new RangeError(`Tss: ${what} must be a 48-bit linear address, got ${String(v)}`);
  }
}

/** A 64-bit TSS. Fresh: every stack pointer 0, I/O-map base 0x68, every port denied. */
export class Tss {
  /** RSP0..RSP2 (index = privilege level). */
  readonly rsp = new Float64Array(RSP_SLOTS);
  /** IST1..IST7 at indices 1..7 (index 0 unused: IST 0 means "no IST"). */
  readonly ist = new Float64Array(IST_SLOTS + 1);
  /** I/O permission bitmap, 1 bit per port (1 = denied), plus the trailing byte of ones. */
  readonly ioBitmap = new Uint8Array(IO_BITMAP_BYTES + 1).fill(IO_BITMAP_TRAILER);
  /** Offset of the bitmap from the TSS base (the 16-bit I/O-map base field). */
  ioMapBase = TSS_HW_SIZE;
  /** TSS limit (offset of the last valid byte): covers the whole bitmap and its trailer. */
  limit = TSS_HW_SIZE + IO_BITMAP_BYTES;

  /** RSP0: the stack loaded on a privilege change to ring 0. */
  get rsp0(): number {
    return this.rsp[0];
  }
  /** Sets RSP0. Throws RangeError unless `v` is a 48-bit linear address. */
  set rsp0(v: number) {
    checkStackPointer("RSP0", v);
    this.rsp[0] = v;
  }

  /** Sets RSP`level` (0..2). Throws RangeError for a bad level or address. */
  setRsp(level: number, v: number): void {
    if (!Number.isInteger(level) || level < 0 || level >= RSP_SLOTS) {
      throw new RangeError(`Tss.setRsp: level must be 0..2, got ${String(level)}`);
    }
    checkStackPointer(`RSP${level}`, v);
    this.rsp[level] = v;
  }

  /** Sets IST`n` (1..7). Throws RangeError for a bad slot or address. */
  setIst(n: number, v: number): void {
    if (!Number.isInteger(n) || n < 1 || n > IST_SLOTS) {
      throw new RangeError(`Tss.setIst: IST slot must be 1..7, got ${String(n)}`);
    }
    checkStackPointer(`IST${n}`, v);
    this.ist[n] = v;
  }

  /**
   * Clears the bitmap bits of ports [first, first + count): CPL > IOPL code may then use them.
   * Throws RangeError unless the range is non-empty and within 0..0xFFFF.
   */
  grantPorts(first: number, count: number): void {
    this.setPorts(first, count, false, "grantPorts");
  }

  /** Sets the bitmap bits of ports [first, first + count) again. Same errors as `grantPorts`. */
  revokePorts(first: number, count: number): void {
    this.setPorts(first, count, true, "revokePorts");
  }

  /** True if the bitmap grants `port` (its bit is 0 and within the limit). Never throws. */
  isPortGranted(port: number): boolean {
    return this.ioAllowed(port, 1);
  }

  /**
   * The I/O permission check for an access of `size` bytes at `port` at CPL > IOPL: true only
   * if every accessed byte's bit is 0 and lies within the TSS limit. Bytes past port 0xFFFF
   * read the trailing byte of ones, so they are denied. Never throws.
   */
  ioAllowed(port: number, size: number): boolean {
    const bitmap = this.ioBitmap;
    const lastByte = this.limit - this.ioMapBase;
    for (let p = port, end = port + size; p < end; p++) {
      const byte = p >>> 3;
      if (byte > lastByte || byte >= bitmap.length) return false;
      if ((bitmap[byte] & (1 << (p & 7))) !== 0) return false;
    }
    return true;
  }

  /**
   * Encodes the TSS in its hardware layout: TSS_HW_SIZE bytes, then the bitmap and its
   * trailing byte (the I/O-map base field is written as `ioMapBase`; the bitmap is placed at
   * TSS_HW_SIZE). Addresses are written sign-extended to 64-bit canonical form. Returns a new
   * Uint8Array.
   */
  toBytes(): Uint8Array {
    const out = new Uint8Array(TSS_HW_SIZE + this.ioBitmap.length);
    const view = new DataView(out.buffer);
    const put = (offset: number, v: number) => {
      const hi = Math.floor(v / TWO_32);
      view.setUint32(offset, v % TWO_32, true);
      view.setUint32(offset + 4, (hi >= 0x8000 ? hi | 0xffff_0000 : hi) >>> 0, true);
    };
    for (let i = 0; i < RSP_SLOTS; i++) put(TSS_RSP0 + 8 * i, this.rsp[i]);
    for (let n = 1; n <= IST_SLOTS; n++) put(TSS_IST1 + 8 * (n - 1), this.ist[n]);
    view.setUint16(TSS_IO_MAP_BASE, this.ioMapBase, true);
    out.set(this.ioBitmap, TSS_HW_SIZE);
    return out;
  }

  private setPorts(first: number, count: number, deny: boolean, op: string): void {
    if (!Number.isInteger(first) || first < 0 || first > MAX_PORT) {
      throw new RangeError(`Tss.${op}: first port must be 0..0xffff, got ${String(first)}`);
    }
    if (!Number.isInteger(count) || count < 1 || first + count > PORT_COUNT) {
      throw new RangeError(
        `Tss.${op}: count must be >= 1 with first + count <= 0x10000, got first 0x${first.toString(16)} count ${String(count)}`,
      );
    }
    const bitmap = this.ioBitmap;
    for (let p = first, end = first + count; p < end; p++) {
      if (deny) bitmap[p >>> 3] |= 1 << (p & 7);
      else bitmap[p >>> 3] &= ~(1 << (p & 7));
    }
  }
}
