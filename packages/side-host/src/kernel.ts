/**
 * The kernel core: boot (address space, IDT, TSS, syscall MSRs, pci_devs), the memory and DMA
 * services, locks and delays, the log, the driver loader, and the run-loop hooks. Subsystems
 * live one per file (pci-core, irq, softirq, timers, netdev, skb) and are reached from here.
 */

import {
  __GFP_ZERO,
  DMA_BIT_MASK,
  DMA_MAPPING_ERROR,
  type DriverModule,
  EIO,
  GFP_ALLOWED_MASK,
  HZ,
  type ResourceKind,
} from "@side-kernel/kservice";
import {
  AddressSpace,
  CR4_PGE,
  CR4_SMAP,
  CR4_SMEP,
  LARGE_PAGE_SIZE,
  PAGE_SIZE,
  RFLAGS_AC,
  RFLAGS_IF,
  RFLAGS_TF,
} from "@side-kernel/paging";
import { KERNEL_CS, MSR_FMASK, MSR_LSTAR, MSR_STAR, USER32_CS } from "@side-kernel/privilege";
import { bindNative } from "./binding.js";
import { type CallHost, DriverInstance, type ExecutionContext, type LoadOptions } from "./driver.js";
import { hex, hexAddr, KernelBug, KernelPanic, ModuleLeak } from "./errors.js";
import { Failpoints } from "./failpoints.js";
import { Heap } from "./heap.js";
import { IrqCore } from "./irq.js";
import { createIsolatedInstance, IsolatedDriverInstance } from "./isolated-binding.js";
import { KernelLog } from "./klog.js";
import {
  KERNEL_PML4_COUNT,
  KERNEL_PML4_FIRST,
  MODULE_SLOTS,
  moduleSlotBase,
  PAGE_OFFSET,
  VMALLOC_SIZE,
  VMALLOC_START,
} from "./layout.js";
import { IRQ_LINES, IRQ_VECTOR_BASE, KERNEL_STACK_SIZE } from "./limits.js";
import type { Machine, RunHooks } from "./machine.js";
import { NetCore } from "./netdev.js";
import { PciCore } from "./pci-core.js";
import { SkbCore } from "./skb.js";
import { Softirq } from "./softirq.js";
import { TimerCore, WorkQueue } from "./timers.js";
import { DirectMapPages, VirtualRegion } from "./vmem.js";

/**
 * Kernel text: entry stubs (IDT handlers, the syscall entry) get addresses here. Linux's
 * __START_KERNEL_map is 0xffffffff80000000 and the kernel is linked 16 MiB above it.
 */
export const KERNEL_TEXT = 0xffff_8100_0000;
/** Code address of the syscall entry (entry_SYSCALL_64) in kernel text. */
export const ENTRY_SYSCALL_64 = KERNEL_TEXT + 0x1000;
/** Nanoseconds per jiffy. */
export const NS_PER_JIFFY = 1e9 / HZ;
/** Owner id of kernel-owned heap blocks. */
export const KERNEL_OWNER = 0;
/** Minimum DMA mask a device may declare: 24 bits, ISA DMA reach (Linux's ZONE_DMA, 16 MiB). */
export const MIN_DMA_MASK = DMA_BIT_MASK(24);
/** RFLAGS bits SYSCALL clears: Linux's syscall_init writes TF|DF|IF|IOPL|AC|NT to MSR_SYSCALL_MASK (we keep IF, TF, AC). */
const SYSCALL_FMASK = RFLAGS_IF | RFLAGS_TF | RFLAGS_AC;

/** Options of `Kernel.boot`. */
export interface KernelOptions {
  /** Turn on SMEP and SMAP (default true, as Linux on hardware that has them). */
  smepSmap?: boolean;
}

/** Leak figures: what is still held compared with just after boot. */
export interface LeakReport {
  /** Frames in use minus frames in use right after boot. */
  readonly frames: number;
  /** Installed interrupt handlers. */
  readonly irqActions: number;
  /** Ledger entries of loaded and unloaded drivers, by driver. */
  readonly ledgers: Readonly<Record<string, Partial<Record<ResourceKind, number>>>>;
  /** Live heap blocks that are not the kernel's own boot objects. */
  readonly heapBlocks: number;
}

