// Smoke test of the BUILT package under node, bun and deno: boot a machine, enumerate PCI,
// boot the kernel, shut it down. Throws on failure, prints one line.
import { Kernel, Machine } from "@side-kernel/side-host";

const machine = new Machine({ peer: "none" });
const nic = machine.pciFunction(0, 3, 0);
if (nic?.vendorId !== 0x8086 || nic.deviceId !== 0x100e) throw new Error("e1000 not found at 00:03.0");
if (nic.irq !== 11) throw new Error(`e1000 IRQ is ${nic.irq}, expected 11`);
const before = machine.frames.usedFrames;
const kernel = Kernel.boot(machine);
if (!kernel.pci.find(0, 3, 0)) throw new Error("no pci_dev for 00:03.0");
kernel.shutdown();
if (machine.frames.usedFrames !== before) throw new Error("frames leaked across boot + shutdown");
console.log("side-host ok");
