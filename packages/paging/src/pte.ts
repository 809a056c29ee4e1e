/**
 * IA-32e paging-structure entries (hardware.md 1.3; SDM Tables 4-14..4-19): encoding, decoding
 * and reserved-bit checks; the bit constants (PTE_*) are in bits.ts. An entry is handled as two
 * 32-bit halves: `lo` = bits 31:0, `hi` = bits 63:32, so XD (63) and the protection key (62:59)
 * are exact.
 */
import {
  PK_MASK_HI,
  PK_MAX,
  PK_SHIFT_HI,
  PTE_ADDR_HI_MASK,
  PTE_ADDR_LO_MASK,
  PTE_G,
  PTE_HUGE_RESERVED_LO,
  PTE_LARGE_RESERVED_LO,
  PTE_P,
  PTE_PAT,
  PTE_PAT_LARGE,
  PTE_PCD,
  PTE_PS,
  PTE_PWT,
  PTE_RW,
  PTE_US,
  PTE_XD_HI,
} from "./bits.js";
import { ENTRIES_PER_TABLE, ENTRY_SIZE, formatPhysical, PAGE_SIZE } from "./layout.js";
import type { PhysicalMemory } from "./memory.js";

const TWO_32 = 2 ** 32;

/** Raw paging-structure entry: its two 32-bit halves. */
export interface RawEntry {
  lo: number;
  hi: number;
}

/** Page attributes of the public API (all default to false / 0). */
export interface PageFlags {
  /** R/W=1. */
  writable?: boolean;
  /** U/S=1. */
  user?: boolean;
  /** G=1 (honoured only with CR4.PGE). */
  global?: boolean;
  /** XD=1 (needs EFER.NXE=1, else the entry has a reserved bit set). */
  noExecute?: boolean;
  /** PWT=1. */
  writeThrough?: boolean;
  /** PCD=1. */
  cacheDisable?: boolean;
  /** PAT bit (bit 7 in a 4 KiB PTE, bit 12 in a large leaf). */
  pat?: boolean;
  /** Protection key 0..15 (bits 62:59). */
  pkey?: number;
}

/** Fully populated flags, as `query` and `audit` report them. */
export type ResolvedPageFlags = Required<PageFlags>;

function checkTable(memory: PhysicalMemory, tablePa: number, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= ENTRIES_PER_TABLE) {
    throw new RangeError(`entry index ${String(index)} is not in 0..${ENTRIES_PER_TABLE - 1}`);
  }
  if (!Number.isInteger(tablePa) || tablePa % PAGE_SIZE !== 0) {
    throw new RangeError(`table address ${formatPhysical(tablePa)} is not 4 KiB aligned`);
  }
  const pa = tablePa + index * ENTRY_SIZE;
  memory.check(pa, ENTRY_SIZE);
  return pa;
}

/** Reads entry `index` of the table at physical `tablePa`. Throws RangeError for a bad table or index. */
export function readEntry(memory: PhysicalMemory, tablePa: number, index: number): RawEntry {
  const pa = checkTable(memory, tablePa, index);
  return { lo: memory.u32[pa >>> 2], hi: memory.u32[(pa >>> 2) + 1] };
}

/** Writes entry `index` of the table at `tablePa` from its halves. Throws RangeError for a bad table or index. */
export function writeEntry(
  memory: PhysicalMemory,
  tablePa: number,
  index: number,
  lo: number,
  hi: number,
): void {
  const pa = checkTable(memory, tablePa, index);
  memory.u32[pa >>> 2] = lo;
  memory.u32[(pa >>> 2) + 1] = hi;
}

/** Physical address held in an entry's bits 51:12 (for a large leaf, mask the low bits yourself). */
export function entryAddress(lo: number, hi: number): number {
  return (hi & PTE_ADDR_HI_MASK) * TWO_32 + ((lo & PTE_ADDR_LO_MASK) >>> 0);
}

/**
 * Encodes `flags` into entry halves for a leaf of `size` bytes (4 KiB, 2 MiB or 1 GiB) with
 * P=1 and the address `pa` (which the caller has checked). Throws RangeError for a bad pkey.
 */
