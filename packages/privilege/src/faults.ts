/**
 * The exceptions this package raises beyond @side-kernel/paging's (`CpuException`, `PageFault`,
 * `GeneralProtection` are paging's and reused as they are), and the SDM rules for a fault that
 * happens while another one is being delivered.
 *
 * Double-fault classes: SDM Vol 3 section 6.15, "Interrupt 8-Double Fault Exception", Tables
 * 6-4 and 6-5 (standard SDM facts not in hardware.md; listed as not re-read in hardware.md 7).
 */
import {
  CpuException,
  X86_TRAP_DE,
  X86_TRAP_DF,
  X86_TRAP_GP,
  X86_TRAP_NP,
  X86_TRAP_PF,
  X86_TRAP_SS,
  X86_TRAP_TS,
  X86_TRAP_UD,
} from "@side-kernel/paging";

/** #AC alignment check (17): has an error code. */
const X86_TRAP_AC = 17;
/** #CP control protection (21): has an error code. */
const X86_TRAP_CP = 21;
/** #VC VMM communication (29, LNX trapnr.h): has an error code. */
const X86_TRAP_VC = 29;
/** #SX security exception (30): has an error code. */
const X86_TRAP_SX = 30;

/** Invalid opcode `#UD` (vector 6, no error code), with the reason in the message. */
export class InvalidOpcode extends CpuException {
  override name = "InvalidOpcode";
  /** Why the instruction is invalid, e.g. "SYSCALL with EFER.SCE = 0". */
  readonly reason: string;

  /** Builds `#UD: <reason>`. Never throws. */
  constructor(reason: string) {
    super(X86_TRAP_UD, undefined, `#UD: ${reason}`);
    this.reason = reason;
  }
}

/** Segment not present `#NP(errorCode)`; raised here for a not-present IDT gate. */
export class SegmentNotPresent extends CpuException {
  override name = "SegmentNotPresent";
  /** Why, e.g. "IDT gate 33 not present". */
  readonly reason: string;

  /** Builds `#NP(0x..): <reason>`. Never throws. */
  constructor(reason: string, errorCode: number) {
    super(X86_TRAP_NP, errorCode, `#NP(0x${errorCode.toString(16)}): ${reason}`);
    this.reason = reason;
  }
}

/** Double fault `#DF` (vector 8, error code 0): a fault while delivering another. */
export class DoubleFault extends CpuException {
  override name = "DoubleFault";
  /** The exception being delivered when the second one happened. */
  readonly first: number;
  /** The fault raised during that delivery. */
  readonly second: CpuException;

  /** Builds `#DF: <second> while delivering vector <first>`. Never throws. */
  constructor(first: number, second: CpuException) {
    super(X86_TRAP_DF, 0, `#DF: ${second.message} while delivering vector ${first}`);
    this.first = first;
    this.second = second;
  }
}

/**
 * A fault while delivering #DF: the processor shuts down and the machine resets. Not a CPU
 * exception (nothing can handle it); the host must treat it as a machine reset.
 */
export class TripleFault extends Error {
  override name = "TripleFault";
  /** The fault raised while delivering #DF. */
  readonly fault: CpuException;

  /** Builds `triple fault: <cause> while delivering #DF (machine reset)`. Never throws. */
  constructor(cause: CpuException) {
    super(`triple fault: ${cause.message} while delivering #DF (machine reset)`);
    this.fault = cause;
  }
}

/**
 * Builds the error code of a fault that names an IDT entry (SDM 6.13, Fig. 6-7): bit 0 EXT
 * (an external event caused it), bit 1 IDT, bits 15:3 the vector. Never throws.
 */
export function idtErrorCode(vector: number, external: boolean): number {
  return (vector << 3) | IDT_ERROR_CODE_IDT | (external ? IDT_ERROR_CODE_EXT : 0);
}

/** Error-code bit 0: the fault was caused by an event external to the program. */
export const IDT_ERROR_CODE_EXT = 1 << 0;
/** Error-code bit 1: the index refers to an IDT gate. */
export const IDT_ERROR_CODE_IDT = 1 << 1;

/** True when the CPU pushes an error code for exception `vector` (hardware.md 3.2). */
export function vectorHasErrorCode(vector: number): boolean {
  return (
    vector === X86_TRAP_DF ||
    (vector >= X86_TRAP_TS && vector <= X86_TRAP_PF) ||
    vector === X86_TRAP_AC ||
    vector === X86_TRAP_CP ||
    vector === X86_TRAP_VC ||
    vector === X86_TRAP_SX
  );
}

/** Contributory exceptions (SDM Table 6-4): #DE, #TS, #NP, #SS, #GP. */
export function isContributory(vector: number): boolean {
  return (
    vector === X86_TRAP_DE ||
    vector === X86_TRAP_TS ||
    vector === X86_TRAP_NP ||
    vector === X86_TRAP_SS ||
    vector === X86_TRAP_GP
  );
}

/**
 * SDM Table 6-5: does `second`, raised while delivering `first`, turn into #DF?
 * Contributory then contributory: yes. #PF then contributory or #PF: yes. Anything else
 * (a benign first event, or contributory then #PF) is handled serially: `second` is delivered.
 * (A fault during #DF delivery is a triple fault; the caller checks that first.)
 */
export function becomesDoubleFault(first: number, second: number): boolean {
  const secondSerious = isContributory(second) || second === X86_TRAP_PF;
  if (isContributory(first)) return isContributory(second);
  if (first === X86_TRAP_PF) return secondSerious;
  return false;
}

/** True for an error thrown by simulated hardware (`CpuException` or a structural look-alike). */
export function isCpuException(e: unknown): e is CpuException {
  return e instanceof CpuException;
}
