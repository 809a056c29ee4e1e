// Isolation: a buggy driver in isolated mode faults, is stopped and reported, and the kernel stays
// intact and running; the same bug in native mode corrupts the kernel or kills the run.
import { type KernelApi, PciDev } from "@side-kernel/kservice";
import { PF_USER, PF_WRITE } from "@side-kernel/paging";
import { describe, expect, it } from "vitest";
import {
  type DriverFaultReport,
  IntegrityChecker,
  IsolatedDriverInstance,
  type Kernel,
  KernelBug,
  KernelPanic,
  type Machine,
} from "../src/index.js";
import { type Bug, buggyDriver } from "./buggy-driver.js";
import { bootKernel } from "./helpers.js";

/** PCI CONFIG_ADDRESS / CONFIG_DATA ports (hardware.md 4.1) and the config address of 00:03.0 BAR 0. */
const CONFIG_ADDRESS = 0xcf8;
const CONFIG_DATA = 0xcfc;
const BAR0_OF_00_03_0 = 0x8000_1810;
/** A physical page the test gives as a bogus CR3: in the firmware area below 1 MiB, all zeros. */
const JUNK_CR3 = 0x1000;

interface Run {
  kernel: Kernel;
  machine: Machine;
  checker: IntegrityChecker;
  before: ReturnType<IntegrityChecker["snapshot"]>;
}

/** Boot, load the buggy driver, snapshot the kernel; the bug fires on the next timer tick. */
function start(
  mode: "native" | "isolated",
  bug: (kernel: Kernel) => Bug,
): Run & { inst: ReturnType<Kernel["loadDriver"]> } {
  const { kernel, machine } = bootKernel({ peer: "none" });
  const inst = kernel.loadDriver(buggyDriver(bug(kernel)), { mode });
  const checker = new IntegrityChecker(kernel);
  return { kernel, machine, inst, checker, before: checker.snapshot() };
}

function fire(r: Run): void {
  r.machine.run({ untilNs: r.kernel.nowNs + 50e6 });
}

/** The isolated run: one fault of `kind`, driver stopped, kernel intact and still running. */
function expectContained(mode: "isolated", bug: (kernel: Kernel) => Bug, kind: string): DriverFaultReport {
  const r = start(mode, bug);
  const inst = r.inst as IsolatedDriverInstance;
  expect(inst).toBeInstanceOf(IsolatedDriverInstance);
  const seen: DriverFaultReport[] = [];
  inst.onFault((f) => seen.push(f));
  fire(r);
  expect(inst.state).toBe("faulted");
  expect(seen).toHaveLength(1);
  const f = inst.fault!;
  expect(f.kind).toBe(kind);
  expect(f.entryPoint).toBe("fire");
  const report = r.checker.check(r.before);
  expect(report.problems).toEqual([]);
  expect(report.intact).toBe(true);
  // the kernel keeps running: time passes, the driver's timer never fires again, memory still works
  const fired = r.kernel.timers.fired;
  r.machine.run({ untilNs: r.kernel.nowNs + 100e6 });
  expect(r.kernel.timers.fired).toBe(fired);
  const p = r.kernel.heap.alloc(64, 0, true);
  expect(p).not.toBe(0);
  r.kernel.heap.free(p, 0, "test");
  expect(r.kernel.log.contains("driver stopped")).toBe(true);
  return f;
}

const pdevOf = (kernel: Kernel) => kernel.pci.find(0, 3)!.ptr;

