/**
 * The privileged-instruction table: every instruction of hardware.md 3.1 that this model
 * implements, with the rule that decides whether it faults, and a harmless way to execute it.
 * The matrix test runs every entry at CPL 0-3 and IOPL 0-3.
 */
import type { Cpu } from "./cpu.js";
import { MSR_LSTAR } from "./regs.js";

/**
 * When an instruction raises #GP(0) (hardware.md 3.1):
 * - "cpl0": at CPL != 0;
 * - "iopl": at CPL > IOPL;
 * - "io": at CPL > IOPL unless the TSS I/O bitmap grants every port byte accessed;
 * - "tsd": at CPL != 0 when CR4.TSD = 1;
 * - "pce": at CPL != 0 when CR4.PCE = 0.
 */
export type PrivilegeRule = "cpl0" | "iopl" | "io" | "tsd" | "pce";

/** One row of the table. */
export interface PrivilegedInstruction {
  /** Instruction name as the SDM writes it. */
  readonly mnemonic: string;
  /** The fault rule. */
  readonly rule: PrivilegeRule;
  /**
   * Executes the instruction on `cpu` with operands that are valid at CPL 0 (it re-writes the
   * current CR/MSR values, reads port `port` with `size` bytes, ...). SYSRET/SYSEXIT change
   * the CPL when they succeed. Throws what the instruction throws.
   */
  readonly execute: (cpu: Cpu, port: number, size: number) => unknown;
}

/** Every privileged instruction this package models, in hardware.md 3.1 order. */
export const PRIVILEGED_INSTRUCTIONS: readonly PrivilegedInstruction[] = Object.freeze([
  { mnemonic: "LIDT", rule: "cpl0", execute: (cpu: Cpu) => cpu.lidt(cpu.idt) },
  { mnemonic: "LTR", rule: "cpl0", execute: (cpu: Cpu) => cpu.ltr(cpu.tss) },
  { mnemonic: "MOV to CR0", rule: "cpl0", execute: (cpu: Cpu) => cpu.movToCr(0, cpu.cr0) },
  { mnemonic: "MOV to CR3", rule: "cpl0", execute: (cpu: Cpu) => cpu.movToCr(3, cpu.cr3) },
  { mnemonic: "MOV to CR4", rule: "cpl0", execute: (cpu: Cpu) => cpu.movToCr(4, cpu.cr4) },
  { mnemonic: "MOV to CR8", rule: "cpl0", execute: (cpu: Cpu) => cpu.movToCr(8, cpu.cr8) },
  { mnemonic: "MOV from CR0", rule: "cpl0", execute: (cpu: Cpu) => cpu.movFromCr(0) },
  { mnemonic: "MOV from CR2", rule: "cpl0", execute: (cpu: Cpu) => cpu.movFromCr(2) },
  { mnemonic: "MOV from CR3", rule: "cpl0", execute: (cpu: Cpu) => cpu.movFromCr(3) },
  { mnemonic: "MOV from CR4", rule: "cpl0", execute: (cpu: Cpu) => cpu.movFromCr(4) },
  { mnemonic: "INVLPG", rule: "cpl0", execute: (cpu: Cpu) => cpu.invlpg(0) },
  { mnemonic: "INVPCID", rule: "cpl0", execute: (cpu: Cpu) => cpu.invpcid(1, 0, 0) },
  { mnemonic: "HLT", rule: "cpl0", execute: (cpu: Cpu) => cpu.hlt() },
  { mnemonic: "RDMSR", rule: "cpl0", execute: (cpu: Cpu) => cpu.rdmsr(MSR_LSTAR) },
  { mnemonic: "WRMSR", rule: "cpl0", execute: (cpu: Cpu) => cpu.wrmsr(MSR_LSTAR, 0) },
  { mnemonic: "SWAPGS", rule: "cpl0", execute: (cpu: Cpu) => cpu.swapgs() },
  { mnemonic: "SYSRET", rule: "cpl0", execute: (cpu: Cpu) => cpu.sysret() },
  { mnemonic: "SYSEXIT", rule: "cpl0", execute: (cpu: Cpu) => cpu.sysexit() },
  { mnemonic: "RDPMC", rule: "pce", execute: (cpu: Cpu) => cpu.rdpmc(0) },
  { mnemonic: "RDTSC", rule: "tsd", execute: (cpu: Cpu) => cpu.rdtsc() },
  { mnemonic: "CLI", rule: "iopl", execute: (cpu: Cpu) => cpu.cli() },
  { mnemonic: "STI", rule: "iopl", execute: (cpu: Cpu) => cpu.sti() },
  { mnemonic: "IN", rule: "io", execute: (cpu: Cpu, port: number, size: number) => cpu.in(port, size) },
  { mnemonic: "OUT", rule: "io", execute: (cpu: Cpu, port: number, size: number) => cpu.out(port, size, 0) },
] satisfies PrivilegedInstruction[]);
