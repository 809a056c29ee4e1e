/**
 * Physical memory: one ArrayBuffer, little-endian, with bounds-checked accessors.
 * Page tables live inside it in their real bit layout (DESIGN.md "The machine").
 */
import { copyFromRam, copyToRam } from "./copy.js";
import { formatPhysical, PAGE_SIZE } from "./layout.js";
import { DEFAULT_MEMORY_SIZE, MAX_MEMORY_SIZE } from "./limits.js";

const TWO_32 = 2 ** 32;
const TWO_64 = 2 ** 64;

/** The two 32-bit halves of a 64-bit little-endian value. */
export interface U64Parts {
  lo: number;
  hi: number;
}

/**
 * Simulated physical RAM of `size` bytes at physical addresses [0, size).
 * Every accessor throws a `RangeError` naming the address, the access size and the memory size
 * when any byte of the access lies outside; nothing wraps silently.
 */
export class PhysicalMemory {
  /** Size in bytes (a multiple of 4096, at most 4 GiB). */
  readonly size: number;
  /** The backing store. */
  readonly buffer: ArrayBuffer;
  /** Byte view of `buffer`, for hot paths. */
  readonly u8: Uint8Array;
  /** 32-bit view of `buffer` (host-endian; every supported host is little-endian), for hot paths. */
  readonly u32: Uint32Array;
  /** 16-bit view of `buffer` (host-endian, like u32), for 2-aligned accesses. */
  private readonly u16: Uint16Array;
  /**
   * For unaligned accesses only: JSC (Bun) does not inline DataView calls, which made each one
   * several times slower than a typed-array access there.
   */
  private readonly view: DataView;