interface DmaMapping {
  readonly size: number;
  readonly dir: number;
  readonly owner: number;
  count: number;
}

/** The kernel. Boot it on a Machine with `Kernel.boot`. */
export class Kernel implements RunHooks, CallHost {
  readonly machine: Machine;
  readonly space: AddressSpace;
  readonly heap: Heap;
  readonly vmalloc: VirtualRegion;
  readonly log: KernelLog;
  readonly irq: IrqCore;
  readonly softirq: Softirq;
  readonly timers: TimerCore;
  readonly work: WorkQueue;
  readonly pci: PciCore;
  readonly net: NetCore;
  readonly skb: SkbCore;
  /** Failure injection into driver service calls (see `Failpoints`). */
  readonly failpoints = new Failpoints();
  /** The kernel's execution context: ring 0 in the kernel address space. */
  readonly context: ExecutionContext;
  /** Frames in use before boot (the machine's own) and right after boot. */
  readonly framesBeforeBoot: number;
  framesAfterBoot = 0;
  /** Every instance ever loaded (unloaded ones stay for their ledgers), by id. */
  readonly instances = new Map<number, DriverInstance>();
  /** The driver whose code is running, or null for kernel code. */
  current: DriverInstance | null = null;
  /** Spinlocks held (Linux's preempt count). */
  preemptCount = 0;
  /** Nesting of hard-interrupt context. */
  inIrq = 0;
  /** Nesting of softirq context. */
  inSoftirq = 0;
  /** Streaming DMA mappings by bus address. */
  readonly dmaMappings = new Map<number, DmaMapping>();
  private readonly vmallocAreas = new Map<number, { pages: number; frames: number[]; owner: number }>();
  private readonly moduleSlots: (DriverInstance | null)[] = new Array(MODULE_SLOTS).fill(null);
  private nextInstanceId = 1;
  private readonly stackBase: number;
  private up = true;

  private constructor(machine: Machine, options: KernelOptions) {
    this.machine = machine;
    const { memory, frames, cpu, mmu } = machine;
    this.framesBeforeBoot = frames.usedFrames;
    this.log = new KernelLog(() => machine.clock.nowNs);
    // Address space: kernel slots preallocated (supervisor at the top level), direct map.
    this.space = new AddressSpace(memory, frames);
    this.space.preallocateRoot(KERNEL_PML4_FIRST, KERNEL_PML4_COUNT, { user: false });
    for (let pa = 0; pa < memory.size; pa += LARGE_PAGE_SIZE) {
      this.space.map(PAGE_OFFSET + pa, pa, LARGE_PAGE_SIZE, {
        writable: true,
        noExecute: true,
        global: true,
      });
    }
    cpu.movToCr(3, this.space.root);
    let cr4 = mmu.cr4 | CR4_PGE;
    if (options.smepSmap ?? true) cr4 |= CR4_SMEP | CR4_SMAP;
    cpu.movToCr(4, cr4);
    this.context = { name: "kernel", cpl: 0, cr3: this.space.root };
    this.heap = new Heap(new DirectMapPages(frames, memory.size), memory, (o) => this.ownerName(o));
    this.vmalloc = new VirtualRegion("vmalloc space", VMALLOC_START, VMALLOC_SIZE);
    // Kernel stack, TSS.RSP0, IDT gates for the IRQ vectors, syscall MSRs.
    this.stackBase = this.heap.allocRun(KERNEL_STACK_SIZE, KERNEL_OWNER, "kernel");
    if (this.stackBase === 0) throw new KernelPanic("out of memory allocating the kernel stack");
    cpu.rsp = this.stackBase + KERNEL_STACK_SIZE;
    cpu.tss.setRsp(0, cpu.rsp);
    for (let line = 0; line < IRQ_LINES; line++) {
      const vector = IRQ_VECTOR_BASE + line;
      cpu.idt.setGate(vector, { handler: KERNEL_TEXT + vector * 16, type: "interrupt", dpl: 0 });
    }
    cpu.wrmsr(MSR_STAR, USER32_CS * 2 ** 48 + KERNEL_CS * 2 ** 32);
    cpu.wrmsr(MSR_LSTAR, ENTRY_SYSCALL_64);
    cpu.wrmsr(MSR_FMASK, SYSCALL_FMASK);
    this.irq = new IrqCore(this);
    this.softirq = new Softirq(this);
    this.timers = new TimerCore(this);
    this.work = new WorkQueue(this);
    this.skb = new SkbCore(this);
    this.net = new NetCore(this);
    this.pci = new PciCore(this);
    this.pci.buildDevices();
    cpu.sti();
    machine.attach(this);
    this.framesAfterBoot = frames.usedFrames;
    this.log.write(
      "info",
      "kernel",
      `booted: ${memory.size / 1048576} MiB, ${machine.pciFunctions.length} PCI functions`,
    );
  }

