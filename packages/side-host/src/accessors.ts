/**
 * The part of a driver's `k` that is the same in native and isolated mode: memory accessors
 * through the MMU, device accessors (MMIO through the MMU with Linux's argument order, port I/O
 * on the CPU), the privileged instructions a driver could try, and `fn`. What differs between the
 * modes is not here but in the MMU's and CPU's state while the driver runs (CPL 0 in the kernel
 * address space, or CPL 3 in the domain's), and in the service methods each binder adds.
 *
 * Every `k` of a mode has the same shape: its methods live on one prototype per mode (these
 * accessors and the binder's services), and the `k` itself holds only its binding (under a
 * symbol, so it is no part of the API driver code sees) and `arch`. Driver code, which is shared
 * by every instance and every machine, thus always meets one kind of object: engines keep its
 * calls monomorphic instead of looking each name up in a per-instance table of 100-odd closures
 * (a dictionary in V8; in JSC, each new machine's `k` deoptimized the driver code again).
 */
import type { Mmu } from "@side-kernel/paging";
import type { Cpu } from "@side-kernel/privilege";
import type { DriverInstance } from "./driver.js";
import type { Kernel } from "./kernel.js";

/** Chunk of memset: it fills through one reusable buffer of this many bytes. */
const FILL_CHUNK = 4096;

/** Key of a `k`'s binding. */
export const BINDING: unique symbol = Symbol("k binding");

/** What a `k` is bound to: its kernel and instance, that machine's MMU and CPU, memset's buffer. */
export interface Binding {
  readonly kn: Kernel;
  readonly inst: DriverInstance;
  readonly mmu: Mmu;
  readonly cpu: Cpu;
  readonly fill: Uint8Array;
}

/** The `this` of every method of `k`. */
export interface BoundApi {
  readonly [BINDING]: Binding;
}

/**
 * The accessors and `fn`, as methods of `k`. Accessors throw what the MMU or CPU throws (page
 * faults, #GP); `fn(name)` what `inst.fn` throws.
 */
const ACCESSORS = {
  load8(this: BoundApi, p: number) {
    return this[BINDING].mmu.load8(p);
  },
  load16(this: BoundApi, p: number) {
    return this[BINDING].mmu.load16(p);
  },
  load32(this: BoundApi, p: number) {
    return this[BINDING].mmu.load32(p);
  },
  load64(this: BoundApi, p: number) {
    return this[BINDING].mmu.load64(p);
  },
  loadPtr(this: BoundApi, p: number) {
    return this[BINDING].mmu.loadPtr(p);
  },
  store8(this: BoundApi, p: number, v: number) {
    this[BINDING].mmu.store8(p, v);
  },
  store16(this: BoundApi, p: number, v: number) {
    this[BINDING].mmu.store16(p, v);
  },
  store32(this: BoundApi, p: number, v: number) {
    this[BINDING].mmu.store32(p, v);
  },
  store64(this: BoundApi, p: number, v: number) {
    this[BINDING].mmu.store64(p, v);
  },
  storePtr(this: BoundApi, p: number, v: number) {
    this[BINDING].mmu.storePtr(p, v);
  },
  readBytes(this: BoundApi, p: number, dst: Uint8Array, off?: number, len?: number) {
    this[BINDING].mmu.readBytes(p, dst, off, len);
  },
  writeBytes(this: BoundApi, p: number, src: Uint8Array, off?: number, len?: number) {
    this[BINDING].mmu.writeBytes(p, src, off, len);
  },
  memcpy(this: BoundApi, dst: number, src: number, len: number) {
    if (len > 0) this[BINDING].mmu.copy(dst, src, len);
  },
  memset(this: BoundApi, dst: number, byte: number, len: number) {
    const { mmu, fill } = this[BINDING];
    fill.fill(byte & 0xff);
    for (let off = 0; off < len; off += FILL_CHUNK)
      mmu.writeBytes(dst + off, fill, 0, Math.min(FILL_CHUNK, len - off));
  },
  readl(this: BoundApi, p: number) {
    return this[BINDING].mmu.load32(p);
  },
  readw(this: BoundApi, p: number) {
    return this[BINDING].mmu.load16(p);
  },
  readb(this: BoundApi, p: number) {
    return this[BINDING].mmu.load8(p);
  },
  writel(this: BoundApi, v: number, p: number) {
    this[BINDING].mmu.store32(p, v);
  },
  writew(this: BoundApi, v: number, p: number) {
    this[BINDING].mmu.store16(p, v);
  },
  writeb(this: BoundApi, v: number, p: number) {
    this[BINDING].mmu.store8(p, v);
  },
  inl(this: BoundApi, port: number) {
    return this[BINDING].cpu.in(port, 4);
  },
  inw(this: BoundApi, port: number) {
    return this[BINDING].cpu.in(port, 2);
  },
  inb(this: BoundApi, port: number) {
    return this[BINDING].cpu.in(port, 1);
  },
  outl(this: BoundApi, v: number, port: number) {
    this[BINDING].cpu.out(port, 4, v);
  },
  outw(this: BoundApi, v: number, port: number) {
    this[BINDING].cpu.out(port, 2, v);
  },
  outb(this: BoundApi, v: number, port: number) {
    this[BINDING].cpu.out(port, 1, v);
  },
  fn(this: BoundApi, name: string) {
    return this[BINDING].inst.fn(name);
  },
};

/**
 * A new prototype for one mode's `k`: inheriting from `parent`, holding the accessors and `fn`,
 * then `services` (name -> method, called with the `k` as `this`).
 */
export function kernelApiPrototype(parent: object | null, services: Record<string, unknown>): object {
  return Object.assign(Object.create(parent) as object, ACCESSORS, services);
}

/**
 * A fresh `k` of `proto` (from `kernelApiPrototype`) bound to `inst` of `kn`: its methods reach
 * the machine's MMU and CPU, and `arch` the CPU's privileged instructions.
 */
export function bindKernelApi(proto: object, kn: Kernel, inst: DriverInstance): BoundApi {
  const { mmu, cpu } = kn.machine;
  const api = Object.create(proto) as { [BINDING]: Binding; arch: Record<string, unknown> };
  api[BINDING] = { kn, inst, mmu, cpu, fill: new Uint8Array(FILL_CHUNK) };
  api.arch = {
    cli: () => cpu.cli(),
    sti: () => cpu.sti(),
    hlt: () => cpu.hlt(),
    read_cr3: () => cpu.movFromCr(3),
    write_cr3: (v: number) => cpu.movToCr(3, v),
    wrmsr: (msr: number, v: number) => cpu.wrmsr(msr, v),
    invlpg: (p: number) => cpu.invlpg(p),
  };
  return api;
}
