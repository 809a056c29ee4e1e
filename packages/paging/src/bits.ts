/**
 * Bit constants of paging-structure entries (hardware.md 1.3), of the TLB's combined rights,
 * and of #PF error codes (hardware.md 1.5), exported from the package index.
 *
 * This module imports nothing, on purpose: esbuild writes a constant from such a module as a
 * literal wherever it is used (minifySyntax), but leaves one from a module with imports as a
 * module variable, which V8 reloads and type-checks at every use. The page walk uses these on
 * every TLB miss.
 */

// ---- paging-structure entries (SDM Tables 4-14..4-19; Linux pgtable_types.h names) ----
/** Bit 0, P: present. */
export const PTE_P = 1 << 0;
/** Bit 1, R/W: writes allowed (if 1 at every level). */
export const PTE_RW = 1 << 1;
/** Bit 2, U/S: user-mode accesses allowed (if 1 at every level). */
export const PTE_US = 1 << 2;
/** Bit 3, PWT: page-level write-through (memory type index bit 0). */
export const PTE_PWT = 1 << 3;
/** Bit 4, PCD: page-level cache disable (memory type index bit 1). */
export const PTE_PCD = 1 << 4;
/** Bit 5, A: accessed; set by the processor in every entry used for a translation. */
export const PTE_A = 1 << 5;
/** Bit 6, D: dirty; set by the processor in the leaf entry on the first write (leaf entries only). */
export const PTE_D = 1 << 6;
/** Bit 7, PS: page size; in a PDPTE maps a 1 GiB page, in a PDE a 2 MiB page; reserved in a PML4E. */
export const PTE_PS = 1 << 7;
/** Bit 7 of a 4 KiB PTE, PAT: memory type index bit 2. */
export const PTE_PAT = 1 << 7;
/** Bit 8, G: global translation (leaf only, with CR4.PGE=1). */
export const PTE_G = 1 << 8;
/** Bit 12 of a 2 MiB / 1 GiB leaf, PAT: memory type index bit 2. */
export const PTE_PAT_LARGE = 1 << 12;
/** Bits 31:12 of the low half: address bits 31:12. */
export const PTE_ADDR_LO_MASK = 0xfffff000;
/** Bits 19:0 of the high half: address bits 51:32. */
export const PTE_ADDR_HI_MASK = 0x000fffff;
/** Reserved bits 29:13 of a PDPTE that maps a 1 GiB page (low half). */
export const PTE_HUGE_RESERVED_LO = 0x3fffe000;
/** Reserved bits 20:13 of a PDE that maps a 2 MiB page (low half). */
export const PTE_LARGE_RESERVED_LO = 0x001fe000;
/** Bit 63 in the high half (bit 31 of `hi`), XD: execute disable (reserved when EFER.NXE=0). */
export const PTE_XD_HI = 2 ** 31;
/** Bit number of XD in the full 64-bit entry. */
export const XD_BIT = 63;
/** Shift of the protection key within the high half: bits 62:59 are `hi` bits 30:27. */
export const PK_SHIFT_HI = 27;
/** Mask of the protection key within the high half. */
export const PK_MASK_HI = 0xf << PK_SHIFT_HI;
/** Bit number of the lowest protection-key bit in the full 64-bit entry. */
export const PK_BIT = 59;
/** Largest protection key (4 bits). */
export const PK_MAX = 15;

// ---- the TLB's combined rights ----
/** Combined rights bit: R/W=1 at every level of the walk. */
export const TLB_WRITABLE = 1;
/** Combined rights bit: U/S=1 at every level of the walk. */
export const TLB_USER = 2;
/** Combined rights bit: XD=1 at some level of the walk. */
export const TLB_NO_EXECUTE = 4;
/** The leaf's D bit was already set when the entry was cached (writes need no re-walk). */
export const TLB_DIRTY = 8;

// ---- #PF error code bits (SDM 4.7) ----
/** #PF error code bit 0: protection violation (0 = not-present). */
export const PF_PROT = 1 << 0;
/** #PF error code bit 1: the access was a write. */
export const PF_WRITE = 1 << 1;
/** #PF error code bit 2: the access was a user-mode access. */
export const PF_USER = 1 << 2;
/** #PF error code bit 3: a reserved bit was set in a paging-structure entry. */
export const PF_RSVD = 1 << 3;
/** #PF error code bit 4: the access was an instruction fetch. */
export const PF_INSTR = 1 << 4;
/** #PF error code bit 5: protection-key violation (never raised here: PKRU is not modelled). */
export const PF_PK = 1 << 5;
