/**
 * Control-register, EFER, CR3 and RFLAGS bits (hardware.md 1.2 and 1.6; Linux
 * arch/x86/include/uapi/asm/processor-flags.h). Shared with @side-kernel/privilege.
 * Bit 31 constants are positive numbers (2^31); test bits with `(reg & BIT) !== 0`.
 */

/** CR0.PE (bit 0): protection enable. */
export const CR0_PE = 1 << 0;
/** CR0.MP (bit 1): monitor coprocessor. */
export const CR0_MP = 1 << 1;
/** CR0.EM (bit 2): x87 emulation. */
export const CR0_EM = 1 << 2;
/** CR0.TS (bit 3): task switched. */
export const CR0_TS = 1 << 3;
/** CR0.ET (bit 4): extension type. */
export const CR0_ET = 1 << 4;
/** CR0.NE (bit 5): numeric error. */
export const CR0_NE = 1 << 5;
/** CR0.WP (bit 16): supervisor writes honour R/W (hardware.md 1.6). */
export const CR0_WP = 1 << 16;
/** CR0.AM (bit 18): alignment mask. */
export const CR0_AM = 1 << 18;
/** CR0.NW (bit 29): not write-through. */
export const CR0_NW = 1 << 29;
/** CR0.CD (bit 30): cache disable. */
export const CR0_CD = 1 << 30;
/** CR0.PG (bit 31): paging enable. */
export const CR0_PG = 2 ** 31;

/** CR4.VME (bit 0). */
export const CR4_VME = 1 << 0;
/** CR4.PVI (bit 1). */
export const CR4_PVI = 1 << 1;
/** CR4.TSD (bit 2): RDTSC only at CPL 0. */
export const CR4_TSD = 1 << 2;
/** CR4.DE (bit 3). */
export const CR4_DE = 1 << 3;
/** CR4.PSE (bit 4). */
export const CR4_PSE = 1 << 4;
/** CR4.PAE (bit 5): required for IA-32e paging. */
export const CR4_PAE = 1 << 5;
/** CR4.MCE (bit 6). */
export const CR4_MCE = 1 << 6;
/** CR4.PGE (bit 7): global pages enabled. */
export const CR4_PGE = 1 << 7;
/** CR4.PCE (bit 8): RDPMC at any CPL. */
export const CR4_PCE = 1 << 8;
/** CR4.OSFXSR (bit 9). */
export const CR4_OSFXSR = 1 << 9;
/** CR4.OSXMMEXCPT (bit 10). */
export const CR4_OSXMMEXCPT = 1 << 10;
/** CR4.UMIP (bit 11): SGDT/SIDT/... fault at CPL > 0. */
export const CR4_UMIP = 1 << 11;
/** CR4.LA57 (bit 12): 5-level paging (not modelled; setting it is #GP here). */
export const CR4_LA57 = 1 << 12;
/** CR4.FSGSBASE (bit 16). */
export const CR4_FSGSBASE = 1 << 16;
/** CR4.PCIDE (bit 17): process-context identifiers. */
export const CR4_PCIDE = 1 << 17;
/** CR4.OSXSAVE (bit 18). */
export const CR4_OSXSAVE = 1 << 18;
/** CR4.SMEP (bit 20): supervisor-mode execution prevention. */
export const CR4_SMEP = 1 << 20;
/** CR4.SMAP (bit 21): supervisor-mode access prevention. */
export const CR4_SMAP = 1 << 21;
/** CR4.PKE (bit 22): protection keys (PKRU is not modelled; see README). */
export const CR4_PKE = 1 << 22;
/** CR4 bits this model accepts; writing any other bit raises #GP(0). */
export const CR4_KNOWN_BITS =
  CR4_VME |
  CR4_PVI |
  CR4_TSD |
  CR4_DE |
  CR4_PSE |
  CR4_PAE |
  CR4_MCE |
  CR4_PGE |
  CR4_PCE |
  CR4_OSFXSR |
  CR4_OSXMMEXCPT |
  CR4_UMIP |
  CR4_FSGSBASE |
  CR4_PCIDE |
  CR4_OSXSAVE |
  CR4_SMEP |
  CR4_SMAP |
  CR4_PKE;

/** IA32_EFER MSR number. */
export const MSR_EFER = 0xc0000080;
/** EFER.SCE (bit 0): SYSCALL enable. */
export const EFER_SCE = 1 << 0;
/** EFER.LME (bit 8): long-mode enable. */
export const EFER_LME = 1 << 8;
/** EFER.LMA (bit 10): long mode active (read-only in hardware). */
export const EFER_LMA = 1 << 10;
/** EFER.NXE (bit 11): no-execute enable (XD honoured; XD is reserved without it). */
export const EFER_NXE = 1 << 11;

/** CR3.PWT (bit 3) when CR4.PCIDE=0. */
export const CR3_PWT = 1 << 3;
/** CR3.PCD (bit 4) when CR4.PCIDE=0. */
export const CR3_PCD = 1 << 4;
/** CR3 bits 11:0: the PCID when CR4.PCIDE=1 (X86_CR3_PCID_BITS = 12). */
export const CR3_PCID_MASK = 0xfff;
/** Bit 63 of a MOV-to-CR3 source: no-flush (X86_CR3_PCID_NOFLUSH_BIT); passed as `noFlush` here. */
export const CR3_NOFLUSH_BIT = 63;

/** RFLAGS.CF (bit 0). */
export const RFLAGS_CF = 1 << 0;
/** RFLAGS bit 1: always 1. */
export const RFLAGS_FIXED = 1 << 1;
/** RFLAGS.ZF (bit 6). */
export const RFLAGS_ZF = 1 << 6;
/** RFLAGS.TF (bit 8): trap flag. */
export const RFLAGS_TF = 1 << 8;
/** RFLAGS.IF (bit 9): interrupt enable. */
export const RFLAGS_IF = 1 << 9;
/** RFLAGS.DF (bit 10): direction. */
export const RFLAGS_DF = 1 << 10;
/** RFLAGS.IOPL (bits 13:12) mask. */
export const RFLAGS_IOPL_MASK = 3 << 12;
/** RFLAGS.IOPL shift. */
export const RFLAGS_IOPL_SHIFT = 12;
/** RFLAGS.NT (bit 14). */
export const RFLAGS_NT = 1 << 14;
/** RFLAGS.RF (bit 16). */
export const RFLAGS_RF = 1 << 16;
/** RFLAGS.VM (bit 17). */
export const RFLAGS_VM = 1 << 17;
/** RFLAGS.AC (bit 18): alignment check / SMAP override for explicit supervisor accesses. */
export const RFLAGS_AC = 1 << 18;

/** Power-on-for-this-model CR0: PE | PG | WP (the project's convention for a fresh Mmu). */
export const DEFAULT_CR0 = CR0_PE | CR0_PG | CR0_WP;
/** CR4 of a fresh Mmu: PAE only. */
export const DEFAULT_CR4 = CR4_PAE;
/** EFER of a fresh Mmu: LME | LMA | NXE | SCE. */
export const DEFAULT_EFER = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
