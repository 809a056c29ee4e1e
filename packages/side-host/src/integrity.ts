/**
 * The kernel integrity checker (DESIGN.md, "Faults and recovery": "kernel intact" is decided by
 * walking page tables and kernel structures and comparing checksums of kernel memory).
 *
 * `snapshot()` checksums what a driver must never change: the kernel's page tables (A/D bits
 * masked, driver-region subtrees left out: the kernel maps pages there on the driver's behalf),
 * the pci_devs (identity, IRQ, resources), the PCI configuration headers, and CPU state that
 * only the kernel may set (CR3 and CR4 in the kernel's context, RFLAGS.IF and IOPL, HLT, the
 * IDT, the kernel TSS's RSP0 and I/O bitmap, the syscall MSRs). `check(before)` compares a new
 * snapshot with `before` and audits the kernel map against what it must be:
 *
 * - kernel PML4: no user half; slots 256..511 present and supervisor, except the region slot of
 *   a sharedPageTable domain;
 * - no user-accessible leaf outside a driver region; the direct map supervisor, NX, global;
 * - each driver domain's PML4: no user half, the kernel's entries 256..511 (same tables), only
 *   its own region slot U/S=1.
 */
import { PCI_COMMAND, PciDev } from "@side-kernel/kservice";
import { ENTRY_SIZE, PAGE_SIZE, PTE_A, PTE_D, PTE_P, PTE_PS, PTE_US } from "@side-kernel/paging";
import { MSR_FMASK, MSR_LSTAR, MSR_STAR } from "@side-kernel/privilege";
import { hexAddr } from "./errors.js";
import { IsolatedDriverInstance } from "./isolated-binding.js";
import type { Kernel } from "./kernel.js";
import {
  DRIVER_REGION_SLOTS,
  DRIVER_REGION_START,
  KERNEL_PML4_COUNT,
  KERNEL_PML4_FIRST,
  PAGE_OFFSET,
  pml4Slot,
} from "./layout.js";

/** Checksums of what a driver must not change, by name. */
export type IntegritySnapshot = Readonly<Record<string, number>>;

/** The verdict of `IntegrityChecker.check`. */
export interface IntegrityReport {
  /** True when nothing changed and the map audit found nothing. */
  readonly intact: boolean;
  /** What changed or is wrong, one line each. */
  readonly problems: readonly string[];
}

/** The Command register: the low half of the dword at PCI_COMMAND. */
const COMMAND_MASK = 0xffff;
const ENTRIES = PAGE_SIZE / ENTRY_SIZE;
/** Bytes of the type-0 configuration header compared (hardware.md 4.2). */
const CONFIG_HEADER_BYTES = 64;
/** FNV-1a 32-bit offset basis and prime. */
const FNV_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const FIRST_DRIVER_SLOT = pml4Slot(DRIVER_REGION_START);
/** Bits 11:0 of an entry: flags, not address. */
const PAGE_OFFSET_MASK = PAGE_SIZE - 1;
/** Address bits 51:32 of an entry, in its high dword. */
const ADDRESS_HI_MASK = 0xfffff;

function fnv(h: number, v: number): number {
  return Math.imul(h ^ (v >>> 0), FNV_PRIME) >>> 0;
}

/** Checks a kernel for corruption by a driver. */
export class IntegrityChecker {
  constructor(private readonly kn: Kernel) {}

  /** Checksums of the protected kernel state now. Never throws for corrupt tables. */
  snapshot(): IntegritySnapshot {
    const kn = this.kn;
    const cpu = kn.machine.cpu;
    const u32 = kn.machine.memory.u32;
    const out: Record<string, number> = {};
    out["page tables"] = this.hashTables(kn.space.root, 0, FNV_BASIS);
    for (const d of kn.pci.list()) {
      const base = kn.physicalOf(d.ptr);
      let h = FNV_BASIS;
      for (let off = 0; off < PciDev.SIZE; off += 4) {
        if (off >= PciDev.dmaMask && off < PciDev.resource) continue; // DMA mask, driver_data: the kernel's to change
        h = fnv(h, u32[(base + off) >>> 2]);
      }
      out[`pci_dev ${d.name}`] = h;
      let c = FNV_BASIS;
      for (let off = 0; off < CONFIG_HEADER_BYTES; off += 4) {
        const dword = kn.machine.bus.configRead(d.fn.bdf, off, 4);
        // Status (the high half at 0x04) is the device's state, not the kernel's: its interrupt
        // status bit follows INTx and its error bits are set by hardware. Hash Command only.
        c = fnv(c, off === PCI_COMMAND ? dword & COMMAND_MASK : dword);
      }
      out[`PCI config ${d.name}`] = c;
    }
    out.CR4 = cpu.cr4;
    out["RFLAGS.IF"] = cpu.interruptsEnabled ? 1 : 0;
    out["RFLAGS.IOPL"] = cpu.iopl;
    out.halted = cpu.halted ? 1 : 0;
    if (cpu.cpl === 0 && kn.current === null) out.CR3 = cpu.cr3;
    let idt = FNV_BASIS;
    for (let v = 0; v < cpu.idt.handlers.length; v++) {
      idt = fnv(idt, cpu.idt.handlers[v] % 2 ** 32);
      idt = fnv(idt, cpu.idt.attributes[v]);
    }
    out.IDT = idt;
    let tss = fnv(FNV_BASIS, cpu.tss.rsp0 % 2 ** 32);
    for (let i = 0; i < cpu.tss.ioBitmap.length; i++) tss = fnv(tss, cpu.tss.ioBitmap[i]);
    out["kernel TSS"] = tss;
    if (cpu.cpl === 0) {
      for (const [name, msr] of [
        ["MSR_LSTAR", MSR_LSTAR],
        ["MSR_STAR", MSR_STAR],
        ["MSR_FMASK", MSR_FMASK],
      ] as const) {
        out[name] = cpu.rdmsr(msr) % 2 ** 32;
      }
    }
    return out;
  }

