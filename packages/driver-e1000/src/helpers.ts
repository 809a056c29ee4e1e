/**
 * Pure helpers of the driver: EEPROM checksum, multicast hash, descriptor encoding and ring
 * arithmetic. They touch no simulated memory, so they can be tested and benchmarked alone.
 */

import { ITR_UNIT_NS, NS_PER_SECOND } from "./limits.js";
import {
  E1000_DESC_SIZE,
  E1000_RXD_ERR_FRAME_ERR_MASK,
  E1000_RXD_STAT_DD,
  E1000_RXD_STAT_EOP,
  E1000_TXD_LEN_MASK,
  E1000_TXD_STAT_DD,
  EEPROM_CHECKSUM_REG,
  EEPROM_SUM,
  RXD_ADDR,
  RXD_CSUM,
  RXD_ERRORS,
  RXD_LENGTH,
  RXD_SPECIAL,
  RXD_STATUS,
  TXD_ADDR,
  TXD_LOWER,
  TXD_UPPER,
} from "./regs.js";

const U16_MASK = 0xffff;
const U32 = 2 ** 32;
/** The 12-bit multicast hash indexes a 4096-bit table of 128 registers of 32 bits. */
const MTA_HASH_MASK = 0xfff;
const MTA_REG_SHIFT = 5;
const MTA_BIT_MASK = 0x1f;

/**
 * The 16-bit sum of EEPROM words 0..EEPROM_CHECKSUM_REG (0x3F), as e1000_validate_eeprom_checksum
 * computes it. Throws a RangeError if fewer than 64 words are given or a word is not a u16.
 */
export function eepromChecksum(words: ArrayLike<number>): number {
  if (words.length <= EEPROM_CHECKSUM_REG) {
    throw new RangeError(`EEPROM image has ${words.length} words; the checksum covers 64`);
  }
  let sum = 0;
  for (let i = 0; i <= EEPROM_CHECKSUM_REG; i++) {
    const w = words[i];
    if (!Number.isInteger(w) || w < 0 || w > U16_MASK) {
      throw new RangeError(`EEPROM word ${i} is ${w}, not a 16-bit value`);
    }
    sum = (sum + w) & U16_MASK;
  }
  return sum;
}

/** True if the EEPROM words sum to EEPROM_SUM (0xBABA). Throws as eepromChecksum. */
export function eepromChecksumValid(words: ArrayLike<number>): boolean {
  return eepromChecksum(words) === EEPROM_SUM;
}

/**
 * The checksum word (word 0x3F) that makes words 0..0x3E sum to 0xBABA, as an EEPROM image
 * builder writes it. Throws as eepromChecksum when a word is not a u16.
 */
export function eepromChecksumWord(words: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < EEPROM_CHECKSUM_REG; i++) {
    const w = words[i];
    if (!Number.isInteger(w) || w < 0 || w > U16_MASK) {
      throw new RangeError(`EEPROM word ${i} is ${w}, not a 16-bit value`);
    }
    sum = (sum + w) & U16_MASK;
  }
  return (EEPROM_SUM - sum) & U16_MASK;
}

/**
 * The 12-bit multicast table hash of a MAC address (e1000_hash_mc_addr): bits of address
 * bytes 4 and 5 selected by the filter type RCTL.MO (0: bits 47:36, 1: 46:35, 2: 45:34,
 * 3: 43:32). Throws a RangeError for a short address or a filter type outside 0..3.
 */
export function mtaHash(mac: ArrayLike<number>, filterType = 0): number {
  if (mac.length < 6) throw new RangeError(`MAC address has ${mac.length} bytes, not 6`);
  const b4 = mac[4] & 0xff;
  const b5 = mac[5] & 0xff;
  switch (filterType) {
    case 0:
      return ((b4 >> 4) | (b5 << 4)) & MTA_HASH_MASK;
    case 1:
      return ((b4 >> 3) | (b5 << 5)) & MTA_HASH_MASK;
    case 2:
      return ((b4 >> 2) | (b5 << 6)) & MTA_HASH_MASK;
    case 3:
      return (b4 | (b5 << 8)) & MTA_HASH_MASK;
    default:
      throw new RangeError(`multicast filter type ${filterType} is not in 0..3`);
  }
}

/** Index of the MTA register (0..127) holding a hash's bit. */
export function mtaRegister(hash: number): number {
  return (hash >>> MTA_REG_SHIFT) & 0x7f;
}

/** The bit (0..31) of a hash inside its MTA register. */
export function mtaBit(hash: number): number {
  return hash & MTA_BIT_MASK;
}