  /**
   * Boot a kernel on `machine`: builds the kernel address space, loads CR3/CR4, sets up the
   * kernel stack, TSS.RSP0, IDT gates and syscall MSRs, builds a `struct pci_dev` for every
   * enumerated function, enables interrupts and attaches to the machine's run loop.
   * Throws Error if a kernel already runs on the machine.
   */
  static boot(machine: Machine, options: KernelOptions = {}): Kernel {
    if (machine.booted) throw new Error("Kernel.boot: a kernel is already running on this machine");
    return new Kernel(machine, options);
  }

  /** The MMU all kernel code (and native drivers) uses. */
  get mmu(): Machine["mmu"] {
    return this.machine.mmu;
  }

  /** Simulated time in ns. */
  get nowNs(): number {
    return this.machine.clock.nowNs;
  }

  /** The tick counter: simulated time / (1 s / HZ). */
  get jiffies(): number {
    return Math.floor(this.machine.clock.nowNs / NS_PER_JIFFY);
  }

  /** Name of a heap owner id, for messages. */
  ownerName(owner: number): string {
    if (owner === KERNEL_OWNER) return "the kernel";
    const inst = this.instances.get(owner);
    return inst ? `module ${inst.name} (#${owner})` : `driver #${owner}`;
  }

  // ------------------------------------------------------------------ loader

  /**
   * Load `module` in `options.mode` ("native": ring 0, direct calls; "isolated": ring 3 in a
   * new driver domain, see isolated-binding.ts and `options`' IsolationOptions): assigns a
   * module-text slot, builds `k`, and calls module init (which typically pci_register_drivers
   * and so probes). Returns the instance; an isolated driver that faulted during init is
   * returned stopped (state "faulted", its report in `fault`). Throws TypeError for a malformed
   * module, Error for an unknown mode or when init returns an error (after checking that a
   * failed init left nothing held: ModuleLeak otherwise), and KernelPanic / KernelBug from
   * native driver code.
   */
  loadDriver(module: DriverModule, options: LoadOptions = { mode: "native" }): DriverInstance {
    this.alive("loadDriver");
    if (options.mode !== "native" && options.mode !== "isolated")
      throw new Error(`loadDriver: mode "${String(options.mode)}" is not supported`);
    const slot = this.moduleSlots.indexOf(null);
    if (slot < 0) throw new Error("loadDriver: no free module-text slot");
    let inst: DriverInstance;
    if (options.mode === "isolated") {
      inst = createIsolatedInstance(this, this.nextInstanceId++, module, options, this.domainSlotsInUse());
    } else {
      inst = new DriverInstance(
        this.nextInstanceId++,
        module,
        options.mode,
        this.context,
        this.heap,
        moduleSlotBase(slot),
        this,
      );
      inst.k = bindNative(this, inst);
    }
    this.moduleSlots[slot] = inst;
    this.instances.set(inst.id, inst);
    const rc = inst.call(inst.fn(module.init));
    // an isolated driver that faulted in init stays loaded and stopped, its fault reported
    if (inst.state === "faulted") return inst;
    if (rc !== 0) {
      this.moduleSlots[slot] = null;
      inst.state = "unloaded";
      this.log.write("err", module.name, `module init failed with error ${rc}`);
      if (inst.ledger.count() > 0) throw new ModuleLeak(module.name, inst.ledger.summary());
      inst.dispose();
      throw new Error(`loadDriver: init of module ${module.name} returned ${rc}`);
    }
    inst.state = "live";
    this.log.write(
      "info",
      "kernel",
      `loaded module ${module.name} (${options.mode}) at ${hexAddr(inst.textBase)}`,
    );
    return inst;
  }

