import {
  DMA_FROM_DEVICE,
  DMA_MAPPING_ERROR,
  DMA_TO_DEVICE,
  type DriverModule,
  GFP_KERNEL,
  IRQF_SHARED,
  type KernelApi,
  SkBuff,
} from "@side-kernel/kservice";
import { describe, expect, it } from "vitest";
import { KernelBug, PAGE_OFFSET } from "../src/index.js";
import { bootKernel, expectNoLeaks } from "./helpers.js";

/** A module whose init hands its `k` to the test, so the test can act as driver code. */
function harness(): { module: DriverModule; k: () => KernelApi } {
  let captured: KernelApi | null = null;
  const module: DriverModule = {
    name: "harness",
    entryPoints: {
      init: (k) => {
        captured = k;
        return 0;
      },
      exit: () => 0,
      handler: () => 1,
      other: () => 1,
    },
    init: "init",
    exit: "exit",
  };
  return { module, k: () => captured! };
}

function setup() {
  const { kernel, machine } = bootKernel();
  const h = harness();
  const inst = kernel.loadDriver(h.module, { mode: "native" });
  const pdev = kernel.pci.find(0, 3)!.ptr;
  return { kernel, machine, inst, k: h.k(), pdev };
}

describe("kernel services: memory", () => {
  it("kmalloc/kzalloc/kfree keep the ledger and reject a double free", () => {
    const { kernel, inst, k } = setup();
    const a = k.kzalloc(100, GFP_KERNEL);
    expect(a).toBeGreaterThanOrEqual(PAGE_OFFSET);
    expect(a % 128).toBe(0);
    expect(k.load32(a + 96)).toBe(0);
    const big = k.kmalloc(10_000, GFP_KERNEL);
    expect(big % 4096).toBe(0);
    expect(inst.ledger.count("heap")).toBe(2);
    k.kfree(a);
    k.kfree(big);
    expect(() => k.kfree(a)).toThrow(KernelBug);
    expect(() => k.kfree(a)).toThrow(/kfree: double free of 0xffff8880/);
    expect(() => k.kfree(PAGE_OFFSET + 0x3000)).toThrow(/is not an allocated block/);
    k.kfree(0);
    expect(inst.ledger.count()).toBe(0);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });

  it("kfree of another owner's block is refused", () => {
    const { kernel, inst, k } = setup();
    const theirs = kernel.heap.alloc(64, 0, false);
    expect(() => k.kfree(theirs)).toThrow(/belongs to the kernel, not module harness/);
    kernel.heap.free(theirs, 0, "test");
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });

  it("vzalloc maps zeroed pages in vmalloc space that are not physically contiguous-checked; vfree unmaps", () => {
    const { kernel, inst, k } = setup();
    const v = k.vzalloc(3 * 4096);
    expect(v).toBeGreaterThanOrEqual(0xc900_0000_0000);
    k.store32(v + 2 * 4096 + 8, 0x1234);
    expect(k.load32(v + 2 * 4096 + 8)).toBe(0x1234);
    k.vfree(v);
    expect(() => k.load32(v)).toThrow(/#PF/);
    expect(() => k.vfree(v)).toThrow(/not a vzalloc area/);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});

describe("kernel services: DMA", () => {
  it("dma_map_single gives the physical address and unmapping what was never mapped is an error", () => {
    const { kernel, inst, k, pdev } = setup();
    const buf = k.kmalloc(2048, GFP_KERNEL);
    const dma = k.dma_map_single(pdev, buf, 1500, DMA_FROM_DEVICE);
    expect(dma).toBe(buf - PAGE_OFFSET);
    expect(inst.ledger.has("dma-map", dma)).toBe(true);
    expect(() => k.dma_unmap_single(pdev, dma + 64, 1500, DMA_FROM_DEVICE)).toThrow(/was never mapped/);
    expect(() => k.dma_unmap_single(pdev, dma, 100, DMA_FROM_DEVICE)).toThrow(
      /differs from the mapped size 1500/,
    );
    expect(() => k.dma_unmap_single(pdev, dma, 1500, DMA_TO_DEVICE)).toThrow(/direction/);
    k.dma_unmap_single(pdev, dma, 1500, DMA_FROM_DEVICE);
    expect(() => k.dma_unmap_single(pdev, dma, 1500, DMA_FROM_DEVICE)).toThrow(/never mapped/);
    k.kfree(buf);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });

  it("dma_map_single fails with DMA_MAPPING_ERROR for pages that are not physically contiguous, or beyond the mask", () => {
    const { kernel, machine, inst, k, pdev } = setup();
    // two vmalloc-space pages backed by frames that are not neighbours
    const va = kernel.vmalloc.alloc(2);
    const f = machine.frames.allocContiguous(3);
    kernel.space.map(va, f, 4096, { writable: true });
    kernel.space.map(va + 4096, f + 2 * 4096, 4096, { writable: true });
    expect(k.dma_map_single(pdev, va + 4000, 200, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(k.dma_map_single(pdev, va + 100, 200, DMA_TO_DEVICE)).toBe(f + 100);
    k.dma_unmap_single(pdev, f + 100, 200, DMA_TO_DEVICE);
    expect(kernel.log.contains("is not mapped contiguously")).toBe(true);
    kernel.space.unmap(va);
    kernel.space.unmap(va + 4096);
    machine.mmu.invlpg(va);
    machine.mmu.invlpg(va + 4096);
    machine.frames.freeContiguous(f, 3);
    kernel.vmalloc.free(va, "test");
    // the mask: below 24 bits is refused; a buffer above the mask cannot be mapped
    expect(k.dma_set_mask_and_coherent(pdev, 0xfff)).toBe(-5);
    expect(k.dma_set_mask_and_coherent(pdev, 0xff_ffff)).toBe(0);
    const high = machine.memory.size - 4096;
    expect(k.dma_map_single(pdev, PAGE_OFFSET + high, 64, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(k.dma_set_mask_and_coherent(pdev, 0xffff_ffff)).toBe(0);
    expect(inst.ledger.count()).toBe(0);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });

  it("dma_alloc_coherent returns page-aligned memory and writes its bus address", () => {
    const { kernel, inst, k, pdev } = setup();
    const handle = k.kzalloc(8, GFP_KERNEL);
    const va = k.dma_alloc_coherent(pdev, 4096 * 2, handle, GFP_KERNEL);
    expect(va % 4096).toBe(0);
    expect(k.load64(handle)).toBe(va - PAGE_OFFSET);
    expect(() => k.kfree(va)).toThrow(/is a coherent block, not kmalloc/);
    k.dma_free_coherent(pdev, 8192, va, va - PAGE_OFFSET);
    k.kfree(handle);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });

  it("an unknown pci_dev is a precise error", () => {
    const { kernel, inst, k, pdev } = setup();
    expect(() => k.pci_enable_device(pdev + 8)).toThrow(
      /pci_enable_device: 0xffff8880[0-9a-f]+ is not a pci_dev/,
    );
    expect(() => k.dma_map_single(0x1234, 0, 1, DMA_TO_DEVICE)).toThrow(KernelBug);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});

describe("kernel services: IRQ", () => {
  it("request_irq twice with the same handler and dev_id is an error; free_irq of an unrequested line is an error", () => {
    const { kernel, inst, k } = setup();
    const h = k.fn("handler");
    expect(k.request_irq(11, h, IRQF_SHARED, "t", 1)).toBe(0);
    expect(() => k.request_irq(11, h, IRQF_SHARED, "t", 1)).toThrow(/already installed on IRQ 11/);
    expect(k.request_irq(11, k.fn("other"), 0, "t2", 2)).toBe(-16);
    expect(k.request_irq(11, k.fn("other"), IRQF_SHARED, "t2", 2)).toBe(0);
    expect(kernel.irq.actions(11)).toHaveLength(2);
    expect(() => k.free_irq(5, 1)).toThrow(/free_irq: trying to free already-free IRQ 5/);
    k.free_irq(11, 1);
    expect(() => k.free_irq(11, 1)).toThrow(/already-free IRQ 11/);
    k.free_irq(11, 2);
    expect(kernel.machine.irqs.masked[11]).toBe(1);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});

describe("kernel services: skb", () => {
  it("skb_put past the end is skb_over_panic; a double free is an error", () => {
    const { kernel, inst, k } = setup();
    const dev = k.alloc_etherdev(64);
    const skb = k.netdev_alloc_skb(dev, 100);
    expect(inst.ledger.has("skb", skb)).toBe(true);
    const data = k.loadPtr(skb + SkBuff.data);
    expect(data - k.loadPtr(skb + SkBuff.head)).toBe(64);
    expect(k.skb_put(skb, 60)).toBe(data);
    expect(k.load32(skb + SkBuff.len)).toBe(60);
    expect(() => k.skb_put(skb, 41)).toThrow(/skb_over_panic: put 41 bytes at tail 124 of a 164-byte buffer/);
    k.skb_trim(skb, 10);
    expect(k.load32(skb + SkBuff.len)).toBe(10);
    expect(k.eth_skb_pad(skb)).toBe(0);
    expect(k.load32(skb + SkBuff.len)).toBe(60);
    k.dev_kfree_skb_any(skb);
    expect(() => k.dev_kfree_skb_any(skb)).toThrow(
      /dev_kfree_skb_any: skb 0xffff8880[0-9a-f]+ was already freed \(double free\)/,
    );
    expect(() => k.dev_kfree_skb_any(data)).toThrow(/is not an skb/);
    k.free_netdev(dev);
    expect(inst.ledger.count()).toBe(0);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });

  it("locks: a second spin_lock deadlocks, msleep under a lock is scheduling while atomic", () => {
    const { kernel, inst, k } = setup();
    const lock = k.kzalloc(4, GFP_KERNEL);
    k.spin_lock_init(lock);
    const flags = k.spin_lock_irqsave(lock);
    expect(flags).toBe(0x200);
    expect(kernel.machine.cpu.interruptsEnabled).toBe(false);
    expect(() => k.spin_lock(lock)).toThrow(/deadlock/);
    expect(() => k.msleep(1)).toThrow(/scheduling while atomic/);
    k.spin_unlock_irqrestore(lock, flags);
    expect(kernel.machine.cpu.interruptsEnabled).toBe(true);
    const t0 = kernel.nowNs;
    k.msleep(10);
    expect(kernel.nowNs - t0).toBeGreaterThanOrEqual(10e6);
    expect(k.jiffies()).toBe(Math.floor(kernel.nowNs / 4e6));
    k.kfree(lock);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});
