import { expect } from "vitest";
import { Kernel, Machine, type MachineOptions } from "../src/index.js";

/** Boot a fresh machine and kernel. */
export function bootKernel(options: MachineOptions = {}): {
  machine: Machine;
  kernel: Kernel;
  framesBefore: number;
} {
  const machine = new Machine(options);
  const framesBefore = machine.frames.usedFrames;
  const kernel = Kernel.boot(machine);
  return { machine, kernel, framesBefore };
}

/**
 * The leak check every kernel-booting test ends with: no interrupt handler installed, every
 * driver ledger empty, and after shutdown the machine's frames are back to what they were
 * before boot.
 */
export function expectNoLeaks(kernel: Kernel): void {
  const report = kernel.leakReport();
  expect(report.irqActions, "IRQ handlers still installed").toBe(0);
  expect(report.ledgers, "driver ledgers not empty").toEqual({});
  expect(report.frames, "frames held beyond the kernel's own boot frames").toBe(0);
  expect(report.heapBlocks, "heap blocks beyond the kernel's own").toBe(0);
  const frames = kernel.machine.frames;
  kernel.shutdown();
  expect(frames.usedFrames, "frames after shutdown").toBe(kernel.framesBeforeBoot);
}