  /**
   * Unload: ifdown every interface of the driver that is up, call module exit (with the
   * pci_driver pointer its init registered, or 0: modules have no data section), then require an
   * empty ledger. Throws Error if the instance is not live, ModuleLeak naming the resources still
   * held by kind.
   */
  unloadDriver(inst: DriverInstance): void {
    if (inst.state !== "live") throw new Error(`unloadDriver: module ${inst.name} is ${inst.state}`);
    for (const dev of this.net.devicesOf(inst)) if (dev.up) this.net.devClose(dev.ptr);
    // A module has no data section here: exit gets the pci_driver its init registered.
    const drv = inst.ledger.entries("pci-driver")[0]?.key ?? 0;
    inst.call(inst.fn(inst.module.exit), drv);
    if (inst.state !== "live") throw new Error(`unloadDriver: module ${inst.name} faulted in exit`);
    inst.state = "unloaded";
    this.moduleSlots[this.moduleSlots.indexOf(inst)] = null;
    this.log.write("info", "kernel", `unloaded module ${inst.name}`);
    if (inst.ledger.count() > 0) throw new ModuleLeak(inst.name, inst.ledger.summary());
    inst.dispose();
  }

  /** Driver-domain region slots held by isolated instances not yet disposed. */
  private domainSlotsInUse(): Set<number> {
    const used = new Set<number>();
    for (const i of this.instances.values()) {
      if (i instanceof IsolatedDriverInstance && !i.domain.isDestroyed) used.add(i.domain.slot);
    }
    return used;
  }

  /** Live driver instances. */
  get drivers(): DriverInstance[] {
    return [...this.instances.values()].filter((i) => i.state === "live");
  }

  /**
   * Shut down: unload live drivers, free the kernel's boot objects (pci_devs, stack), destroy
   * the address space and detach from the machine. Afterwards the machine's frames are back to
   * what they were before boot. Throws ModuleLeak / KernelBug from unloading, and Error if
   * kernel heap blocks remain (naming how many).
   */
  shutdown(): void {
    this.alive("shutdown");
    for (const inst of this.drivers) this.unloadDriver(inst);
    this.pci.freeDevices();
    this.heap.free(this.stackBase, KERNEL_OWNER, "shutdown", "kernel");
    this.heap.trim();
    const left = this.heap.stats.blocks;
    if (left > 0) throw new Error(`Kernel.shutdown: ${left} heap blocks still allocated`);
    this.machine.cpu.cli();
    this.machine.attach(null);
    this.space.destroy();
    this.up = false;
  }

  /** What is still held compared with just after boot (see LeakReport). */
  leakReport(): LeakReport {
    if (this.up) this.heap.trim();
    const ledgers: Record<string, Partial<Record<ResourceKind, number>>> = {};
    for (const inst of this.instances.values()) {
      if (inst.ledger.count() > 0) ledgers[`${inst.name}#${inst.id}`] = inst.ledger.summary();
    }
    return {
      frames: this.machine.frames.usedFrames - (this.up ? this.framesAfterBoot : this.framesBeforeBoot),
      irqActions: this.irq.actionCount(),
      ledgers,
      heapBlocks: this.up ? this.heap.stats.blocks - this.pci.deviceCount - 1 : this.heap.stats.blocks,
    };
  }

  private alive(op: string): void {
    if (!this.up) throw new Error(`Kernel.${op}: the kernel was shut down`);
  }

