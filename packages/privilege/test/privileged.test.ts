import { CR4_PCE, CR4_TSD, GeneralProtection, X86_TRAP_GP } from "@side-kernel/paging";
import { describe, expect, it } from "vitest";
import {
  Cpu,
  KERNEL_CS,
  MSR_SYSENTER_CS,
  PRIVILEGED_INSTRUCTIONS,
  type PrivilegeRule,
} from "../src/index.js";
import { TestMmu } from "./helpers.js";

/** Ports: 0xc000..0xc03f granted; a 4-byte access at 0xc03e straddles granted and not. */
const GRANTED_FIRST = 0xc000;
const GRANTED_COUNT = 0x40;
const PORT_CASES = [
  { name: "granted port", port: 0xc010, size: 1, granted: true },
  { name: "granted dword", port: 0xc03c, size: 4, granted: true },
  { name: "not granted", port: 0x70, size: 1, granted: false },
  { name: "dword straddling granted/not granted", port: 0xc03e, size: 4, granted: false },
  { name: "word below the granted range", port: 0xbfff, size: 2, granted: false },
];

/** hardware.md 3.1, written out independently of the table. */
function expectedAllowed(
  rule: PrivilegeRule,
  cpl: number,
  iopl: number,
  cr4: number,
  granted: boolean,
): boolean {
  switch (rule) {
    case "cpl0":
      return cpl === 0;
    case "iopl":
      return cpl <= iopl;
    case "io":
      return cpl <= iopl || granted;
    case "tsd":
      return cpl === 0 || (cr4 & CR4_TSD) === 0;
    case "pce":
      return cpl === 0 || (cr4 & CR4_PCE) !== 0;
  }
}

function makeCpu(cpl: number, iopl: number, cr4Extra: number) {
  const mmu = new TestMmu();
  mmu.cr4 |= cr4Extra;
  const cpu = new Cpu({ mmu });
  cpu.tss.grantPorts(GRANTED_FIRST, GRANTED_COUNT);
  cpu.wrmsr(MSR_SYSENTER_CS, KERNEL_CS);
  cpu.iopl = iopl;
  cpu.cpl = cpl;
  return cpu;
}

describe("privileged-instruction matrix (CPL 0-3 x IOPL 0-3)", () => {
  it("covers every instruction of hardware.md 3.1 that the CPU models", () => {
    const names = PRIVILEGED_INSTRUCTIONS.map((i) => i.mnemonic);
    for (const n of [
      "LIDT",
      "LTR",
      "MOV to CR3",
      "INVLPG",
      "HLT",
      "RDMSR",
      "WRMSR",
      "CLI",
      "STI",
      "IN",
      "OUT",
    ]) {
      expect(names).toContain(n);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  let cells = 0;
  for (const instr of PRIVILEGED_INSTRUCTIONS) {
    const cr4Cases = instr.rule === "tsd" ? [0, CR4_TSD] : instr.rule === "pce" ? [0, CR4_PCE] : [0];
    const portCases = instr.rule === "io" ? PORT_CASES : [PORT_CASES[2]];
    it(`${instr.mnemonic} (${instr.rule})`, () => {
      for (const cr4 of cr4Cases) {
        for (const pc of portCases) {
          for (let cpl = 0; cpl <= 3; cpl++) {
            for (let iopl = 0; iopl <= 3; iopl++) {
              const cpu = makeCpu(cpl, iopl, cr4);
              const allowed = expectedAllowed(instr.rule, cpl, iopl, cpu.cr4, pc.granted);
              const where = `${instr.mnemonic} CPL ${cpl} IOPL ${iopl} CR4 0x${cpu.cr4.toString(16)} ${pc.name}`;
              let thrown: unknown;
              try {
                instr.execute(cpu, pc.port, pc.size);
              } catch (e) {
                thrown = e;
              }
              cells++;
              if (allowed) {
                expect(thrown, where).toBeUndefined();
              } else {
                expect(thrown, where).toBeInstanceOf(GeneralProtection);
                expect((thrown as GeneralProtection).vector, where).toBe(X86_TRAP_GP);
                expect((thrown as GeneralProtection).errorCode, where).toBe(0);
                expect(cpu.cpl, `${where}: state unchanged`).toBe(cpl);
              }
            }
          }
        }
      }
    });
  }

  it("ran every cell", () => {
    expect(cells).toBeGreaterThan(PRIVILEGED_INSTRUCTIONS.length * 16);
  });

  it("fault messages say what was wrong", () => {
    const cpu = makeCpu(3, 0, 0);
    expect(() => cpu.cli()).toThrow("#GP(0): CLI at CPL 3 > IOPL 0");
    expect(() => cpu.wrmsr(0xc000_0082, 0)).toThrow("#GP(0): WRMSR at CPL 3");
    expect(() => cpu.movToCr(3, 0)).toThrow("#GP(0): MOV to CR3 at CPL 3");
    expect(() => cpu.in(0x70, 1)).toThrow(
      "#GP(0): IN port 0x70 (1 byte) at CPL 3 > IOPL 0: not granted in the TSS I/O bitmap",
    );
  });
});
