/**
 * CPU exceptions raised by the MMU, with x86 vector numbers (SDM Table 6-1, hardware.md 3.2;
 * Linux arch/x86/include/asm/trapnr.h names) and the #PF error code (hardware.md 1.5;
 * Linux arch/x86/include/asm/trap_pf.h).
 */
import { PF_INSTR, PF_PK, PF_PROT, PF_RSVD, PF_USER, PF_WRITE } from "./bits.js";
import { formatLinear } from "./layout.js";

/** #DE divide error. */
export const X86_TRAP_DE = 0;
/** #DB debug. */
export const X86_TRAP_DB = 1;
/** NMI. */
export const X86_TRAP_NMI = 2;
/** #BP breakpoint. */
export const X86_TRAP_BP = 3;
/** #OF overflow. */
export const X86_TRAP_OF = 4;
/** #BR bound range exceeded. */
export const X86_TRAP_BR = 5;
/** #UD invalid opcode. */
export const X86_TRAP_UD = 6;
/** #NM device not available. */
export const X86_TRAP_NM = 7;
/** #DF double fault. */
export const X86_TRAP_DF = 8;
/** Coprocessor segment overrun (reserved). */
export const X86_TRAP_OLD_MF = 9;
/** #TS invalid TSS. */
export const X86_TRAP_TS = 10;
/** #NP segment not present. */
export const X86_TRAP_NP = 11;
/** #SS stack-segment fault. */
export const X86_TRAP_SS = 12;
/** #GP general protection. */
export const X86_TRAP_GP = 13;
/** #PF page fault. */
export const X86_TRAP_PF = 14;
/** Spurious interrupt (reserved vector). */
export const X86_TRAP_SPURIOUS = 15;
/** #MF x87 floating-point error. */
export const X86_TRAP_MF = 16;
/** #AC alignment check. */
export const X86_TRAP_AC = 17;
/** #MC machine check. */
export const X86_TRAP_MC = 18;
/** #XM SIMD floating-point. */
export const X86_TRAP_XF = 19;
/** #VE virtualization exception. */
export const X86_TRAP_VE = 20;
/** #CP control-protection. */
export const X86_TRAP_CP = 21;

const MNEMONICS: readonly string[] = [
  "#DE",
  "#DB",
  "NMI",
  "#BP",
  "#OF",
  "#BR",
  "#UD",
  "#NM",
  "#DF",
  "#MF(old)",
  "#TS",
  "#NP",
  "#SS",
  "#GP",
  "#PF",
  "spurious",
  "#MF",
  "#AC",
  "#MC",
  "#XM",
  "#VE",
  "#CP",
];

/** Mnemonic of exception `vector` ("#PF" for 14), or "vector N" for others. Never throws. */
export function exceptionMnemonic(vector: number): string {
  return MNEMONICS[vector] ?? `vector ${String(vector)}`;
}

/** An x86 exception raised by simulated hardware. */
export class CpuException extends Error {
  override name = "CpuException";
  /** Vector number (X86_TRAP_*). */
  readonly vector: number;
  /** Error code pushed by the CPU, or undefined for vectors without one. */
  readonly errorCode: number | undefined;
  /** "#PF", "#GP", ... */
  readonly mnemonic: string;

  /** Builds an exception; `message` is used verbatim. Never throws. */
  constructor(vector: number, errorCode: number | undefined, message: string) {
    super(message);
    this.vector = vector;
    this.errorCode = errorCode;
    this.mnemonic = exceptionMnemonic(vector);
  }
}

/**
 * Describes a #PF error code in words, e.g. 0x5 -> "user read of a supervisor page".
 * Never throws; unknown bits are named as "+ bits 0x..".
 */
export function describePageFaultCode(code: number): string {
  const who = (code & PF_USER) !== 0 ? "user" : "supervisor";
  const what = (code & PF_INSTR) !== 0 ? "instruction fetch" : (code & PF_WRITE) !== 0 ? "write" : "read";
  let text: string;
  if ((code & PF_RSVD) !== 0) text = `${who} ${what} through an entry with a reserved bit set`;
  else if ((code & PF_PK) !== 0) text = `${who} ${what} denied by protection key`;
  else if ((code & PF_PROT) === 0) text = `${who} ${what} of a not-present page`;
  else if ((code & PF_INSTR) !== 0)
    text =
      (code & PF_USER) !== 0
        ? "user instruction fetch from a supervisor or execute-disabled page"
        : "supervisor instruction fetch from an execute-disabled or (SMEP) user page";
  else if ((code & PF_USER) !== 0)
    text =
      (code & PF_WRITE) !== 0
        ? "user write to a read-only or supervisor page"
        : "user read of a supervisor page";
  else
    text =
      (code & PF_WRITE) !== 0
        ? "supervisor write to a read-only (WP) or (SMAP) user page"
        : "supervisor read of a user page (SMAP)";
  const known = PF_PROT | PF_WRITE | PF_USER | PF_RSVD | PF_INSTR | PF_PK;
  const extra = code & ~known;
  return extra !== 0 ? `${text} + bits 0x${extra.toString(16)}` : text;
}

/** Page fault: `address` is what CR2 receives, `errorCode` the PF_* bits. */
export class PageFault extends CpuException {
  override name = "PageFault";
  /** Faulting linear address (CR2). */
  readonly address: number;
  declare readonly errorCode: number;

  /**
   * Builds `#PF at <va>: <description> (error code 0x..)`; `detail` (optional) replaces the
   * generic description. Never throws.
   */
  constructor(address: number, errorCode: number, detail?: string) {
    super(
      X86_TRAP_PF,
      errorCode,
      `#PF at ${formatLinear(address)}: ${detail ?? describePageFaultCode(errorCode)} (error code 0x${errorCode.toString(16)})`,
    );
    this.address = address;
  }
}

/** General protection fault `#GP(errorCode)`, with the reason in the message. */
export class GeneralProtection extends CpuException {
  override name = "GeneralProtection";
  /** Why the fault was raised, e.g. "non-canonical address 0x0001000000000000". */
  readonly reason: string;

  /** Builds `#GP(0): <reason>`. Never throws. */
  constructor(reason: string, errorCode = 0) {
    super(X86_TRAP_GP, errorCode, `#GP(${errorCode}): ${reason}`);
    this.reason = reason;
  }
}

/**
 * Thrown when an access is made after `Mmu.accessBudget` is exhausted: the lockup detector
 * (DESIGN.md "Faults and recovery"). Not a CPU exception.
 */
export class AccessBudgetExceeded extends Error {
  override name = "AccessBudgetExceeded";
  /** The linear address of the access that exceeded the budget. */
  readonly address: number;

  /** Builds the error naming `address`. Never throws. */
  constructor(address: number) {
    super(`access budget exceeded at ${formatLinear(address)}`);
    this.address = address;
  }
}