/**
 * The lower dword of a legacy TX descriptor: length | CMD bits (already shifted, E1000_TXD_CMD_*).
 * Returned as an unsigned 32-bit number. Throws a RangeError for a length outside 1..0xFFFF.
 */
export function txDescLower(length: number, cmd: number): number {
  if (!(length >= 1 && length <= E1000_TXD_LEN_MASK) || !Number.isInteger(length)) {
    throw new RangeError(`TX descriptor length ${length} is not in 1..65535`);
  }
  return (length | cmd) >>> 0;
}

/**
 * Write a legacy TX descriptor (address, lower = length | cmd, upper = 0) into `dst` at
 * `offset`, little-endian. Throws a RangeError for an address outside [0, 2^53) or a length
 * outside 1..0xFFFF, and the DataView's RangeError for an offset past its end.
 */
export function encodeTxDescriptor(
  dst: DataView,
  offset: number,
  addr: number,
  length: number,
  cmd: number,
): void {
  if (!Number.isSafeInteger(addr) || addr < 0) throw new RangeError(`TX buffer address ${addr} is invalid`);
  const lower = txDescLower(length, cmd);
  dst.setUint32(offset + TXD_ADDR, addr % U32, true);
  dst.setUint32(offset + TXD_ADDR + 4, Math.floor(addr / U32), true);
  dst.setUint32(offset + TXD_LOWER, lower, true);
  dst.setUint32(offset + TXD_UPPER, 0, true);
}

/** True if a TX descriptor's upper dword reports it done (DD). */
export function txDescDone(upper: number): boolean {
  return (upper & E1000_TXD_STAT_DD) !== 0;
}

/** A decoded RX descriptor; reuse one object across calls on hot paths. */
export interface RxDescriptor {
  addr: number;
  length: number;
  csum: number;
  status: number;
  errors: number;
  special: number;
}

/** A zeroed RxDescriptor to pass to decodeRxDescriptor. */
export function newRxDescriptor(): RxDescriptor {
  return { addr: 0, length: 0, csum: 0, status: 0, errors: 0, special: 0 };
}

/**
 * Decode the RX descriptor at `offset` of `src` into `out` (little-endian) and return `out`.
 * Throws the DataView's RangeError for an offset past its end.
 */
export function decodeRxDescriptor(src: DataView, offset: number, out: RxDescriptor): RxDescriptor {
  out.addr = src.getUint32(offset + RXD_ADDR, true) + src.getUint32(offset + RXD_ADDR + 4, true) * U32;
  out.length = src.getUint16(offset + RXD_LENGTH, true);
  out.csum = src.getUint16(offset + RXD_CSUM, true);
  out.status = src.getUint8(offset + RXD_STATUS);
  out.errors = src.getUint8(offset + RXD_ERRORS);
  out.special = src.getUint16(offset + RXD_SPECIAL, true);
  return out;
}

/**
 * What the RX clean routine does with a written-back descriptor: "pending" (DD clear: the
 * hardware still owns it), "partial" (!EOP: a frame spanning buffers, dropped), "error" (a frame
 * error in E1000_RXD_ERR_FRAME_ERR_MASK, dropped), or "ok".
 */
export function rxDescVerdict(status: number, errors: number): "pending" | "partial" | "error" | "ok" {
  if ((status & E1000_RXD_STAT_DD) === 0) return "pending";
  if ((status & E1000_RXD_STAT_EOP) === 0) return "partial";
  if ((errors & E1000_RXD_ERR_FRAME_ERR_MASK) !== 0) return "error";
  return "ok";
}

/**
 * Free descriptors of a ring (E1000_DESC_UNUSED): the software may fill this many, always
 * leaving one unused so that head == tail means empty. Inputs are ring indices < count.
 */
export function descUnused(nextToClean: number, nextToUse: number, count: number): number {
  return (nextToClean > nextToUse ? 0 : count) + nextToClean - nextToUse - 1;
}

/** Ring memory for `count` descriptors, rounded up to `align` bytes (ALIGN(count * 16, 4096)). */
export function ringBytes(count: number, align: number): number {
  return Math.ceil((count * E1000_DESC_SIZE) / align) * align;
}

/**
 * The ITR register value for an interrupt rate in interrupts/s: 10^9 / (rate * 256), in units
 * of 256 ns (e1000_configure_rx). 0 for a rate of 0 (throttling off). Throws a RangeError for a
 * negative or non-finite rate.
 */
export function itrRegister(rate: number): number {
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new RangeError(`interrupt rate ${rate} is invalid`);
  return rate === 0 ? 0 : Math.floor(NS_PER_SECOND / (rate * ITR_UNIT_NS));
}
