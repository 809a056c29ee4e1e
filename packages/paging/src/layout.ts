/**
 * Address-space layout of x86-64 4-level paging (hardware.md 1.1).
 *
 * Linear addresses are JS numbers holding the 48-bit linear address; the canonical sign
 * extension of bit 47 is implied:
 *
 *   0x0000_0000_0000 .. 0x7fff_ffff_ffff   lower (user) half    prints 0x0000000000000000..
 *   0x8000_0000_0000 .. 0xffff_ffff_ffff   upper (kernel) half  prints 0xffff800000000000..
 *
 *   47      39 38      30 29      21 20      12 11         0
 *   +---------+----------+----------+----------+------------+
 *   | PML4 ix | PDPT ix  |  PD ix   |  PT ix   |   offset   |   (4 KiB page)
 *   +---------+----------+----------+----------+------------+
 */

/** Size of a 4 KiB page and of every paging-structure table (hardware.md 1.1). */
export const PAGE_SIZE = 4096;
/** log2(PAGE_SIZE). */
export const PAGE_SHIFT = 12;
/** Size of a page mapped by a PDE with PS=1 (hardware.md 1.1, "PDE 2 MiB"). */
export const LARGE_PAGE_SIZE = 2 * 1024 * 1024;
/** Size of a page mapped by a PDPTE with PS=1 (hardware.md 1.1, "PDPTE 1 GiB"). */
export const HUGE_PAGE_SIZE = 1024 * 1024 * 1024;
/** Entries per paging-structure table: 4 KiB / 8 bytes (hardware.md 1.1). */
export const ENTRIES_PER_TABLE = 512;
/** Bytes per paging-structure entry. */
export const ENTRY_SIZE = 8;
/** Width of a linear address in 4-level paging (hardware.md 1.1). */
export const LINEAR_ADDRESS_BITS = 48;
/** First value that is not a 48-bit linear address: 2^48. */
export const LINEAR_ADDRESS_LIMIT = 2 ** LINEAR_ADDRESS_BITS;
/** First linear address of the upper (kernel) half: bit 47 set, prints as 0xffff800000000000. */
export const KERNEL_HALF_START = 2 ** 47;
/** Physical addresses are below 2^52: the architectural MAXPHYADDR limit (hardware.md 1.1). */
export const PHYSICAL_ADDRESS_LIMIT = 2 ** 52;
/** Linear bytes covered by one PML4 entry: 512 GiB (hardware.md 1.1). */
export const PML4_ENTRY_REACH = 2 ** 39;

/** Shifts of the index fields of a linear address, leaf-most last: PML4, PDPT, PD, PT. */
export const LEVEL_SHIFTS: readonly number[] = [39, 30, 21, 12];

/** The page sizes `AddressSpace.map` accepts. */
export type PageSize = typeof PAGE_SIZE | typeof LARGE_PAGE_SIZE | typeof HUGE_PAGE_SIZE;

/**
 * True when `va` is a linear address of this model: an integer in [0, 2^48).
 * Never throws.
 */
export function isLinearAddress(va: number): boolean {
  return Number.isInteger(va) && va >= 0 && va < LINEAR_ADDRESS_LIMIT;
}

/** 2^LEVEL_SHIFTS[level]: bytes one entry of a level-`level` table covers. */
const LEVEL_SPANS = LEVEL_SHIFTS.map((shift) => 2 ** shift);

/**
 * Index into the table at `level` (0 = PML4 .. 3 = PT) selected by linear address `va`.
 * `va` must be a valid linear address (not checked: internal helper on walk paths).
 */
export function tableIndex(va: number, level: number): number {
  // `& (ENTRIES_PER_TABLE - 1)` rather than `%`: the quotient is an integer below 2^36, whose
  // low 32 bits keep its low 9, and V8 compiles a double `%` to a C call.
  return Math.floor(va / LEVEL_SPANS[level]) & (ENTRIES_PER_TABLE - 1);
}

/**
 * Formats a linear address as its canonical 64-bit form, 16 lower-case hex digits with `0x`:
 * `formatLinear(0x800000001000)` is `"0xffff800000001000"`. A value that is not a linear
 * address is printed as-is in brackets (e.g. `"<non-canonical 1.5>"`) rather than throwing,
 * so that error messages can always name the offending value.
 */
export function formatLinear(va: number): string {
  if (!isLinearAddress(va)) return `<non-canonical ${String(va)}>`;
  const digits = va.toString(16).padStart(12, "0");
  return va >= KERNEL_HALF_START ? `0xffff${digits}` : `0x0000${digits}`;
}

/**
 * Formats a physical address (or any non-negative integer) as `0x` plus hex digits.
 * Non-integers are printed with String(). Never throws.
 */
export function formatPhysical(pa: number): string {
  return Number.isInteger(pa) && pa >= 0 ? `0x${pa.toString(16)}` : String(pa);
}
