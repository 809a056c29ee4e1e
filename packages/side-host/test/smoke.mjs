// Smoke test of the BUILT package under node, bun and deno: boot a machine, enumerate PCI,
// boot the kernel, shut it down. Throws on failure, prints one line.
import { e1000Driver } from "@side-kernel/driver-e1000";
import { DRIVER_REGION_START, Kernel, Machine } from "@side-kernel/side-host";

const machine = new Machine({ peer: "none" });
const nic = machine.pciFunction(0, 3, 0);
if (nic?.vendorId !== 0x8086 || nic.deviceId !== 0x100e) throw new Error("e1000 not found at 00:03.0");
if (nic.irq !== 11) throw new Error(`e1000 IRQ is ${nic.irq}, expected 11`);
const before = machine.frames.usedFrames;
const kernel = Kernel.boot(machine);
if (!kernel.pci.find(0, 3, 0)) throw new Error("no pci_dev for 00:03.0");
// isolated mode: the e1000 probes at ring 3 and its net_device lives in its domain's region
const inst = kernel.loadDriver(e1000Driver, { mode: "isolated" });
const eth0 = kernel.net.byName("eth0");
if (!eth0 || eth0.ptr < DRIVER_REGION_START) throw new Error("isolated e1000: eth0 not in the driver region");
if (inst.fault !== null || inst.isolation.upcalls < 2)
  throw new Error("isolated e1000 did not probe cleanly");
kernel.unloadDriver(inst);
kernel.shutdown();
if (machine.frames.usedFrames !== before) throw new Error("frames leaked across boot + shutdown");
console.log("side-host ok");