  /**
   * Allocates zeroed memory. Throws `RangeError` if `size` is not a positive multiple of 4096
   * or exceeds 4 GiB.
   */
  constructor(size: number = DEFAULT_MEMORY_SIZE) {
    if (!Number.isInteger(size) || size <= 0 || size % PAGE_SIZE !== 0 || size > MAX_MEMORY_SIZE) {
      throw new RangeError(
        `PhysicalMemory size ${String(size)} must be a positive multiple of ${PAGE_SIZE} of at most ${MAX_MEMORY_SIZE}`,
      );
    }
    this.size = size;
    this.buffer = new ArrayBuffer(size);
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /** Throws the RangeError for an access of `length` bytes at `pa`. */
  private outOfRange(pa: number, length: number): never {
    throw new RangeError(
      `physical access of ${String(length)} bytes at ${formatPhysical(pa)} is outside memory of ${formatPhysical(this.size)} bytes`,
    );
  }

  /**
   * Throws RangeError unless [pa, pa+length) is inside memory with pa and length integers.
   * Returns nothing on success.
   */
  check(pa: number, length: number): void {
    if (
      !(pa >= 0 && length >= 0 && pa + length <= this.size) ||
      Math.floor(pa) !== pa ||
      Math.floor(length) !== length
    ) {
      this.outOfRange(pa, length);
    }
  }

  /** Reads the byte at `pa`. Throws RangeError when out of range. */
  read8(pa: number): number {
    if (pa >>> 0 !== pa || pa >= this.size) this.outOfRange(pa, 1);
    return this.u8[pa];
  }

  /** Reads the little-endian 16-bit value at `pa` (any alignment). Throws RangeError when out of range. */
  read16(pa: number): number {
    if (pa >>> 0 !== pa || pa + 2 > this.size) this.outOfRange(pa, 2);
    return (pa & 1) === 0 ? this.u16[pa >>> 1] : this.view.getUint16(pa, true);
  }

  /** Reads the little-endian unsigned 32-bit value at `pa` (any alignment). Throws RangeError when out of range. */
  read32(pa: number): number {
    if (pa >>> 0 !== pa || pa + 4 > this.size) this.outOfRange(pa, 4);
    return (pa & 3) === 0 ? this.u32[pa >>> 2] : this.view.getUint32(pa, true);
  }

  /**
   * Reads the 64-bit value at `pa` as a number (exact below 2^53, rounded above).
   * Throws RangeError when out of range.
   */
  read64(pa: number): number {
    if (pa >>> 0 !== pa || pa + 8 > this.size) this.outOfRange(pa, 8);
    if ((pa & 3) === 0) return this.u32[(pa >>> 2) + 1] * TWO_32 + this.u32[pa >>> 2];
    return this.view.getUint32(pa + 4, true) * TWO_32 + this.view.getUint32(pa, true);
  }

  /** Reads the 64-bit value at `pa` as its exact 32-bit halves. Throws RangeError when out of range. */
  read64Parts(pa: number): U64Parts {
    if (pa >>> 0 !== pa || pa + 8 > this.size) this.outOfRange(pa, 8);
    if ((pa & 3) === 0) return { lo: this.u32[pa >>> 2], hi: this.u32[(pa >>> 2) + 1] };
    return { lo: this.view.getUint32(pa, true), hi: this.view.getUint32(pa + 4, true) };
  }

  /** Writes the low 8 bits of `value` at `pa`. Throws RangeError when out of range. */
  write8(pa: number, value: number): void {
    if (pa >>> 0 !== pa || pa >= this.size) this.outOfRange(pa, 1);
    this.u8[pa] = value;
  }

  /** Writes the low 16 bits of `value` at `pa`, little-endian. Throws RangeError when out of range. */
  write16(pa: number, value: number): void {
    if (pa >>> 0 !== pa || pa + 2 > this.size) this.outOfRange(pa, 2);
    if ((pa & 1) === 0) this.u16[pa >>> 1] = value;
    else this.view.setUint16(pa, value, true);
  }

  /** Writes the low 32 bits of `value` at `pa`, little-endian. Throws RangeError when out of range. */
  write32(pa: number, value: number): void {
    if (pa >>> 0 !== pa || pa + 4 > this.size) this.outOfRange(pa, 4);
    if ((pa & 3) === 0) this.u32[pa >>> 2] = value;
    else this.view.setUint32(pa, value >>> 0, true);
  }

  /**
   * Writes `value`, an integer in [0, 2^64), as 64 bits little-endian at `pa` (exact for
   * values below 2^53, and for any larger value a double can hold).
   * Throws RangeError when out of range or when `value` is not such an integer.
   */
  write64(pa: number, value: number): void {
    if (pa >>> 0 !== pa || pa + 8 > this.size) this.outOfRange(pa, 8);
    if (!(value >= 0 && value < TWO_64) || value % 1 !== 0) {
      throw new RangeError(
        `write64 value ${String(value)} at ${formatPhysical(pa)} is not an integer in [0, 2^64)`,
      );
    }
    this.write64Parts(pa, value >>> 0, Math.floor(value / TWO_32) >>> 0);
  }

  /** Writes a 64-bit value given as its 32-bit halves. Throws RangeError when out of range. */
  write64Parts(pa: number, lo: number, hi: number): void {
    if (pa >>> 0 !== pa || pa + 8 > this.size) this.outOfRange(pa, 8);
    if ((pa & 3) === 0) {
      this.u32[pa >>> 2] = lo;
      this.u32[(pa >>> 2) + 1] = hi;
    } else {
      this.view.setUint32(pa, lo >>> 0, true);
      this.view.setUint32(pa + 4, hi >>> 0, true);
    }
  }

  /**
   * Copies `length` bytes from memory at `pa` into `dst[dstOffset..]`.
   * Throws RangeError when the memory range or the destination range is out of bounds.
   */
  readBytes(pa: number, dst: Uint8Array, dstOffset = 0, length: number = dst.length - dstOffset): void {
    this.check(pa, length);
    checkHostRange(dst, dstOffset, length);
    copyFromRam(this.u8, pa, dst, dstOffset, length);
  }

  /**
   * Copies `length` bytes of `src[srcOffset..]` into memory at `pa`.
   * Throws RangeError when the memory range or the source range is out of bounds.
   */
  writeBytes(pa: number, src: Uint8Array, srcOffset = 0, length: number = src.length - srcOffset): void {
    this.check(pa, length);
    checkHostRange(src, srcOffset, length);
    copyToRam(src, srcOffset, this.u8, pa, length);
  }

  /** Copies `length` bytes from `srcPa` to `dstPa` (overlap-safe, like memmove). Throws RangeError when out of range. */
  copy(dstPa: number, srcPa: number, length: number): void {
    this.check(srcPa, length);
    this.check(dstPa, length);
    this.u8.copyWithin(dstPa, srcPa, srcPa + length);
  }

  /** Sets `length` bytes at `pa` to `byte` (0..255). Throws RangeError when out of range or byte is invalid. */
  fill(pa: number, length: number, byte: number): void {
    this.check(pa, length);
    if ((byte & 0xff) !== byte) throw new RangeError(`fill byte ${String(byte)} is not in 0..255`);
    this.u8.fill(byte, pa, pa + length);
  }
}

/**
 * Throws RangeError unless [offset, offset+length) lies inside host array `a`.
 * Shared by the memory and MMU byte copies.
 */
export function checkHostRange(a: Uint8Array, offset: number, length: number): void {
  // Math.floor rather than `% 1`, a floating-point modulo (a C call): the range test above
  // has already excluded NaN and the infinities.
  if (
    !(offset >= 0 && length >= 0 && offset + length <= a.length) ||
    Math.floor(offset) !== offset ||
    Math.floor(length) !== length
  ) {
    throw new RangeError(
      `host buffer range offset ${String(offset)} length ${String(length)} is outside a buffer of ${a.length} bytes`,
    );
  }
}
