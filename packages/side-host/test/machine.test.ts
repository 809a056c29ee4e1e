import { describe, expect, it } from "vitest";
import { Machine } from "../src/index.js";
import { bootKernel, expectNoLeaks } from "./helpers.js";

describe("Machine", () => {
  it("enumerates QEMU's e1000 (8086:100E) at 00:03.0 with IRQ 11, a 128 KiB memory BAR and a 64-byte I/O BAR", () => {
    const m = new Machine();
    const f = m.pciFunction(0, 3, 0);
    expect(f).toBeDefined();
    expect(f!.vendorId).toBe(0x8086);
    expect(f!.deviceId).toBe(0x100e);
    expect(f!.classCode).toBe(0x020000);
    expect(f!.irq).toBe(11);
    const mem = f!.bars.find((b) => b.index === 0)!;
    expect(mem.kind).toBe("mem32");
    expect(mem.size).toBe(128 * 1024);
    expect(mem.address).not.toBeNull();
    const io = f!.bars.find((b) => b.index === 1)!;
    expect(io.kind).toBe("io");
    expect(io.size).toBe(64);
  });

  it("rejects a memory size that is not a multiple of 2 MiB", () => {
    expect(() => new Machine({ memorySize: 3 * 1024 * 1024 + 4096 })).toThrow(/multiple of 2 MiB/);
  });

  it("run() idles the clock to the requested time when nothing is due", () => {
    const m = new Machine({ peer: "none" });
    const r = m.run({ untilNs: 1_000_000_000 });
    expect(r.reason).toBe("time");
    expect(m.clock.nowNs).toBe(1_000_000_000);
  });
});

describe("Kernel boot", () => {
  it("boots, builds a pci_dev per function, and shuts down returning every frame", () => {
    const { kernel, machine, framesBefore } = bootKernel();
    expect(kernel.framesBeforeBoot).toBe(framesBefore);
    expect(machine.frames.usedFrames).toBeGreaterThan(framesBefore);
    const dev = kernel.pci.find(0, 3, 0)!;
    expect(dev.name).toBe("0000:00:03.0");
    expect(machine.mmu.load16(dev.ptr)).toBe(0x8086);
    expect(machine.mmu.load16(dev.ptr + 2)).toBe(0x100e);
    expect(machine.mmu.load32(dev.ptr + 16)).toBe(11);
    expect(machine.cpu.interruptsEnabled).toBe(true);
    expectNoLeaks(kernel);
    expect(machine.frames.usedFrames).toBe(framesBefore);
  });
});
