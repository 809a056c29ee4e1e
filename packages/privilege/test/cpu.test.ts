import {
  CR4_PCIDE,
  EFER_SCE,
  GeneralProtection,
  PageFault,
  PF_USER,
  PF_WRITE,
  RFLAGS_AC,
  RFLAGS_IF,
  RFLAGS_TF,
  X86_TRAP_DF,
  X86_TRAP_GP,
  X86_TRAP_NP,
  X86_TRAP_PF,
  X86_TRAP_UD,
} from "@side-kernel/paging";
import { describe, expect, it } from "vitest";
import {
  Cpu,
  DoubleFault,
  Idt,
  InvalidOpcode,
  KERNEL_CS,
  KERNEL_DS,
  MSR_FMASK,
  MSR_GS_BASE,
  MSR_KERNEL_GS_BASE,
  MSR_LSTAR,
  MSR_STAR,
  MSR_SYSENTER_CS,
  MSR_SYSENTER_EIP,
  MSR_SYSENTER_ESP,
  MSR_TSC,
  NULL_SELECTOR,
  SegmentNotPresent,
  SimClock,
  TripleFault,
  USER_CS,
  USER_DS,
  USER32_CS,
} from "../src/index.js";
import { TestMmu } from "./helpers.js";

const KERNEL = 0x8000_0000_0000;
const RSP0_TOP = KERNEL + 0x1_2000;
const IST1_TOP = KERNEL + 0x2_2000;
const IST2_TOP = KERNEL + 0x3_2000;
const PF_HANDLER = KERNEL + 0x10_0000;
const DF_HANDLER = KERNEL + 0x10_1000;
const IRQ_HANDLER = KERNEL + 0x10_2000;
const SYSCALL_ENTRY = KERNEL + 0x10_3000;
const INT80_HANDLER = KERNEL + 0x10_4000;
const GP_HANDLER = KERNEL + 0x10_5000;
const NMI_HANDLER = KERNEL + 0x10_6000;
const USER_RIP = 0x40_1000;
const USER_RSP = 0x7fff_0000_0ff8;
const STAR_LINUX = USER32_CS * 2 ** 48 + KERNEL_CS * 2 ** 32;

function setup(options: { mapRsp0?: boolean; mapIst1?: boolean } = {}) {
  const mmu = new TestMmu();
  if (options.mapRsp0 !== false) mmu.map(RSP0_TOP - 0x2000, 0x2000);
  if (options.mapIst1 !== false) mmu.map(IST1_TOP - 0x2000, 0x2000);
  mmu.map(IST2_TOP - 0x2000, 0x2000);
  const clock = new SimClock();
  const cpu = new Cpu({ mmu, clock });
  cpu.tss.rsp0 = RSP0_TOP;
  cpu.tss.setIst(1, IST1_TOP);
  cpu.tss.setIst(2, IST2_TOP);
  const idt = new Idt();
  idt.setGate(X86_TRAP_PF, { handler: PF_HANDLER });
  idt.setGate(X86_TRAP_DF, { handler: DF_HANDLER, ist: 1 });
  idt.setGate(X86_TRAP_GP, { handler: GP_HANDLER });
  idt.setGate(2, { handler: NMI_HANDLER, ist: 2 });
  idt.setGate(32, { handler: IRQ_HANDLER });
  idt.setGate(0x80, { handler: INT80_HANDLER, type: "trap", dpl: 3 });
  cpu.lidt(idt);
  cpu.wrmsr(MSR_STAR, STAR_LINUX);
  cpu.wrmsr(MSR_LSTAR, SYSCALL_ENTRY);
  cpu.wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_TF | RFLAGS_AC);
  return { mmu, clock, cpu, idt };
}

