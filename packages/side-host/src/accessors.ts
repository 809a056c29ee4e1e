/**
 * The part of a driver's `k` that is the same in native and isolated mode: memory accessors
 * through the MMU, device accessors (MMIO through the MMU with Linux's argument order, port I/O
 * on the CPU), the privileged instructions a driver could try, and `fn`. What differs between the
 * modes is not here but in the MMU's and CPU's state while the driver runs (CPL 0 in the kernel
 * address space, or CPL 3 in the domain's), and in the service stubs each binder adds.
 *
 * These are the driver's hot path: each accessor is a plain closure over local variables, one
 * call into the MMU or CPU, nothing else.
 */
import type { Mmu } from "@side-kernel/paging";
import type { Cpu } from "@side-kernel/privilege";
import type { DriverInstance } from "./driver.js";

/** Chunk of memset: it fills through one reusable buffer of this many bytes. */
const FILL_CHUNK = 4096;

/**
 * A fresh object holding the accessors, `arch` and `fn` of a driver's `k` (the binder adds the
 * services to it): loads, stores and byte copies go to `mmu`, port I/O and `arch` to `cpu`, and
 * `fn(name)` to `inst.fn`. Accessors throw what the MMU or CPU throws (page faults, #GP).
 */
export function bindAccessors(mmu: Mmu, cpu: Cpu, inst: DriverInstance): Record<string, unknown> {
  const fill = new Uint8Array(FILL_CHUNK);
  return {
    load8: (p: number) => mmu.load8(p),
    load16: (p: number) => mmu.load16(p),
    load32: (p: number) => mmu.load32(p),
    load64: (p: number) => mmu.load64(p),
    loadPtr: (p: number) => mmu.loadPtr(p),
    store8: (p: number, v: number) => mmu.store8(p, v),
    store16: (p: number, v: number) => mmu.store16(p, v),
    store32: (p: number, v: number) => mmu.store32(p, v),
    store64: (p: number, v: number) => mmu.store64(p, v),
    storePtr: (p: number, v: number) => mmu.storePtr(p, v),
    readBytes: (p: number, dst: Uint8Array, off?: number, len?: number) => mmu.readBytes(p, dst, off, len),
    writeBytes: (p: number, src: Uint8Array, off?: number, len?: number) => mmu.writeBytes(p, src, off, len),
    memcpy: (dst: number, src: number, len: number) => {
      if (len > 0) mmu.copy(dst, src, len);
    },
    memset: (dst: number, byte: number, len: number) => {
      fill.fill(byte & 0xff);
      for (let off = 0; off < len; off += FILL_CHUNK)
        mmu.writeBytes(dst + off, fill, 0, Math.min(FILL_CHUNK, len - off));
    },
    readl: (p: number) => mmu.load32(p),
    readw: (p: number) => mmu.load16(p),
    readb: (p: number) => mmu.load8(p),
    writel: (v: number, p: number) => mmu.store32(p, v),
    writew: (v: number, p: number) => mmu.store16(p, v),
    writeb: (v: number, p: number) => mmu.store8(p, v),
    inl: (port: number) => cpu.in(port, 4),
    inw: (port: number) => cpu.in(port, 2),
    inb: (port: number) => cpu.in(port, 1),
    outl: (v: number, port: number) => cpu.out(port, 4, v),
    outw: (v: number, port: number) => cpu.out(port, 2, v),
    outb: (v: number, port: number) => cpu.out(port, 1, v),
    arch: {
      cli: () => cpu.cli(),
      sti: () => cpu.sti(),
      hlt: () => cpu.hlt(),
      read_cr3: () => cpu.movFromCr(3),
      write_cr3: (v: number) => cpu.movToCr(3, v),
      wrmsr: (msr: number, v: number) => cpu.wrmsr(msr, v),
      invlpg: (p: number) => cpu.invlpg(p),
    },
    fn: (name: string) => inst.fn(name),
  };
}
