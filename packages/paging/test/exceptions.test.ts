import { describe, expect, it } from "vitest";
import {
  describePageFaultCode,
  GeneralProtection,
  PageFault,
  X86_TRAP_GP,
  X86_TRAP_PF,
} from "../src/index.js";

describe("exceptions", () => {
  it("formats a #PF as the project's errors read", () => {
    const pf = new PageFault(0x8000_0000_1000, 0x5);
    expect(pf.message).toBe("#PF at 0xffff800000001000: user read of a supervisor page (error code 0x5)");
    expect(pf.vector).toBe(X86_TRAP_PF);
    expect(pf.mnemonic).toBe("#PF");
    expect(pf.address).toBe(0x8000_0000_1000);
  });
  it("describes every handy error code", () => {
    expect(describePageFaultCode(0x4)).toBe("user read of a not-present page");
    expect(describePageFaultCode(0x7)).toMatch(/user write to a read-only/);
    expect(describePageFaultCode(0x3)).toMatch(/supervisor write to a read-only/);
    expect(describePageFaultCode(0x15)).toMatch(/user instruction fetch/);
    expect(describePageFaultCode(0x11)).toMatch(/SMEP/);
    expect(describePageFaultCode(0x9)).toMatch(/reserved bit/);
  });
  it("#GP carries error code 0 and the reason", () => {
    const gp = new GeneralProtection("non-canonical address x");
    expect(gp.vector).toBe(X86_TRAP_GP);
    expect(gp.errorCode).toBe(0);
    expect(gp.message).toBe("#GP(0): non-canonical address x");
  });
});