  // ------------------------------------------------------------------ CallHost

  /** Charge the kernel's work so far and mark `inst` running. Returns the previous runner. */
  enterDriver(inst: DriverInstance): DriverInstance | null {
    this.machine.chargeAccesses("kernel");
    const prev = this.current;
    this.current = inst;
    return prev;
  }

  /** Charge the driver's own accesses and restore the previous runner. */
  leaveDriver(_inst: DriverInstance, previous: DriverInstance | null): void {
    this.machine.chargeAccesses("driver");
    this.current = previous;
  }

  // ------------------------------------------------------------------ RunHooks

  /** See RunHooks.deliverInterrupts. */
  deliverInterrupts(): boolean {
    return this.irq.deliverPending();
  }

  /** See RunHooks.runSoftirqs. */
  runSoftirqs(): boolean {
    return this.softirq.run();
  }

  /** See RunHooks.runWork. */
  runWork(): boolean {
    return this.work.runOne();
  }

  // ------------------------------------------------------------------ memory services

  /** kmalloc/kzalloc for `inst`: a block from its heap, or 0. Throws KernelBug for gfp bits outside the allowed mask. */
  kmalloc(inst: DriverInstance, size: number, gfp: number, zero: boolean, service: string): number {
    if ((gfp & ~GFP_ALLOWED_MASK) !== 0)
      throw new KernelBug(service, gfp, `gfp ${hex(gfp)} has unknown bits`);
    return inst.heap.alloc(size, inst.id, zero || (gfp & __GFP_ZERO) !== 0);
  }

  /** kfree: NULL is a no-op; otherwise see Heap.free (KernelBug on misuse). */
  kfree(inst: DriverInstance, ptr: number, service = "kfree"): void {
    if (ptr === 0) return;
    inst.heap.free(ptr, inst.id, service, "kmalloc");
  }

  /** vzalloc: zeroed pages (not physically contiguous) in vmalloc space; 0 when out of memory. */
  vzalloc(inst: DriverInstance, size: number): number {
    if (!Number.isInteger(size) || size <= 0)
      throw new KernelBug("vzalloc", size, `size ${size} is not positive`);
    const pages = Math.ceil(size / PAGE_SIZE);
    const va = this.vmalloc.alloc(pages + 1); // + a guard page, as Linux's vmalloc
    if (va === 0) return 0;
    const frames: number[] = [];
    try {
      for (let i = 0; i < pages; i++) {
        const pa = this.machine.frames.alloc();
        frames.push(pa);
        this.space.map(va + i * PAGE_SIZE, pa, PAGE_SIZE, { writable: true, noExecute: true, global: true });
      }
    } catch {
      for (let i = 0; i < frames.length; i++) {
        if (this.space.query(va + i * PAGE_SIZE)) this.space.unmap(va + i * PAGE_SIZE);
        this.machine.frames.free(frames[i]);
      }
      this.vmalloc.free(va, "vzalloc");
      return 0;
    }
    this.vmallocAreas.set(va, { pages, frames, owner: inst.id });
    return va;
  }

  /** vfree: NULL is a no-op. Throws KernelBug for an address vzalloc did not return, or another owner's. */
  vfree(inst: DriverInstance, va: number): void {
    if (va === 0) return;
    const area = this.vmallocAreas.get(va);
    if (area === undefined)
      throw new KernelBug("vfree", va, `${hexAddr(va)} is not a vzalloc area (double free?)`);
    if (area.owner !== inst.id) {
      throw new KernelBug("vfree", va, `area ${hexAddr(va)} belongs to ${this.ownerName(area.owner)}`);
    }
    for (let i = 0; i < area.pages; i++) {
      this.space.unmap(va + i * PAGE_SIZE);
      this.machine.mmu.invlpg(va + i * PAGE_SIZE);
      this.machine.frames.free(area.frames[i]);
    }
    this.vmalloc.free(va, "vfree");
    this.vmallocAreas.delete(va);
  }

