// Smoke test of the BUILT package under node, bun and deno: a Cpu at CPL 3 faults on CLI,
// then a SYSCALL/SYSRET round trip. Plain JS; throws on failure; prints one line.
import { Cpu, KERNEL_CS, MSR_LSTAR, MSR_STAR, USER_CS, USER32_CS } from "@side-kernel/privilege";

// A minimal MMU (the CpuMmu interface): no paging needed for these instructions.
const mmu = {
  cpl: 0,
  ac: false,
  cr0: 0x8001_0001,
  cr3: 0,
  cr4: 0x20,
  efer: 0xd01, // SCE | LME | LMA | NXE
  accesses: 0,
  mmioReads: 0,
  mmioWrites: 0,
  tlb: { stats: { misses: 0 } },
  writeCr0(v) {
    this.cr0 = v;
  },
  writeCr3(v) {
    this.cr3 = v;
  },
  writeCr4(v) {
    this.cr4 = v;
  },
  writeEfer(v) {
    this.efer = v;
  },
  invlpg() {},
  invpcid() {},
  load32() {
    throw new Error("no memory in the smoke test");
  },
  store32() {
    throw new Error("no memory in the smoke test");
  },
};

const cpu = new Cpu({ mmu });
cpu.wrmsr(MSR_STAR, USER32_CS * 2 ** 48 + KERNEL_CS * 2 ** 32);
cpu.wrmsr(MSR_LSTAR, 0x8000_0010_0000);
cpu.rip = 0x40_1000;
cpu.cpl = 3;

let fault = null;
try {
  cpu.cli();
} catch (e) {
  fault = e;
}
if (fault === null || fault.vector !== 13 || fault.errorCode !== 0)
  throw new Error(`cli at CPL 3: expected #GP(0), got ${fault}`);

cpu.syscall();
if (cpu.cpl !== 0 || mmu.cpl !== 0 || cpu.rip !== 0x8000_0010_0000 || cpu.rcx !== 0x40_1000) {
  throw new Error("syscall did not enter the kernel");
}
cpu.sysret();
if (cpu.cpl !== 3 || cpu.rip !== 0x40_1000 || cpu.cs !== USER_CS) throw new Error("sysret did not return");
if (cpu.clock.byCategory().crossing !== cpu.costs.syscall + cpu.costs.sysret)
  throw new Error("crossing costs not charged");
console.log("privilege ok");
