import { e1000Driver } from "@side-kernel/driver-e1000";
import { DMA_MAPPING_ERROR, ENOMEM, SERVICES, type ServiceName } from "@side-kernel/kservice";
import { describe, expect, it } from "vitest";
import { Failpoints, failureValue } from "../src/index.js";
import { bootKernel, expectNoLeaks } from "./helpers.js";

describe("Failpoints", () => {
  it("failure values follow the spec table's return kind", () => {
    expect(failureValue("kzalloc", SERVICES.kzalloc)).toBe(0);
    expect(failureValue("pci_enable_device", SERVICES.pci_enable_device)).toBe(-ENOMEM);
    expect(failureValue("dma_map_single", SERVICES.dma_map_single)).toBe(DMA_MAPPING_ERROR);
    expect(failureValue("netif_carrier_ok", SERVICES.netif_carrier_ok)).toBe(0);
    expect(() => failureValue("kfree", SERVICES.kfree)).toThrow(/returns void/);
  });

  it("arm rejects unknown and void services and bad counts precisely", () => {
    const fp = new Failpoints();
    expect(() => fp.arm("nope" as ServiceName)).toThrow(TypeError);
    expect(() => fp.arm("toString" as ServiceName)).toThrow(TypeError);
    expect(() => fp.arm("kfree")).toThrow(/cannot fail/);
    expect(() => fp.arm("kzalloc", { nth: 0 })).toThrow(RangeError);
    expect(() => fp.arm("kzalloc", { nth: 1.5 })).toThrow(RangeError);
    expect(() => fp.arm("kzalloc", { times: 0 })).toThrow(RangeError);
    expect(fp.armed).toBe(0);
  });

  it("fails the nth matching call and the times - 1 after it, then disarms itself", () => {
    const fp = new Failpoints();
    fp.arm("kzalloc", { nth: 2, times: 2 });
    expect(fp.armed).toBe(1);
    const got = [1, 2, 3, 4].map(() => fp.shouldFail("kzalloc", "m"));
    expect(got).toEqual([false, true, true, false]);
    expect(fp.armed).toBe(0);
    expect(fp.injected).toBe(2);
    expect(fp.history).toEqual([
      { service: "kzalloc", driver: "m", value: 0 },
      { service: "kzalloc", driver: "m", value: 0 },
    ]);
    expect(fp.shouldFail("kzalloc", "m")).toBe(false);
  });

  it("matches only its service and, when given, its driver; disarm and clear", () => {
    const fp = new Failpoints();
    fp.arm("kzalloc", { driver: "a", times: Number.POSITIVE_INFINITY });
    expect(fp.shouldFail("kmalloc", "a")).toBe(false);
    expect(fp.shouldFail("kzalloc", "b")).toBe(false);
    expect(fp.shouldFail("kzalloc", "a")).toBe(true);
    expect(fp.shouldFail("kzalloc", "a")).toBe(true);
    expect(fp.seen("kzalloc")).toBe(2);
    fp.disarm("kzalloc");
    expect(fp.armed).toBe(0);
    expect(fp.shouldFail("kzalloc", "a")).toBe(false);
    fp.clear();
    expect(fp.injected).toBe(0);
    expect(fp.history).toEqual([]);
  });
});

describe.each(["native", "isolated"] as const)("failpoints in the service stubs, %s", (mode) => {
  it("a failed call returns the failure value without running: no ledger entry, nothing held", () => {
    const { kernel } = bootKernel();
    kernel.failpoints.arm("pci_register_driver");
    expect(() => kernel.loadDriver(e1000Driver, { mode })).toThrow(/returned -12/);
    expect(kernel.failpoints.injected).toBe(1);
    expect(kernel.failpoints.armed).toBe(0);
    expect(kernel.net.byName("eth0")).toBeUndefined(); // pci_register_driver never ran: no probe
    expectNoLeaks(kernel);
  });

  it("with nothing armed a load runs exactly as before and injects nothing", () => {
    const { kernel } = bootKernel();
    kernel.failpoints.arm("kzalloc", { nth: 1e9 });
    const inst = kernel.loadDriver(e1000Driver, { mode });
    expect(kernel.failpoints.seen("kzalloc")).toBeGreaterThan(0);
    expect(kernel.failpoints.injected).toBe(0);
    expect(kernel.net.byName("eth0")).toBeDefined();
    kernel.failpoints.disarm();
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});