/** Puts the CPU in user mode at USER_RIP/USER_RSP with interrupts on. */
function toUser(cpu: Cpu) {
  cpu.rflags = RFLAGS_IF;
  cpu.rip = USER_RIP;
  cpu.rsp = USER_RSP;
  cpu.cpl = 3;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

describe("Cpu state", () => {
  it("keeps mmu.cpl and mmu.ac in sync with CPL and RFLAGS.AC", () => {
    const { cpu, mmu } = setup();
    expect(mmu.cpl).toBe(0);
    cpu.cpl = 3;
    expect(mmu.cpl).toBe(3);
    expect(cpu.cs).toBe(USER_CS);
    expect(cpu.ss).toBe(USER_DS);
    cpu.rflags = RFLAGS_AC;
    expect(mmu.ac).toBe(true);
    expect(cpu.rflags).toBe(RFLAGS_AC | 2);
    cpu.rflags = 0;
    expect(mmu.ac).toBe(false);
    expect(() => {
      cpu.cpl = 4;
    }).toThrow(RangeError);
  });

  it("masks reserved RFLAGS bits and exposes IOPL", () => {
    const { cpu } = setup();
    cpu.rflags = 0xffff_ffff;
    expect(cpu.rflags).toBe(0x3f_7fd7);
    cpu.rflags = 0;
    cpu.iopl = 3;
    expect(cpu.rflags).toBe((3 << 12) | 2);
    expect(cpu.iopl).toBe(3);
  });
});

describe("delivery through the IDT", () => {
  it("switches to RSP0 from CPL 3 and writes the 64-bit frame with error code into memory", () => {
    const { cpu, mmu } = setup();
    toUser(cpu);
    cpu.deliver(X86_TRAP_PF, { errorCode: PF_USER | PF_WRITE, cr2: 0x1234_5000 });
    const sp = RSP0_TOP - 6 * 8;
    expect(cpu.rsp).toBe(sp);
    expect(mmu.peek(sp)).toBe(PF_USER | PF_WRITE);
    expect(mmu.peek(sp + 8)).toBe(USER_RIP);
    expect(mmu.peek(sp + 16)).toBe(USER_CS);
    expect(mmu.peek(sp + 24)).toBe(RFLAGS_IF | 2);
    expect(mmu.peek(sp + 32)).toBe(USER_RSP);
    expect(mmu.peek(sp + 40)).toBe(USER_DS);
    expect(cpu.cpl).toBe(0);
    expect(mmu.cpl).toBe(0);
    expect(cpu.cs).toBe(KERNEL_CS);
    expect(cpu.ss).toBe(NULL_SELECTOR);
    expect(cpu.rip).toBe(PF_HANDLER);
    expect(cpu.interruptsEnabled).toBe(false);
    expect(cpu.cr2).toBe(0x1234_5000);
  });

  it("aligns the new stack down to 16 bytes", () => {
    const { cpu } = setup();
    cpu.tss.rsp0 = RSP0_TOP - 8;
    toUser(cpu);
    cpu.intN(0x80);
    expect(cpu.rsp).toBe(RSP0_TOP - 16 - 5 * 8);
  });

  it("stays on the current stack without a privilege change, keeping SS", () => {
    const { cpu, mmu } = setup();
    cpu.rsp = RSP0_TOP - 0x100 + 8; // misaligned kernel stack
    cpu.rip = KERNEL + 0x5000;
    cpu.sti();
    expect(cpu.deliverInterrupt(32)).toBe(true);
    const sp = RSP0_TOP - 0x100 - 5 * 8;
    expect(cpu.rsp).toBe(sp);
    expect(mmu.peek64(sp)).toEqual([0x5000, 0xffff_8000]); // RIP, sign-extended kernel address
    expect(mmu.peek(sp + 8)).toBe(KERNEL_CS);
    expect(mmu.peek64(sp + 24)).toEqual([0x1_2000 - 0x100 + 8, 0xffff_8000]); // old RSP
    expect(mmu.peek(sp + 32)).toBe(KERNEL_DS);
    expect(cpu.ss).toBe(KERNEL_DS);
  });

  it("uses the IST stack whenever the gate names one, even at CPL 0", () => {
    const { cpu } = setup();
    cpu.rsp = RSP0_TOP - 0x200;
    cpu.deliver(2);
    expect(cpu.rsp).toBe(IST2_TOP - 5 * 8);
    expect(cpu.rip).toBe(NMI_HANDLER);
  });

  it("IRET restores CPL, RIP, RSP, SS and RFLAGS (IF back on) after popping the error code", () => {
    const { cpu, mmu } = setup();
    toUser(cpu);
    cpu.deliver(X86_TRAP_PF, { errorCode: PF_USER, cr2: 0x1000 });
    cpu.iret(true);
    expect(cpu.cpl).toBe(3);
    expect(mmu.cpl).toBe(3);
    expect(cpu.rip).toBe(USER_RIP);
    expect(cpu.rsp).toBe(USER_RSP);
    expect(cpu.cs).toBe(USER_CS);
    expect(cpu.ss).toBe(USER_DS);
    expect(cpu.interruptsEnabled).toBe(true);
  });

  it("trap gates leave IF set; interrupt gates clear it; TF is always cleared", () => {
    const { cpu } = setup();
    toUser(cpu);
    cpu.rflags = RFLAGS_IF | RFLAGS_TF;
    cpu.intN(0x80);
    expect(cpu.interruptsEnabled).toBe(true);
    expect(cpu.rflags & RFLAGS_TF).toBe(0);
    expect(cpu.rip).toBe(INT80_HANDLER);
  });

  it("INT n through a gate with DPL < CPL is #GP(vector << 3 | IDT) and changes nothing", () => {
    const { cpu } = setup();
    toUser(cpu);
    const e = catchError(() => cpu.intN(X86_TRAP_PF)) as GeneralProtection;
    expect(e).toBeInstanceOf(GeneralProtection);
    expect(e.errorCode).toBe((X86_TRAP_PF << 3) | 2);
    expect(e.message).toContain("DPL");
    expect(cpu.cpl).toBe(3);
    expect(cpu.rip).toBe(USER_RIP);
  });

  it("a hardware exception ignores the gate DPL", () => {
    const { cpu } = setup();
    toUser(cpu);
    cpu.deliver(X86_TRAP_GP, { errorCode: 0 });
    expect(cpu.rip).toBe(GP_HANDLER);
  });

  it("a not-present gate for INT n is #NP with the IDT error code", () => {
    const { cpu } = setup();
    const e = catchError(() => cpu.deliver(0x81, { software: true })) as SegmentNotPresent;
    expect(e).toBeInstanceOf(SegmentNotPresent);
    expect(e.vector).toBe(X86_TRAP_NP);
    expect(e.errorCode).toBe((0x81 << 3) | 2);
    expect(cpu.rip).toBe(0);
  });

  it("an interrupt through a not-present gate raises #NP(EXT); #NP with no gate double-faults", () => {
    const { cpu } = setup();
    toUser(cpu);
    cpu.deliverInterrupt(33);
    // #NP for gate 33 is delivered serially (an interrupt is benign); gate 11 is absent too,
    // so the #NP delivery raises #NP again: contributory + contributory -> #DF (IST1).
    expect(cpu.rip).toBe(DF_HANDLER);
    expect(cpu.rsp).toBe(IST1_TOP - 6 * 8);
    expect(cpu.lastDoubleFault?.first).toBe(X86_TRAP_NP);
    expect(cpu.lastDoubleFault?.second).toBeInstanceOf(SegmentNotPresent);
    expect(cpu.lastDoubleFault?.second.errorCode).toBe((X86_TRAP_NP << 3) | 2 | 1); // IDT | EXT
  });

  it("deliverInterrupt returns false and does nothing while IF = 0", () => {
    const { cpu } = setup();
    cpu.rsp = RSP0_TOP;
    expect(cpu.deliverInterrupt(32)).toBe(false);
    expect(cpu.rsp).toBe(RSP0_TOP);
    expect(() => cpu.deliverInterrupt(14)).toThrow(RangeError);
  });

  it("a #PF while pushing the #PF frame (RSP0 unmapped) becomes #DF on the IST stack", () => {
    const { cpu, mmu } = setup({ mapRsp0: false });
    toUser(cpu);
    cpu.deliver(X86_TRAP_PF, { errorCode: PF_USER, cr2: 0x2000 });
    expect(cpu.rip).toBe(DF_HANDLER);
    expect(cpu.rsp).toBe(IST1_TOP - 6 * 8);
    expect(mmu.peek(cpu.rsp)).toBe(0); // #DF error code
    expect(mmu.peek(cpu.rsp + 8)).toBe(USER_RIP); // the interrupted user context
    expect(mmu.peek(cpu.rsp + 16)).toBe(USER_CS);
    expect(cpu.cr2).toBe(RSP0_TOP - 8); // the first frame slot that faulted
    expect(cpu.lastDoubleFault).toBeInstanceOf(DoubleFault);
    expect(cpu.lastDoubleFault?.second).toBeInstanceOf(PageFault);
  });

  it("an external interrupt onto an unmapped RSP0 raises #PF, whose delivery then double-faults", () => {
    const { cpu } = setup({ mapRsp0: false });
    toUser(cpu);
    cpu.deliverInterrupt(32);
    expect(cpu.rip).toBe(DF_HANDLER);
    expect(cpu.lastDoubleFault?.first).toBe(X86_TRAP_PF);
  });

  it("a fault while delivering #DF is a triple fault, and the state is unchanged", () => {
    const { cpu } = setup({ mapRsp0: false, mapIst1: false });
    toUser(cpu);
    const e = catchError(() => cpu.deliver(X86_TRAP_PF, { errorCode: PF_USER })) as TripleFault;
    expect(e).toBeInstanceOf(TripleFault);
    expect(e.fault).toBeInstanceOf(PageFault);
    expect(e.message).toMatch(/triple fault/);
    expect(cpu.cpl).toBe(3);
    expect(cpu.rip).toBe(USER_RIP);
  });

  it("deliverException takes vector, error code and CR2 from a thrown PageFault", () => {
    const { cpu } = setup();
    toUser(cpu);
    cpu.deliverException(new PageFault(0x7000, PF_USER | PF_WRITE));
    expect(cpu.cr2).toBe(0x7000);
    expect(cpu.rip).toBe(PF_HANDLER);
  });

  it("IRET at CPL 3 cannot set IF or IOPL; at CPL 0 it can", () => {
    const { cpu, mmu } = setup();
    const frame = 0x10_0000;
    mmu.map(frame, 0x1000, true);
    const writeFrame = (flags: number) => {
      const slots = [USER_RIP + 0x10, USER_CS, flags, USER_RSP - 0x100, USER_DS];
      slots.forEach((v, i) => {
        mmu.store32(frame + 8 * i, v);
        mmu.store32(frame + 8 * i + 4, 0);
      });
    };
    cpu.cpl = 3;
    cpu.rflags = 0;
    writeFrame(RFLAGS_IF | (3 << 12));
    cpu.rsp = frame;
    cpu.iret();
    expect(cpu.interruptsEnabled).toBe(false);
    expect(cpu.iopl).toBe(0);
    expect(cpu.rip).toBe(USER_RIP + 0x10);
    cpu.cpl = 0;
    cpu.rsp = frame;
    writeFrame(RFLAGS_IF | (3 << 12));
    cpu.iret();
    expect(cpu.interruptsEnabled).toBe(true);
    expect(cpu.iopl).toBe(3);
    expect(cpu.cpl).toBe(3);
  });

  it("IRET to a more privileged CS is #GP", () => {
    const { cpu, mmu } = setup();
    const frame = 0x10_0000;
    mmu.map(frame, 0x1000, true);
    [USER_RIP, KERNEL_CS, 2, USER_RSP, KERNEL_DS].forEach((v, i) => {
      mmu.store32(frame + 8 * i, v);
    });
    cpu.cpl = 3;
    cpu.rsp = frame;
    expect(() => cpu.iret()).toThrow(GeneralProtection);
    expect(cpu.cpl).toBe(3);
  });

  it("charges interrupt entry/exit to irq and INT n/IRET to crossing", () => {
    const { cpu, clock } = setup();
    toUser(cpu);
    cpu.deliverInterrupt(32);
    cpu.iret();
    expect(clock.byCategory().irq).toBe(440 + 270);
    cpu.intN(0x80);
    cpu.iret();
    expect(clock.byCategory().crossing).toBe(440 + 270);
    cpu.deliver(X86_TRAP_GP, { errorCode: 0 });
    expect(clock.byCategory().exception).toBe(440);
  });

  it("rejects host-side misuse with RangeError", () => {
    const { cpu } = setup();
    expect(() => cpu.deliver(256)).toThrow(RangeError);
    expect(() => cpu.deliver(-1)).toThrow(RangeError);
    expect(() => cpu.deliver(14, { errorCode: 2 ** 32 })).toThrow(RangeError);
    expect(() => cpu.deliver(14, { cr2: 2 ** 48 })).toThrow(RangeError);
  });
});

describe("syscall / sysret", () => {
  it("round trip: RCX/R11, FMASK, LSTAR, STAR selectors, CPL and AC", () => {
    const { cpu, mmu, clock } = setup();
    toUser(cpu);
    cpu.rflags = RFLAGS_IF | RFLAGS_AC;
    cpu.syscall();
    expect(cpu.cpl).toBe(0);
    expect(mmu.cpl).toBe(0);
    expect(cpu.rip).toBe(SYSCALL_ENTRY);
    expect(cpu.rcx).toBe(USER_RIP);
    expect(cpu.r11).toBe(RFLAGS_IF | RFLAGS_AC | 2);
    expect(cpu.interruptsEnabled).toBe(false);
    expect(mmu.ac).toBe(false);
    expect(cpu.cs).toBe(KERNEL_CS);
    expect(cpu.ss).toBe(KERNEL_DS);
    expect(cpu.rsp).toBe(USER_RSP); // SYSCALL does not switch stacks
    cpu.sysret();
    expect(cpu.cpl).toBe(3);
    expect(mmu.cpl).toBe(3);
    expect(cpu.rip).toBe(USER_RIP);
    expect(cpu.cs).toBe(USER_CS);
    expect(cpu.ss).toBe(USER_DS);
    expect(cpu.rflags).toBe(RFLAGS_IF | RFLAGS_AC | 2);
    expect(mmu.ac).toBe(true);
    expect(clock.byCategory().crossing).toBe(70 + 70);
  });

  it("SYSRET at CPL 3 is #GP(0)", () => {
    const { cpu } = setup();
    toUser(cpu);
    const e = catchError(() => cpu.sysret()) as GeneralProtection;
    expect(e).toBeInstanceOf(GeneralProtection);
    expect(e.vector).toBe(X86_TRAP_GP);
    expect(e.errorCode).toBe(0);
    expect(cpu.cpl).toBe(3);
  });

  it("SYSCALL and SYSRET without EFER.SCE are #UD", () => {
    const { cpu, mmu } = setup();
    cpu.wrmsr(0xc000_0080, mmu.efer & ~EFER_SCE);
    expect(() => cpu.sysret()).toThrow(InvalidOpcode);
    toUser(cpu);
    const e = catchError(() => cpu.syscall()) as InvalidOpcode;
    expect(e).toBeInstanceOf(InvalidOpcode);
    expect(e.vector).toBe(X86_TRAP_UD);
    expect(e.message).toBe("#UD: SYSCALL with EFER.SCE = 0");
    expect(cpu.cpl).toBe(3);
  });

  it("SYSRET to a non-canonical RCX is #GP", () => {
    const { cpu } = setup();
    cpu.rcx = 2 ** 48;
    expect(() => cpu.sysret()).toThrow(/non-canonical/);
  });
});

describe("sysenter / sysexit", () => {
  it("round trip through the SYSENTER MSRs", () => {
    const { cpu, clock } = setup();
    cpu.wrmsr(MSR_SYSENTER_CS, KERNEL_CS);
    cpu.wrmsr(MSR_SYSENTER_ESP, RSP0_TOP);
    cpu.wrmsr(MSR_SYSENTER_EIP, SYSCALL_ENTRY);
    toUser(cpu);
    cpu.sysenter();
    expect(cpu.cpl).toBe(0);
    expect(cpu.rsp).toBe(RSP0_TOP);
    expect(cpu.rip).toBe(SYSCALL_ENTRY);
    expect(cpu.cs).toBe(KERNEL_CS);
    expect(cpu.ss).toBe(KERNEL_DS);
    expect(cpu.interruptsEnabled).toBe(false);
    cpu.rdx = USER_RIP;
    cpu.rcx = USER_RSP;
    cpu.sysexit();
    expect(cpu.cpl).toBe(3);
    expect(cpu.rip).toBe(USER_RIP);
    expect(cpu.rsp).toBe(USER_RSP);
    expect(cpu.cs).toBe((KERNEL_CS + 32) | 3);
    expect(cpu.ss).toBe((KERNEL_CS + 40) | 3);
    expect(clock.byCategory().crossing).toBe(210 + 210);
  });

  it("SYSENTER with SYSENTER_CS = 0 is #GP", () => {
    const { cpu } = setup();
    toUser(cpu);
    expect(() => cpu.sysenter()).toThrow(GeneralProtection);
  });
});

describe("address-space switch and control registers", () => {
  it("charges the flushing or the no-flush CR3 write", () => {
    const { cpu, mmu, clock } = setup();
    cpu.switchAddressSpace(0x5000);
    expect(clock.byCategory().crossing).toBe(133);
    cpu.movToCr(4, mmu.cr4 | CR4_PCIDE);
    cpu.switchAddressSpace(0x6001, { noFlush: true });
    expect(clock.byCategory().crossing).toBe(133 + 100);
    expect(mmu.cr3Writes).toEqual([
      { value: 0x5000, noFlush: false },
      { value: 0x6001, noFlush: true },
    ]);
    expect(cpu.movFromCr(3)).toBe(0x6001);
  });

  it("CR2/CR8 checks and unknown CRs", () => {
    const { cpu } = setup();
    cpu.movToCr(8, 15);
    expect(cpu.movFromCr(8)).toBe(15);
    expect(() => cpu.movToCr(8, 16)).toThrow(GeneralProtection);
    expect(() => cpu.movToCr(5, 0)).toThrow(InvalidOpcode);
    expect(() => cpu.movFromCr(1)).toThrow(InvalidOpcode);
    cpu.movToCr(2, 0x1234);
    expect(cpu.movFromCr(2)).toBe(0x1234);
  });
});

describe("MSRs", () => {
  it("round-trips STAR and the address MSRs, rejects bad values and unknown MSRs", () => {
    const { cpu } = setup();
    expect(cpu.rdmsr(MSR_STAR)).toBe(STAR_LINUX);
    expect(cpu.rdmsr(MSR_LSTAR)).toBe(SYSCALL_ENTRY);
    expect(() => cpu.wrmsr(MSR_LSTAR, 2 ** 48)).toThrow(/non-canonical/);
    expect(() => cpu.wrmsr(MSR_FMASK, 2 ** 32)).toThrow(/reserved/);
    expect(() => cpu.rdmsr(0x1234)).toThrow(/MSR 0x1234/);
    expect(() => cpu.wrmsr(0x1234, 0)).toThrow(GeneralProtection);
  });

  it("SWAPGS exchanges GS_BASE and KERNEL_GS_BASE", () => {
    const { cpu } = setup();
    cpu.wrmsr(MSR_GS_BASE, 0x1000);
    cpu.wrmsr(MSR_KERNEL_GS_BASE, KERNEL + 0x2000);
    cpu.swapgs();
    expect(cpu.rdmsr(MSR_GS_BASE)).toBe(KERNEL + 0x2000);
    expect(cpu.rdmsr(MSR_KERNEL_GS_BASE)).toBe(0x1000);
  });

  it("the TSC follows the clock and WRMSR TSC sets an offset", () => {
    const { cpu, clock } = setup();
    clock.charge("kernel", 1000);
    expect(cpu.rdtsc()).toBe(1000);
    cpu.wrmsr(MSR_TSC, 50);
    clock.charge("kernel", 10);
    expect(cpu.rdtsc()).toBe(60);
  });
});

describe("port I/O", () => {
  it("passes granted accesses to the I/O target, and floats without one", () => {
    const log: string[] = [];
    const { cpu } = setup();
    expect(cpu.in(0x60, 1)).toBe(0xff);
    expect(cpu.in(0x60, 4)).toBe(0xffff_ffff);
    cpu.io = {
      read: (port, size) => {
        log.push(`r ${port.toString(16)} ${size}`);
        return 0x42;
      },
      write: (port, size, value) => {
        log.push(`w ${port.toString(16)} ${size} ${value}`);
      },
    };
    cpu.tss.grantPorts(0xc000, 0x40);
    cpu.cpl = 3;
    expect(cpu.in(0xc000, 4)).toBe(0x42);
    cpu.out(0xc03c, 4, 0xdead_beef);
    expect(log).toEqual(["r c000 4", `w c03c 4 ${0xdead_beef}`]);
    const e = catchError(() => cpu.out(0xc03e, 4, 0)) as GeneralProtection;
    expect(e.message).toBe(
      "#GP(0): OUT port 0xc03e..0xc041 (4 bytes) at CPL 3 > IOPL 0: not granted in the TSS I/O bitmap",
    );
    expect(log.length).toBe(2);
  });

  it("rejects bad ports, sizes and values with RangeError", () => {
    const { cpu } = setup();
    expect(() => cpu.in(0x1_0000, 1)).toThrow(RangeError);
    expect(() => cpu.in(0x60, 3)).toThrow(RangeError);
    expect(() => cpu.out(0x60, 1, 0x100)).toThrow(RangeError);
    expect(() => cpu.out(0x60, 2, -1)).toThrow(RangeError);
  });
});
