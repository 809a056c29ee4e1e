/**
 * kernel.net's calls into a driver's other net_device_ops (setRxMode, setMacAddress, txTimeout):
 * what they do around the driver. What the e1000 does when called is in e1000-driver.test.ts.
 */
import { e1000Driver } from "@side-kernel/driver-e1000";
import { IFF_ALLMULTI, IFF_PROMISC, NetDevice, NetDeviceOps } from "@side-kernel/kservice";
import { describe, expect, it } from "vitest";
import { abi, KernelBug } from "../src/index.js";
import { bootKernel, expectNoLeaks } from "./helpers.js";
import { ifup } from "./net-helpers.js";

function loaded() {
  const { kernel, machine } = bootKernel({ mac: "52:54:00:12:34:56" });
  const inst = kernel.loadDriver(e1000Driver, { mode: "native" });
  const dev = kernel.net.byName("eth0")!;
  const flags = () => kernel.mmu.load32(dev.ptr + NetDevice.flags);
  return { kernel, machine, inst, dev, flags };
}

describe("NetCore.setRxMode", () => {
  it("sets and clears IFF_PROMISC / IFF_ALLMULTI, and calls the driver only while the interface is up", () => {
    const { kernel, machine, inst, dev, flags } = loaded();
    const calls = inst.counters.callbacks;
    expect(kernel.net.setRxMode("eth0", { promisc: true, allmulti: true })).toBe(false); // down
    expect(inst.counters.callbacks).toBe(calls);
    expect(flags() & (IFF_PROMISC | IFF_ALLMULTI)).toBe(IFF_PROMISC | IFF_ALLMULTI);
    ifup(kernel, machine);
    expect(kernel.net.setRxMode(dev.ptr, { allmulti: false })).toBe(true);
    expect(flags() & (IFF_PROMISC | IFF_ALLMULTI)).toBe(IFF_PROMISC); // promisc kept
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});

describe("NetCore.setMacAddress", () => {
  it("passes the address in a buffer it frees again; -EOPNOTSUPP without ndo_set_mac_address", () => {
    const { kernel, inst, dev } = loaded();
    const blocks = kernel.heap.stats.blocks;
    expect(kernel.net.setMacAddress("eth0", Uint8Array.of(2, 0, 0, 0, 0, 9))).toBe(0);
    expect(kernel.net.macString(dev.ptr)).toBe("02:00:00:00:00:09");
    expect(kernel.heap.stats.blocks).toBe(blocks);
    expect(() => kernel.net.setMacAddress("eth0", [1, 2, 3])).toThrow(
      new RangeError("dev_set_mac_address: address has 3 bytes, not 6"),
    );
    // a driver without the operation: empty its slot in the ops table
    const ops = kernel.mmu.loadPtr(dev.ptr + NetDevice.netdevOps);
    const slot = ops + NetDeviceOps.ndoSetMacAddress;
    const fn = kernel.mmu.loadPtr(slot);
    kernel.mmu.store64(slot, 0);
    expect(kernel.net.setMacAddress("eth0", [2, 0, 0, 0, 0, 1])).toBe(-abi.EOPNOTSUPP);
    expect(kernel.net.macString(dev.ptr)).toBe("02:00:00:00:00:09");
    kernel.mmu.store64(slot, fn);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});

describe("NetCore.txTimeout", () => {
  it("calls ndo_tx_timeout of an up interface and logs the NETDEV WATCHDOG line", () => {
    const { kernel, machine, inst } = loaded();
    expect(kernel.net.txTimeout("eth0")).toBe(false); // down
    ifup(kernel, machine);
    expect(kernel.net.txTimeout("eth0")).toBe(true);
    expect(
      kernel.log.dmesg().some((l) => l.endsWith("eth0: NETDEV WATCHDOG: transmit queue 0 timed out")),
    ).toBe(true);
    expect(() => kernel.net.txTimeout("eth7")).toThrow(KernelBug);
    machine.run({ untilNs: kernel.nowNs + 1e8 }); // let the driver's reset work run
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});