export function encodeLeaf(pa: number, large: boolean, flags: PageFlags): RawEntry {
  let lo = (pa >>> 0) | PTE_P;
  let hi = Math.floor(pa / TWO_32);
  lo |= flagBitsLo(flags, large);
  if (large) lo |= PTE_PS;
  hi |= flagBitsHi(flags);
  return { lo: lo >>> 0, hi: hi >>> 0 };
}

/** Low-half bits for `flags` (no P, no PS). */
export function flagBitsLo(flags: PageFlags, large: boolean): number {
  let lo = 0;
  if (flags.writable) lo |= PTE_RW;
  if (flags.user) lo |= PTE_US;
  if (flags.global) lo |= PTE_G;
  if (flags.writeThrough) lo |= PTE_PWT;
  if (flags.cacheDisable) lo |= PTE_PCD;
  if (flags.pat) lo |= large ? PTE_PAT_LARGE : PTE_PAT;
  return lo;
}

/** High-half bits for `flags` (XD and protection key). Throws RangeError for a pkey outside 0..15. */
export function flagBitsHi(flags: PageFlags): number {
  const pkey = flags.pkey ?? 0;
  if (!Number.isInteger(pkey) || pkey < 0 || pkey > PK_MAX) {
    throw new RangeError(`protection key ${String(pkey)} is not an integer in 0..${PK_MAX}`);
  }
  return ((flags.noExecute ? PTE_XD_HI : 0) | (pkey << PK_SHIFT_HI)) >>> 0;
}

/** Decodes the flags of a leaf entry. Never throws. */
export function decodeLeafFlags(lo: number, hi: number, large: boolean): ResolvedPageFlags {
  return {
    writable: (lo & PTE_RW) !== 0,
    user: (lo & PTE_US) !== 0,
    global: (lo & PTE_G) !== 0,
    noExecute: (hi & PTE_XD_HI) !== 0,
    writeThrough: (lo & PTE_PWT) !== 0,
    cacheDisable: (lo & PTE_PCD) !== 0,
    pat: (lo & (large ? PTE_PAT_LARGE : PTE_PAT)) !== 0,
    pkey: (hi & PK_MASK_HI) >>> PK_SHIFT_HI,
  };
}

/**
 * Reason why a present entry at `level` (0 = PML4E, 1 = PDPTE, 2 = PDE, 3 = PTE) has a
 * reserved bit set (hardware.md 1.3 reserved-bit rules), or `undefined` if it has none.
 * `reservedHiMask` covers address bits 51:M in the high half (see `reservedHiMask`);
 * `nxe` is EFER.NXE (XD is reserved without it). Never throws.
 */
export function reservedBitsProblem(
  level: number,
  lo: number,
  hi: number,
  reservedHiMask: number,
  nxe: boolean,
): string | undefined {
  if ((hi & reservedHiMask) !== 0) return "physical-address bits above MAXPHYADDR are set";
  if (!nxe && (hi & PTE_XD_HI) !== 0) return "XD is set while EFER.NXE=0";
  if ((lo & PTE_PS) !== 0) {
    if (level === 0) return "PS is set in a PML4 entry";
    if (level === 1 && (lo & PTE_HUGE_RESERVED_LO) !== 0) return "bits 29:13 of a 1 GiB PDPTE are set";
    if (level === 2 && (lo & PTE_LARGE_RESERVED_LO) !== 0) return "bits 20:13 of a 2 MiB PDE are set";
  }
  return undefined;
}

/**
 * Mask of the high-half bits holding physical-address bits 51:M for MAXPHYADDR `m`
 * (32 < m <= 52). Throws RangeError for another `m`.
 */
export function reservedHiMask(m: number): number {
  if (!Number.isInteger(m) || m <= 32 || m > 52)
    throw new RangeError(`MAXPHYADDR ${String(m)} is not in 33..52`);
  return (PTE_ADDR_HI_MASK & ~((1 << (m - 32)) - 1)) >>> 0;
}