  /** Physical address of kernel linear address `va`, or -1 when unmapped. */
  physicalOf(va: number): number {
    if (va >= PAGE_OFFSET && va < PAGE_OFFSET + this.machine.memory.size) return va - PAGE_OFFSET;
    return this.space.physicalAddress(va);
  }

  // ------------------------------------------------------------------ DMA services

  /**
   * dma_map_single: the bus address of [ptr, ptr + size) (bus address = physical, no IOMMU).
   * Returns DMA_MAPPING_ERROR (and logs why) when the range is unmapped, not physically
   * contiguous or beyond the device's DMA mask. Throws KernelBug for an unknown pci_dev.
   */
  dmaMapSingle(inst: DriverInstance, pdev: number, ptr: number, size: number, dir: number): number {
    const dev = this.pci.device(pdev, "dma_map_single");
    const pa = this.physicalOf(ptr);
    let ok = pa >= 0;
    if (ok && !(ptr >= PAGE_OFFSET && ptr + size <= PAGE_OFFSET + this.machine.memory.size)) {
      // outside the direct map: every page must follow the previous one physically
      for (let off = PAGE_SIZE - (ptr & (PAGE_SIZE - 1)); ok && off < size; off += PAGE_SIZE) {
        ok = this.physicalOf(ptr + off) === pa + off;
      }
    }
    if (!ok) {
      this.log.write("err", inst.name, `dma_map_single: ${hexAddr(ptr)}+${size} is not mapped contiguously`);
      return DMA_MAPPING_ERROR;
    }
    if (pa + size - 1 > dev.dmaMask) {
      this.log.write(
        "err",
        inst.name,
        `dma_map_single: ${hex(pa)}+${size} is beyond the DMA mask ${hex(dev.dmaMask)}`,
      );
      return DMA_MAPPING_ERROR;
    }
    const m = this.dmaMappings.get(pa);
    if (m !== undefined) m.count++;
    else this.dmaMappings.set(pa, { size, dir, owner: inst.id, count: 1 });
    return pa;
  }

  /**
   * dma_unmap_single. Throws KernelBug when the bus address was never mapped, or the size or
   * direction differ from the mapping's (what Linux's dma-debug reports).
   */
  dmaUnmapSingle(inst: DriverInstance, pdev: number, dma: number, size: number, dir: number): void {
    this.pci.device(pdev, "dma_unmap_single");
    const m = this.dmaMappings.get(dma);
    if (m === undefined)
      throw new KernelBug("dma_unmap_single", dma, `bus address ${hex(dma)} was never mapped`);
    if (m.size !== size) {
      throw new KernelBug(
        "dma_unmap_single",
        dma,
        `size ${size} differs from the mapped size ${m.size} at ${hex(dma)}`,
      );
    }
    if (m.dir !== dir) {
      throw new KernelBug(
        "dma_unmap_single",
        dma,
        `direction ${dir} differs from the mapped direction ${m.dir} at ${hex(dma)}`,
      );
    }
    if (m.owner !== inst.id) {
      throw new KernelBug(
        "dma_unmap_single",
        dma,
        `mapping ${hex(dma)} belongs to ${this.ownerName(m.owner)}`,
      );
    }
    if (--m.count === 0) this.dmaMappings.delete(dma);
  }

  /** dma_set_mask_and_coherent: 0, or -EIO for a mask below MIN_DMA_MASK. */
  dmaSetMask(pdev: number, mask: number): number {
    const dev = this.pci.device(pdev, "dma_set_mask_and_coherent");
    if (!Number.isInteger(mask) || mask < MIN_DMA_MASK) return -EIO;
    dev.dmaMask = mask;
    this.machine.mmu.store64(pdev + this.pci.dmaMaskOffset, mask);
    return 0;
  }

