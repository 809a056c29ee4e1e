import { X86_TRAP_DE, X86_TRAP_GP, X86_TRAP_NP, X86_TRAP_PF } from "@side-kernel/paging";
import { describe, expect, it } from "vitest";
import { becomesDoubleFault, InvalidOpcode, idtErrorCode, vectorHasErrorCode } from "../src/index.js";

describe("fault classes (SDM Table 6-5)", () => {
  it("contributory + contributory and #PF + (#PF or contributory) double-fault", () => {
    expect(becomesDoubleFault(X86_TRAP_GP, X86_TRAP_NP)).toBe(true);
    expect(becomesDoubleFault(X86_TRAP_DE, X86_TRAP_GP)).toBe(true);
    expect(becomesDoubleFault(X86_TRAP_PF, X86_TRAP_PF)).toBe(true);
    expect(becomesDoubleFault(X86_TRAP_PF, X86_TRAP_GP)).toBe(true);
  });

  it("contributory + #PF and benign first events are serial", () => {
    expect(becomesDoubleFault(X86_TRAP_GP, X86_TRAP_PF)).toBe(false);
    expect(becomesDoubleFault(32, X86_TRAP_PF)).toBe(false);
    expect(becomesDoubleFault(3, X86_TRAP_GP)).toBe(false);
  });

  it("error codes", () => {
    expect(vectorHasErrorCode(8)).toBe(true);
    expect(vectorHasErrorCode(14)).toBe(true);
    expect(vectorHasErrorCode(6)).toBe(false);
    expect(vectorHasErrorCode(32)).toBe(false);
    expect(idtErrorCode(0x80, false)).toBe(0x402);
    expect(idtErrorCode(33, true)).toBe(0x10b);
    const ud = new InvalidOpcode("x");
    expect(ud.errorCode).toBeUndefined();
    expect(ud.mnemonic).toBe("#UD");
  });
});
