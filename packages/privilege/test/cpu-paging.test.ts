// The Cpu over @side-kernel/paging's real Mmu and page tables in simulated memory.
import {
  AddressSpace,
  CR4_SMAP,
  FrameAllocator,
  Mmu,
  PageFault,
  PhysicalMemory,
  RFLAGS_AC,
  RFLAGS_IF,
  X86_TRAP_DF,
  X86_TRAP_PF,
} from "@side-kernel/paging";
import { describe, expect, it } from "vitest";
import { Cpu, Idt, SimClock, USER_CS, USER_DS } from "../src/index.js";

const KERNEL = 0x8000_0000_0000;
const RSP0_TOP = KERNEL + 0x10_2000;
const IST1_TOP = KERNEL + 0x20_2000;
const PF_HANDLER = KERNEL + 0x40_0000;
const DF_HANDLER = KERNEL + 0x40_1000;
const PAGE = 4096;

function machine(options: { rsp0User?: boolean; mapRsp0?: boolean } = {}) {
  const memory = new PhysicalMemory(4 * 1024 * 1024);
  const frames = new FrameAllocator(memory);
  const space = new AddressSpace(memory, frames);
  if (options.mapRsp0 !== false) {
    space.map(RSP0_TOP - PAGE, frames.alloc(), PAGE, { writable: true, user: options.rsp0User === true });
  }
  space.map(IST1_TOP - PAGE, frames.alloc(), PAGE, { writable: true });
  const mmu = new Mmu(memory);
  mmu.writeCr3(space.root);
  const clock = new SimClock();
  const cpu = new Cpu({ mmu, clock });
  cpu.tss.rsp0 = RSP0_TOP;
  cpu.tss.setIst(1, IST1_TOP);
  const idt = new Idt();
  idt.setGate(X86_TRAP_PF, { handler: PF_HANDLER });
  idt.setGate(X86_TRAP_DF, { handler: DF_HANDLER, ist: 1 });
  cpu.lidt(idt);
  cpu.rflags = RFLAGS_IF;
  cpu.rip = 0x40_1000;
  cpu.rsp = 0x7fff_f000;
  cpu.cpl = 3;
  return { memory, space, mmu, cpu, clock };
}

describe("Cpu over the paging Mmu", () => {
  it("writes the #PF frame into the page tables' kernel stack and IRETs back", () => {
    const { mmu, cpu } = machine();
    cpu.deliver(X86_TRAP_PF, { errorCode: 4, cr2: 0x1000 });
    expect(mmu.cpl).toBe(0);
    const sp = cpu.rsp;
    expect(sp).toBe(RSP0_TOP - 48);
    expect(mmu.load64(sp)).toBe(4);
    expect(mmu.loadPtr(sp + 8)).toBe(0x40_1000);
    expect(mmu.load64(sp + 16)).toBe(USER_CS);
    expect(mmu.loadPtr(sp + 32)).toBe(0x7fff_f000);
    // IRET reads RIP, CS, RFLAGS, RSP and SS: seven dword accesses, the frame being cached.
    mmu.resetCounters();
    cpu.iret(true);
    expect(mmu.accesses).toBe(7);
    expect(mmu.fastPathHits()).toBe(7);
    expect(cpu.cpl).toBe(3);
    expect(mmu.cpl).toBe(3);
    expect(cpu.rip).toBe(0x40_1000);
  });

  it("an unmapped RSP0 is a real #PF from the Mmu, turned into #DF on IST1", () => {
    const { cpu, mmu } = machine({ mapRsp0: false });
    cpu.deliver(X86_TRAP_PF, { errorCode: 4, cr2: 0x1000 });
    expect(cpu.rip).toBe(DF_HANDLER);
    expect(cpu.cr2).toBe(RSP0_TOP - 8);
    expect(cpu.lastDoubleFault?.second).toBeInstanceOf(PageFault);
    expect(mmu.load64(cpu.rsp)).toBe(0);
  });

  it("pushes a frame that straddles a page from the top: a fault below the boundary leaves the slots above it written", () => {
    const { cpu, mmu, memory, space } = machine();
    // RSP0 16 bytes into its page: SS and RSP fit above the boundary, the rest falls in the
    // unmapped page below, so the RFLAGS push faults (-> #DF on IST1).
    cpu.tss.rsp0 = RSP0_TOP - PAGE + 16;
    cpu.deliver(X86_TRAP_PF, { errorCode: 4, cr2: 0x1000 });
    expect(cpu.rip).toBe(DF_HANDLER);
    expect(cpu.cr2).toBe(RSP0_TOP - PAGE - 8);
    const pa = space.query(RSP0_TOP - PAGE)!.pa;
    const view = new DataView(memory.u8.buffer);
    expect(view.getUint32(pa + 8, true)).toBe(USER_DS); // SS
    expect(view.getUint32(pa, true)).toBe(0x7fff_f000); // RSP
    // The same delivery with the frame inside the page is written whole, in one go.
    cpu.cpl = 3;
    cpu.tss.rsp0 = RSP0_TOP;
    mmu.resetCounters();
    cpu.deliver(X86_TRAP_PF, { errorCode: 4, cr2: 0x1000 });
    expect(cpu.rip).toBe(PF_HANDLER);
    expect(mmu.accesses).toBe(12);
    expect(mmu.loadPtr(cpu.rsp + 8)).toBe(DF_HANDLER); // the RIP it was at
  });

  it("frame pushes are supervisor accesses that RFLAGS.AC does not open under SMAP", () => {
    const { cpu, mmu } = machine({ rsp0User: true });
    cpu.cpl = 0;
    cpu.movToCr(4, mmu.cr4 | CR4_SMAP);
    cpu.cpl = 3;
    cpu.rflags = RFLAGS_IF | RFLAGS_AC;
    cpu.deliver(X86_TRAP_PF, { errorCode: 4 });
    // The push to the user-accessible RSP0 page faults (SMAP), so delivery ends in #DF.
    expect(cpu.rip).toBe(DF_HANDLER);
    const second = cpu.lastDoubleFault!.second;
    expect(second).toBeInstanceOf(PageFault);
    expect((second as PageFault).address).toBe(RSP0_TOP - 8);
  });

  it("chargeAccesses charges the Mmu's accesses and TLB misses after a flushing CR3 switch", () => {
    const { cpu, mmu, clock, space } = machine();
    cpu.deliver(X86_TRAP_PF, { errorCode: 4 });
    clock.chargeAccesses(mmu, "kernel");
    const before = clock.byCategory();
    expect(before.kernel).toBeGreaterThanOrEqual(12); // 6 slots x 2 dword stores
    cpu.switchAddressSpace(space.root);
    mmu.load64(cpu.rsp);
    clock.chargeAccesses(mmu, "kernel");
    const after = clock.byCategory();
    expect(after["tlb-miss"]).toBeGreaterThan(before["tlb-miss"] ?? 0);
    expect(after.crossing).toBe(cpu.costs.cr3WriteFlush);
  });
});