describe("isolated mode contains a buggy driver; native mode does not", () => {
  it("a read of a kernel address is a #PF with U/S set; natively it just reads", () => {
    const bug = (kn: Kernel) => (k: KernelApi) => void k.load32(pdevOf(kn) + PciDev.vendor);
    const f = expectContained("isolated", bug, "page-fault");
    expect(f.address).toBeGreaterThan(0);
    expect((f.errorCode ?? 0) & PF_USER).toBe(PF_USER);
    expect((f.errorCode ?? 0) & PF_WRITE).toBe(0);
  });

  it("a write to a kernel address is a #PF (U/S, W); natively the pci_dev is corrupted", () => {
    const bug = (kn: Kernel) => (k: KernelApi) => k.store32(pdevOf(kn) + PciDev.vendor, 0xdead);
    const f = expectContained("isolated", bug, "page-fault");
    expect((f.errorCode ?? 0) & (PF_USER | PF_WRITE)).toBe(PF_USER | PF_WRITE);
    const n = start("native", bug);
    fire(n);
    const report = n.checker.check(n.before);
    expect(report.intact).toBe(false);
    expect(report.problems.join("\n")).toMatch(/pci_dev 0000:00:03\.0 changed/);
  });

  it("cli is a #GP; natively interrupts stay off", () => {
    const bug = () => (k: KernelApi) => k.arch.cli();
    expectContained("isolated", bug, "general-protection");
    const n = start("native", bug);
    fire(n);
    expect(n.checker.check(n.before).problems).toContain("RFLAGS.IF changed");
  });

  it("hlt is a #GP; natively the CPU is left halted", () => {
    const bug = () => (k: KernelApi) => k.arch.hlt();
    expectContained("isolated", bug, "general-protection");
    const n = start("native", bug);
    fire(n);
    expect(n.checker.check(n.before).problems).toContain("halted changed");
  });

  it("a CR3 write is a #GP; natively the kernel runs on a zeroed PML4", () => {
    const bug = () => (k: KernelApi) => k.arch.write_cr3(JUNK_CR3);
    expectContained("isolated", bug, "general-protection");
    const n = start("native", bug);
    fire(n);
    // global kernel entries survive in the TLB for now; the next miss walks a zeroed table
    expect(n.machine.cpu.cr3).toBe(JUNK_CR3);
    expect(n.checker.check(n.before).problems).toContain("CR3 changed");
  });

  it("an out to an ungranted port is a #GP; natively it reprograms a BAR through CF8/CFC", () => {
    const bug = () => (k: KernelApi) => {
      k.outl(BAR0_OF_00_03_0, CONFIG_ADDRESS);
      k.outl(0xdead_0000, CONFIG_DATA);
    };
    const f = expectContained("isolated", bug, "general-protection");
    expect(f.message).toMatch(/0xcf8/);
    const n = start("native", bug);
    fire(n);
    expect(n.checker.check(n.before).problems).toContain("PCI config 0000:00:03.0 changed");
  });

  it("the device's own ports are granted in the domain's TSS, and only those", () => {
    const r = start("isolated", () => () => {});
    const inst = r.inst as IsolatedDriverInstance;
    const io = r.kernel.pci.find(0, 3)!;
    const bar = io.flags.findIndex((fl, i) => io.lens[i] > 0 && (fl & 0x100) !== 0);
    expect(inst.domain.portGrants).toEqual([{ first: io.starts[bar], count: io.lens[bar] }]);
    expect(inst.domain.tss.isPortGranted(io.starts[bar])).toBe(true);
    expect(inst.domain.tss.isPortGranted(CONFIG_ADDRESS)).toBe(false);
    expect(r.kernel.machine.cpu.tss.isPortGranted(io.starts[bar])).toBe(false);
  });

  it("a call of a service that does not exist is an unknown-service fault; natively an oops", () => {
    const bug = () => (k: KernelApi) =>
      (k as unknown as { no_such_service(x: number): void }).no_such_service(1);
    const f = expectContained("isolated", bug, "unknown-service");
    expect(f.service).toBe("no_such_service");
    const n = start("native", bug);
    expect(() => fire(n)).toThrow(KernelPanic);
  });

  it("kfree of a kernel pointer is an illegal argument; natively the run dies", () => {
    const bug = (kn: Kernel) => (k: KernelApi) => k.kfree(pdevOf(kn));
    const f = expectContained("isolated", bug, "illegal-argument");
    expect(f.service).toBe("kfree");
    expect(f.message).toMatch(/kfree: argument 0 \(ptr\)/);
    const n = start("native", bug);
    expect(() => fire(n)).toThrow(KernelBug);
  });

  it("dma_map_single with a length past the region is an illegal argument; natively it is mapped", () => {
    const bug = () => (k: KernelApi, ctx: { pdev: number }) => {
      const end = 0xd000_0000_0000 + 2 ** 39; // the end of region 0
      k.dma_map_single(ctx.pdev, end - 64, 4096, 1);
    };
    const f = expectContained("isolated", bug, "illegal-argument");
    expect(f.service).toBe("dma_map_single");
    expect(f.message).toMatch(/is not inside the driver's region/);
    // natively: a buffer of 64 bytes mapped for 4096 hands the device the kernel memory after it
    const n = start("native", (kn: Kernel) => (k: KernelApi, ctx: { priv: number; pdev: number }) => {
      const dma = k.dma_map_single(ctx.pdev, ctx.priv, 4096, 1);
      expect(kn.dmaMappings.get(dma)?.size).toBe(4096);
    });
    fire(n);
  });

  it("someone else's handle (an IRQ line it does not hold) is an illegal argument; natively a BUG", () => {
    const bug = () => (k: KernelApi) => k.free_irq(5, 0);
    const f = expectContained("isolated", bug, "illegal-argument");
    expect(f.service).toBe("free_irq");
    const n = start("native", bug);
    expect(() => fire(n)).toThrow(KernelBug);
  });

  it("the kernel pci_dev instead of the shadow is not the driver's handle", () => {
    const bug = (kn: Kernel) => (k: KernelApi) => k.pci_set_master(pdevOf(kn));
    const f = expectContained("isolated", bug, "illegal-argument");
    expect(f.message).toMatch(/not a pci-dev owned by this driver/);
  });

  it("an skb freed twice is an illegal argument; natively a BUG", () => {
    const bug = () => (k: KernelApi, ctx: { netdev: number }) => {
      const skb = k.netdev_alloc_skb(ctx.netdev, 128);
      k.dev_kfree_skb_any(skb);
      k.dev_kfree_skb_any(skb);
    };
    const f = expectContained("isolated", bug, "illegal-argument");
    expect(f.service).toBe("dev_kfree_skb_any");
    const n = start("native", bug);
    expect(() => fire(n)).toThrow(/double free/);
  });

  it("a JS exception escaping driver code is an invalid opcode; natively an oops", () => {
    const bug = () => () => {
      throw new Error("boom");
    };
    const f = expectContained("isolated", bug, "invalid-opcode");
    expect(f.message).toMatch(/boom/);
    const n = start("native", bug);
    expect(() => fire(n)).toThrow(KernelPanic);
  });

  it("spinning on a register forever is a lockup (access budget); natively the CPU never comes back", () => {
    const bug = () => (k: KernelApi, ctx: { hw: number }) => {
      for (;;) k.readl(ctx.hw + 8);
    };
    const f = expectContained("isolated", bug, "lockup");
    expect(f.address).toBeGreaterThan(0);
    const n = start("native", bug);
    // a watchdog stands in for "forever": the soft-lockup detector's panic
    n.machine.mmu.accessBudget = 1_000_000;
    expect(() => fire(n)).toThrow(KernelPanic);
  });
});
