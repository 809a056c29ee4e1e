/** Defaults of @side-kernel/paging. Every one is an option of the class that uses it. */

/** Default size of `PhysicalMemory`: 256 MiB (the project's convention). */
export const DEFAULT_MEMORY_SIZE = 256 * 1024 * 1024;

/**
 * Largest `PhysicalMemory`: 4 GiB. Physical RAM addresses then fit an unsigned 32-bit integer,
 * which keeps the MMU's hot path in 32-bit integer arithmetic. Addresses above the RAM size
 * (up to 2^52) are MMIO.
 */
export const MAX_MEMORY_SIZE = 2 ** 32;

/**
 * Default MAXPHYADDR ("M" in hardware.md 1.3): entry bits 51:M are reserved. 46 is the value
 * of many Intel server parts (our choice; hardware.md only states M <= 52). Option of `Mmu`.
 */
export const DEFAULT_MAX_PHYS_ADDR_BITS = 46;

/**
 * Default L1 data TLB: 64 entries, 4-way. Skylake's L1 DTLB for 4 KiB pages (Intel 64 and
 * IA-32 Architectures Optimization Reference Manual, Skylake client microarchitecture, TLB
 * parameters table; not in hardware.md). This model holds all page sizes in it.
 */
export const DEFAULT_L1_TLB = { entries: 64, ways: 4 } as const;

/**
 * Default second-level (shared) TLB: 1536 entries, 12-way, Skylake's STLB (same source as
 * DEFAULT_L1_TLB). This model holds all page sizes in it.
 */
export const DEFAULT_STLB = { entries: 1536, ways: 12 } as const;

/**
 * Entries of the MMU's direct-mapped fast path (per access kind). A software artefact, not a
 * hardware structure: it caches TLB entries already checked for the current CPU state. 256
 * entries cover 1 MiB of 4 KiB pages. A power of two, and a constant rather than an
 * option because the hot path is measurably faster with a constant index mask.
 */
export const FAST_PATH_ENTRIES = 256;