  private hashTables(table: number, level: number, h: number): number {
    const u32 = this.kn.machine.memory.u32;
    const size = this.kn.machine.memory.size;
    const w = table >>> 2;
    for (let i = 0; i < ENTRIES; i++) {
      const lo = u32[w + 2 * i];
      const hi = u32[w + 2 * i + 1];
      h = fnv(fnv(h, lo & ~(PTE_A | PTE_D)), hi);
      if ((lo & PTE_P) === 0 || level === 3 || (level > 0 && (lo & PTE_PS) !== 0)) continue;
      if (level === 0 && i >= FIRST_DRIVER_SLOT && i < FIRST_DRIVER_SLOT + DRIVER_REGION_SLOTS) continue;
      // physical memory is below 4 GiB (paging's MAX_MEMORY_SIZE): address bits 51:32 must be 0
      const pa = (lo & ~PAGE_OFFSET_MASK) >>> 0;
      if ((hi & ADDRESS_HI_MASK) !== 0 || pa + PAGE_SIZE > size) continue;
      h = this.hashTables(pa, level + 1, h);
    }
    return h;
  }

  /** The map audit alone: what is wrong with the kernel's and the domains' top-level tables and leaves. */
  audit(): string[] {
    const kn = this.kn;
    const u32 = kn.machine.memory.u32;
    const problems: string[] = [];
    const root = kn.space.root >>> 2;
    const sharedSlots = new Set<number>();
    const domains: IsolatedDriverInstance[] = [];
    for (const inst of kn.instances.values()) {
      if (!(inst instanceof IsolatedDriverInstance) || inst.domain.isDestroyed) continue;
      domains.push(inst);
      if (inst.domain.sharedPageTable) sharedSlots.add(pml4Slot(inst.domain.start));
    }
    for (let i = 0; i < KERNEL_PML4_FIRST; i++) {
      if ((u32[root + 2 * i] & PTE_P) !== 0) problems.push(`kernel PML4 slot ${i} (user half) is present`);
    }
    for (let i = KERNEL_PML4_FIRST; i < KERNEL_PML4_FIRST + KERNEL_PML4_COUNT; i++) {
      const lo = u32[root + 2 * i];
      if ((lo & PTE_P) === 0) problems.push(`kernel PML4 slot ${i} is not present`);
      else if ((lo & PTE_US) !== 0 && !sharedSlots.has(i))
        problems.push(`kernel PML4 slot ${i} is user-accessible`);
    }
    const report = kn.space.audit();
    for (const p of report.problems) problems.push(`page table at ${hexAddr(p.va)}: ${p.reason}`);
    const memSize = kn.machine.memory.size;
    for (const m of report) {
      const inRegion =
        pml4Slot(m.va) >= FIRST_DRIVER_SLOT && pml4Slot(m.va) < FIRST_DRIVER_SLOT + DRIVER_REGION_SLOTS;
      if (m.flags.user && !inRegion) problems.push(`user-accessible kernel page at ${hexAddr(m.va)}`);
      if (m.va >= PAGE_OFFSET && m.va < PAGE_OFFSET + memSize) {
        if (m.pa !== m.va - PAGE_OFFSET || m.flags.user || !m.flags.noExecute) {
          problems.push(
            `direct map at ${hexAddr(m.va)} maps ${m.pa} with user=${m.flags.user} nx=${m.flags.noExecute}`,
          );
        }
      }
    }
    for (const inst of domains) {
      const space = inst.domain.space;
      if (space === null) continue;
      const d = space.root >>> 2;
      const own = pml4Slot(inst.domain.start);
      for (let i = 0; i < KERNEL_PML4_FIRST; i++) {
        if ((u32[d + 2 * i] & PTE_P) !== 0)
          problems.push(`domain ${inst.domain.slot} PML4 slot ${i} (user half) is present`);
      }
      for (let i = KERNEL_PML4_FIRST; i < KERNEL_PML4_FIRST + KERNEL_PML4_COUNT; i++) {
        const lo = u32[d + 2 * i];
        const klo = u32[root + 2 * i];
        if (
          (lo & ~PTE_US & ~(PTE_A | PTE_D)) !== (klo & ~PTE_US & ~(PTE_A | PTE_D)) ||
          u32[d + 2 * i + 1] !== u32[root + 2 * i + 1]
        ) {
          problems.push(`domain ${inst.domain.slot} PML4 slot ${i} does not share the kernel's table`);
        }
        if (((lo & PTE_US) !== 0) !== (i === own))
          problems.push(`domain ${inst.domain.slot} PML4 slot ${i} has the wrong U/S`);
      }
    }
    return problems;
  }

  /** Compare with `before` (a snapshot) and audit the map. */
  check(before: IntegritySnapshot): IntegrityReport {
    const now = this.snapshot();
    const problems: string[] = [];
    for (const key of Object.keys(before)) {
      if (!(key in now)) continue;
      if (now[key] !== before[key]) problems.push(`${key} changed`);
    }
    problems.push(...this.audit());
    return { intact: problems.length === 0, problems };
  }
}
