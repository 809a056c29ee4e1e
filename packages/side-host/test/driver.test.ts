import { type DriverModule, GFP_KERNEL } from "@side-kernel/kservice";
import { describe, expect, it } from "vitest";
import { KernelPanic, MODULES_VADDR, ModuleLeak } from "../src/index.js";
import { bootKernel, expectNoLeaks } from "./helpers.js";
import { STATUS, statusDriver } from "./status-driver.js";

describe("driver loader with a tiny non-e1000 driver", () => {
  it("probes through the id table, reads STATUS through pci_ioremap_bar, logs it and unloads cleanly", () => {
    const { kernel, machine } = bootKernel();
    const inst = kernel.loadDriver(statusDriver, { mode: "native" });
    expect(inst.state).toBe("live");
    expect(inst.textBase).toBeGreaterThanOrEqual(MODULES_VADDR);
    expect(inst.fn("probe")).toBe(inst.textBase + 16 * 2);
    // the value logged is what the device really has in STATUS (read behind the driver's back)
    const dev = kernel.pci.find(0, 3)!;
    const statusNow = machine.bus.mmioRead(dev.starts[0] + STATUS, 4);
    expect(kernel.log.contains(`STATUS = 0x${statusNow.toString(16)}`)).toBe(true);
    expect(inst.ledger.count("iomap")).toBe(1);
    expect(inst.ledger.count("pci-enable")).toBe(1);
    expect(dev.driver?.name).toBe("status-probe");
    kernel.unloadDriver(inst);
    expect(inst.ledger.count()).toBe(0);
    expect(dev.driver).toBeNull();
    expectNoLeaks(kernel);
  });

  it("a bad code address in native mode is a kernel panic", () => {
    const { kernel } = bootKernel();
    const inst = kernel.loadDriver(statusDriver, { mode: "native" });
    expect(() => inst.call(inst.textBase + 8)).toThrow(KernelPanic);
    expect(() => inst.call(0xdead_beef)).toThrow(/not an entry point of module status-probe/);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });

  it("an exception escaping native driver code is an oops (KernelPanic) naming the entry point", () => {
    const { kernel } = bootKernel();
    const bad: DriverModule = {
      name: "wild",
      entryPoints: {
        init: (k) => {
          k.load32(0x1000); // unmapped user address at ring 0
          return 0;
        },
        exit: () => 0,
      },
      init: "init",
      exit: "exit",
    };
    expect(() => kernel.loadDriver(bad, { mode: "native" })).toThrow(/Oops in wild:init at ring 0: #PF/);
  });

  it("an unload that leaves resources held reports them by kind", () => {
    const { kernel } = bootKernel();
    const leaky: DriverModule = {
      name: "leaky",
      entryPoints: {
        init: (k) => (k.kmalloc(100, GFP_KERNEL) === 0 ? -12 : 0),
        exit: () => 0,
      },
      init: "init",
      exit: "exit",
    };
    const inst = kernel.loadDriver(leaky, { mode: "native" });
    expect(() => kernel.unloadDriver(inst)).toThrow(ModuleLeak);
    expect(inst.ledger.summary()).toEqual({ heap: 1 });
    expect(() => kernel.shutdown()).toThrow(/heap blocks still allocated/);
  });

  it("rejects a module whose init is not an entry point", () => {
    const { kernel } = bootKernel();
    expect(() =>
      kernel.loadDriver(
        { name: "x", entryPoints: { a: () => 0 }, init: "init", exit: "a" },
        { mode: "native" },
      ),
    ).toThrow(TypeError);
    // the same malformed module in isolated mode: rejected, its domain torn down again
    expect(() =>
      kernel.loadDriver(
        { name: "x", entryPoints: { a: () => 0 }, init: "init", exit: "a" },
        { mode: "isolated" },
      ),
    ).toThrow(TypeError);
    expect(() => kernel.loadDriver(statusDriver, { mode: "bogus" as "native" })).toThrow(/not supported/);
    expectNoLeaks(kernel);
  });
});
