/**
 * Register numbers and bit constants for the CPU privilege model.
 *
 * Sources (keys from /work/shared/reference/hardware.md section 0):
 * - RFLAGS bits: SDM Vol 1 section 3.4.3 (IF 9, IOPL 13:12, AC 18), LNX
 *   `arch/x86/include/uapi/asm/processor-flags.h`.
 * - CR4 bits TSD/PCE/PCIDE: hardware.md 1.6 (SDM-CR).
 * - EFER bits and MSR numbers: hardware.md 1.6 and 3.4 (msr-index.h).
 * - Segment selectors: LNX `arch/x86/include/asm/segment.h` (the 64-bit GDT layout that
 *   SYSCALL/SYSRET require, hardware.md 3.4).
 *
 * CR0/CR4/EFER bits, MSR_EFER and the RFLAGS bits are @side-kernel/paging's (its regs.ts); this
 * file holds only what paging does not.
 */

// ---- RFLAGS (SDM Vol 1 3.4.3; the individual bits come from @side-kernel/paging) ----
/** RFLAGS.ID (bit 21): CPUID available; the highest architecturally defined flag. */
export const RFLAGS_ID = 1 << 21;
/**
 * Bits of RFLAGS that software can hold (CF..ID, SDM Vol 1 Fig. 3-8): bits 0..21 except the
 * reserved bits 1 (always 1, RFLAGS_FIXED, ORed in separately), 3, 5 and 15 (always 0).
 */
export const RFLAGS_DEFINED_MASK = 0x3f_7fd5;
/** CR8 (task-priority register) holds 4 bits (SDM Vol 3 10.8.6.1). */
export const CR8_MASK = 0xf;

// ---- MSR numbers (hardware.md 1.6, 3.4) ----
/** IA32_TIME_STAMP_COUNTER. */
export const MSR_TSC = 0x10;
/** IA32_SYSENTER_CS. */
export const MSR_SYSENTER_CS = 0x174;
/** IA32_SYSENTER_ESP (RSP in 64-bit mode). */
export const MSR_SYSENTER_ESP = 0x175;
/** IA32_SYSENTER_EIP (RIP in 64-bit mode). */
export const MSR_SYSENTER_EIP = 0x176;
/** IA32_STAR: [47:32] SYSCALL CS, [63:48] SYSRET CS base. */
export const MSR_STAR = 0xc000_0081;
/** IA32_LSTAR: 64-bit SYSCALL target RIP. */
export const MSR_LSTAR = 0xc000_0082;
/** IA32_CSTAR: compatibility-mode SYSCALL target (unused in 64-bit mode, kept for wrmsr/rdmsr). */
export const MSR_CSTAR = 0xc000_0083;
/** IA32_FMASK: RFLAGS bits cleared by SYSCALL. */
export const MSR_FMASK = 0xc000_0084;
/** IA32_FS_BASE. */
export const MSR_FS_BASE = 0xc000_0100;
/** IA32_GS_BASE. */
export const MSR_GS_BASE = 0xc000_0101;
/** IA32_KERNEL_GS_BASE (swapped with GS_BASE by SWAPGS). */
export const MSR_KERNEL_GS_BASE = 0xc000_0102;

// ---- Segment selectors (LNX arch/x86/include/asm/segment.h, 64-bit) ----
/** Requested-privilege-level bits of a selector. */
export const SELECTOR_RPL_MASK = 3;
/** __KERNEL_CS (GDT entry 2). */
export const KERNEL_CS = 0x10;
/** __KERNEL_DS (GDT entry 3): SYSCALL loads SS = STAR[47:32] + 8. */
export const KERNEL_DS = 0x18;
/** __USER32_CS (GDT entry 4, RPL 3): the STAR[63:48] base Linux programs. */
export const USER32_CS = 0x23;
/** __USER_DS (GDT entry 5, RPL 3): SYSRET loads SS = STAR[63:48] + 8. */
export const USER_DS = 0x2b;
/** __USER_CS (GDT entry 6, RPL 3): 64-bit SYSRET loads CS = STAR[63:48] + 16. */
export const USER_CS = 0x33;
/** The null selector, loaded into SS on a 64-bit privilege change (hardware.md 3.3). */
export const NULL_SELECTOR = 0;
/** SYSRET (64-bit) CS offset from STAR[63:48] (hardware.md 3.4). */
export const SYSRET_CS_OFFSET = 16;
/** SYSRET and SYSCALL SS offset from the STAR selector. */
export const STAR_SS_OFFSET = 8;
/** 64-bit SYSEXIT CS offset from IA32_SYSENTER_CS (SDM SYSEXIT, REX.W form). */
export const SYSEXIT64_CS_OFFSET = 32;
/** 64-bit SYSEXIT SS offset from IA32_SYSENTER_CS. */
export const SYSEXIT64_SS_OFFSET = 40;
/** SYSENTER SS offset from IA32_SYSENTER_CS. */
export const SYSENTER_SS_OFFSET = 8;

// ---- Ports ----
/** Highest I/O port number (64 Ki ports). */
export const MAX_PORT = 0xffff;
/** Number of I/O ports, and of bits in the TSS I/O permission bitmap. */
export const PORT_COUNT = 0x1_0000;

// ---- Address limits ----
/** Linear addresses are 48-bit numbers: 0 .. 2^48 - 1 (DESIGN.md "Addresses"). */
export const LINEAR_ADDRESS_LIMIT = 2 ** 48;
/** Interrupt delivery aligns the new RSP down to 16 bytes (hardware.md 3.3). */
export const STACK_ALIGN = 16;
/** Every slot of the 64-bit interrupt frame is 8 bytes (hardware.md 3.3). */
export const FRAME_SLOT = 8;