  /**
   * dma_alloc_coherent: page-aligned, physically contiguous, zeroed memory below the device's
   * mask; writes the bus address to *handle and returns the linear address (0 on failure).
   */
  dmaAllocCoherent(inst: DriverInstance, pdev: number, size: number, handle: number): number {
    const dev = this.pci.device(pdev, "dma_alloc_coherent");
    const va = inst.heap.allocRun(size, inst.id, "coherent");
    if (va === 0) return 0;
    const pa = this.physicalOf(va);
    if (pa + size - 1 > dev.dmaMask) {
      inst.heap.free(va, inst.id, "dma_alloc_coherent", "coherent");
      return 0;
    }
    this.machine.mmu.store64(handle, pa);
    return va;
  }

  /** dma_free_coherent. Throws KernelBug for a wrong address, size, handle or owner. */
  dmaFreeCoherent(inst: DriverInstance, pdev: number, size: number, va: number, dma: number): void {
    this.pci.device(pdev, "dma_free_coherent");
    const block = inst.heap.lookup(va);
    if (block !== undefined && block.kind === "coherent") {
      if (block.size !== size) {
        throw new KernelBug("dma_free_coherent", va, `size ${size} differs from the allocated ${block.size}`);
      }
      if (this.physicalOf(va) !== dma) {
        throw new KernelBug("dma_free_coherent", va, `handle ${hex(dma)} is not the buffer's bus address`);
      }
    }
    inst.heap.free(va, inst.id, "dma_free_coherent", "coherent");
  }

  // ------------------------------------------------------------------ locks, delays

  /** spin_lock: one CPU, so taking a held lock is a deadlock (KernelBug). */
  spinLock(lock: number, service = "spin_lock"): void {
    const mmu = this.machine.mmu;
    if (mmu.load32(lock) !== 0)
      throw new KernelBug(service, lock, `deadlock: lock ${hexAddr(lock)} is already held`);
    mmu.store32(lock, 1);
    this.preemptCount++;
  }

  /** spin_unlock: KernelBug if the lock is not held. */
  spinUnlock(lock: number, service = "spin_unlock"): void {
    const mmu = this.machine.mmu;
    if (mmu.load32(lock) === 0) throw new KernelBug(service, lock, `lock ${hexAddr(lock)} is not held`);
    mmu.store32(lock, 0);
    this.preemptCount--;
  }

  /** spin_lock_irqsave: returns the previous RFLAGS.IF (0x200 or 0), interrupts off. */
  spinLockIrqsave(lock: number): number {
    const cpu = this.machine.cpu;
    const flags = cpu.rflags & RFLAGS_IF;
    cpu.cli();
    this.spinLock(lock, "spin_lock_irqsave");
    return flags;
  }

  /**
   * spin_unlock_irqrestore: unlock, and when `flags` had IF set re-enable interrupts; a pending
   * interrupt is taken right there (a boundary the kernel controls), unless already in an
   * interrupt handler.
   */
  spinUnlockIrqrestore(lock: number, flags: number): void {
    this.spinUnlock(lock, "spin_unlock_irqrestore");
    if ((flags & RFLAGS_IF) !== 0) {
      this.machine.cpu.sti();
      if (this.inIrq === 0) this.irq.deliverPending();
    }
  }

  /**
   * msleep: the caller blocks and the machine runs (events, interrupts, softirqs, work) until
   * the wake time. Throws KernelBug when called in atomic context (a lock held, in an interrupt
   * or softirq): "scheduling while atomic".
   */
  msleep(ms: number): void {
    if (this.preemptCount > 0 || this.inIrq > 0 || this.inSoftirq > 0) {
      throw new KernelBug(
        "msleep",
        ms,
        `BUG: scheduling while atomic (preempt count ${this.preemptCount}, irq ${this.inIrq}, softirq ${this.inSoftirq})`,
      );
    }
    this.machine.run({ untilNs: this.nowNs + ms * 1e6 });
  }

  /**
   * udelay/mdelay: busy-wait. The CPU is charged for the time; devices keep working meanwhile
   * (due device events run), but no interrupt, softirq or work runs on this CPU.
   */
  busyWait(ns: number): void {
    const clock = this.machine.clock;
    clock.charge("driver", (ns * clock.hz) / 1e9);
    this.machine.events.runDue();
  }
}
