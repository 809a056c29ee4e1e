// The driver domain: where the driver's memory lives, who can reach it, at which privilege its
// code runs, and what a crossing costs.
import { e1000Driver } from "@side-kernel/driver-e1000";
import { AddressSpace, PageFault, PF_USER } from "@side-kernel/paging";
import { describe, expect, it } from "vitest";
import {
  DRIVER_REGION_START,
  IntegrityChecker,
  type IsolatedDriverInstance,
  KERNEL_PML4_COUNT,
  KERNEL_PML4_FIRST,
  type Kernel,
  PML4_SLOT_SIZE,
} from "../src/index.js";
import { buggyDriver } from "./buggy-driver.js";
import { bootKernel, expectNoLeaks } from "./helpers.js";

/** A process address space built as the scheduler builds one: the kernel half shared, a user half. */
function processSpace(kernel: Kernel): AddressSpace {
  const space = new AddressSpace(kernel.machine.memory, kernel.machine.frames);
  space.shareRootEntries(kernel.space, KERNEL_PML4_FIRST, KERNEL_PML4_COUNT);
  return space;
}

/** A user-mode load in `space` (CPL 3, its CR3), the CPU put back afterwards. */
function userLoad(kernel: Kernel, space: AddressSpace, va: number): number | PageFault {
  const cpu = kernel.machine.cpu;
  const cr3 = cpu.cr3;
  cpu.switchAddressSpace(space.root);
  cpu.cpl = 3;
  try {
    return kernel.machine.mmu.load32(va);
  } catch (e) {
    if (e instanceof PageFault) return e;
    throw e;
  } finally {
    cpu.cpl = 0;
    cpu.switchAddressSpace(cr3);
  }
}

const inRegion = (va: number) => va >= DRIVER_REGION_START && va < DRIVER_REGION_START + PML4_SLOT_SIZE;

describe("driver domain", () => {
  it("the driver's net_device, private area, rings and MMIO mapping sit in its region; the map audits clean", () => {
    const { kernel } = bootKernel();
    const inst = kernel.loadDriver(e1000Driver, { mode: "isolated" }) as IsolatedDriverInstance;
    const eth0 = kernel.net.byName("eth0")!;
    expect(inRegion(eth0.ptr)).toBe(true);
    expect(inRegion(inst.textBase)).toBe(true);
    for (const e of inst.ledger.entries()) {
      if (e.kind === "heap" || e.kind === "dma-coherent" || e.kind === "iomap" || e.kind === "vmem") {
        expect(inRegion(e.key), `${e.kind} ${e.key.toString(16)}`).toBe(true);
      }
    }
    expect(inst.ledger.count("iomap")).toBe(1);
    // only the region's top-level entry is user-accessible in the domain's own PML4
    expect(new IntegrityChecker(kernel).audit()).toEqual([]);
    const own = inst.domain.space!.query(eth0.ptr)!;
    expect(own.flags.user).toBe(true);
    expect(own.flags.global).toBe(false);
    kernel.unloadDriver(inst);
    expect(inst.domain.isDestroyed).toBe(true);
    expectNoLeaks(kernel);
  });

  it("no user process can read or write the driver's memory (#PF with U/S)", () => {
    const { kernel } = bootKernel();
    const inst = kernel.loadDriver(e1000Driver, { mode: "isolated" });
    const eth0 = kernel.net.byName("eth0")!;
    const space = processSpace(kernel);
    const r = userLoad(kernel, space, eth0.ptr);
    expect(r).toBeInstanceOf(PageFault);
    expect((r as PageFault).errorCode & PF_USER).toBe(PF_USER);
    space.destroy();
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });

  it("sharedPageTable: the region is user-accessible in every address space, so a process reads the driver's memory", () => {
    const { kernel } = bootKernel();
    const inst = kernel.loadDriver(e1000Driver, {
      mode: "isolated",
      sharedPageTable: true,
    }) as IsolatedDriverInstance;
    expect(inst.domain.space).toBeNull();
    const eth0 = kernel.net.byName("eth0")!;
    const space = processSpace(kernel);
    const r = userLoad(kernel, space, eth0.ptr);
    expect(r).not.toBeInstanceOf(PageFault);
    expect(r).toBe(kernel.machine.mmu.load32(eth0.ptr)); // the hole: the net_device, as the kernel sees it
    space.destroy();
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });

  it("driver code runs at CPL 3 in the domain's CR3 (from a timer, whatever context); natively at CPL 0", () => {
    for (const mode of ["native", "isolated"] as const) {
      const { kernel } = bootKernel({ peer: "none" });
      const seen: { cpl: number; cr3: number }[] = [];
      const inst = kernel.loadDriver(
        buggyDriver(() => seen.push({ cpl: kernel.machine.cpu.cpl, cr3: kernel.machine.cpu.cr3 })),
        { mode },
      );
      kernel.machine.run({ untilNs: kernel.nowNs + 50e6 });
      expect(seen).toHaveLength(1);
      if (mode === "isolated") {
        const dom = (inst as IsolatedDriverInstance).domain;
        expect(seen[0]).toEqual({ cpl: 3, cr3: dom.cr3 });
      } else {
        expect(seen[0]).toEqual({ cpl: 0, cr3: kernel.space.root });
      }
      // back in the kernel at ring 0 in its own address space
      expect(kernel.machine.cpu.cpl).toBe(0);
      expect(kernel.machine.cpu.cr3).toBe(kernel.space.root);
      kernel.unloadDriver(inst);
      expectNoLeaks(kernel);
    }
  });

  it("one crossing costs intNEntry + iret + 2 x cr3WriteFlush", () => {
    const { kernel, machine } = bootKernel({ peer: "none" });
    const costs = machine.cpu.costs;
    let delta = -1;
    const inst = kernel.loadDriver(
      buggyDriver((k, ctx) => {
        const c0 = machine.clock.categoryCycles("crossing");
        k.netif_carrier_off(ctx.netdev);
        delta = machine.clock.categoryCycles("crossing") - c0;
      }),
      { mode: "isolated" },
    ) as IsolatedDriverInstance;
    machine.run({ untilNs: kernel.nowNs + 50e6 });
    expect(inst.fault).toBeNull();
    expect(delta).toBe(costs.intNEntry + costs.iret + 2 * costs.cr3WriteFlush);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});
