/**
 * The kernel API: the one object (`k`) a driver receives. It carries the kernel services of the
 * spec table, the memory and device accessors, and the few privileged instructions a driver
 * could execute. The host binds `k` per mode (DESIGN.md): natively every call is direct at ring
 * 0; isolated, memory accesses run at ring 3 in the driver domain and services cross into the
 * checked-call layer. The driver's code is the same in every mode.
 */
import type { CodeAddress, Ptr } from "./constants.js";
import type { KernelServices } from "./spec.js";

/** Loads and stores through the MMU of the current execution context. */
export interface MemoryAccessors {
  load8(addr: Ptr): number;
  load16(addr: Ptr): number;
  load32(addr: Ptr): number;
  /** A 64-bit load as a number (exact below 2^53). */
  load64(addr: Ptr): number;
  /** A 64-bit pointer: #GP if bits 63:48 are not canonical. */
  loadPtr(addr: Ptr): Ptr;
  store8(addr: Ptr, value: number): void;
  store16(addr: Ptr, value: number): void;
  store32(addr: Ptr, value: number): void;
  store64(addr: Ptr, value: number): void;
  storePtr(addr: Ptr, value: Ptr): void;
  /** Copy `len` bytes from simulated memory into `dst` at `offset`. */
  readBytes(addr: Ptr, dst: Uint8Array, offset?: number, len?: number): void;
  /** Copy `len` bytes of `src` from `offset` into simulated memory. */
  writeBytes(addr: Ptr, src: Uint8Array, offset?: number, len?: number): void;
  /** memcpy within simulated memory. */
  memcpy(dst: Ptr, src: Ptr, len: number): void;
  /** memset within simulated memory. */
  memset(dst: Ptr, byte: number, len: number): void;
}

/**
 * Device accessors with Linux's argument order (value first for writes). MMIO goes through the
 * MMU to an ioremapped address; port I/O goes through the CPU's IOPL and I/O-bitmap checks.
 */
export interface DeviceAccessors {
  readl(addr: Ptr): number;
  readw(addr: Ptr): number;
  readb(addr: Ptr): number;
  writel(value: number, addr: Ptr): void;
  writew(value: number, addr: Ptr): void;
  writeb(value: number, addr: Ptr): void;
  inl(port: number): number;
  inw(port: number): number;
  inb(port: number): number;
  outl(value: number, port: number): void;
  outw(value: number, port: number): void;
  outb(value: number, port: number): void;
}

/** Instructions that need ring 0: at ring 3 each is a #GP(0). Drivers have no business using them. */
export interface ArchInstructions {
  cli(): void;
  sti(): void;
  hlt(): void;
  read_cr3(): number;
  write_cr3(value: number): void;
  wrmsr(msr: number, value: number): void;
  invlpg(addr: Ptr): void;
}

/** What a driver receives. */
export interface KernelApi extends KernelServices, MemoryAccessors, DeviceAccessors {
  readonly arch: ArchInstructions;
  /** The code address of one of this module's entry points (a C function name used as a pointer). */
  fn(name: string): CodeAddress;
}

/** An entry point: called by the kernel through a function pointer, with `k` first. */
export type EntryPoint = (k: KernelApi, ...args: number[]) => number | undefined;

/**
 * A loadable driver module. All of its state lives in simulated memory: the kernel may run a
 * fresh instance of the same module after a failure, and a module must not keep JS state
 * between calls.
 *
 * The kernel calls entry points through function pointers with these signatures:
 * - module init(k) -> 0 | -errno; module exit(k, drv), drv = the pci_driver init registered
 * - pci_driver.probe(k, pdev, id) -> 0 | -errno; pci_driver.remove(k, pdev)
 * - ndo_open(k, dev) and ndo_stop(k, dev) -> 0 | -errno; ndo_start_xmit(k, skb, dev) -> NETDEV_TX_*
 * - an interrupt handler(k, irq, dev_id) -> IRQ_NONE | IRQ_HANDLED
 * - a NAPI poll(k, napi, budget) -> packets done
 * - a timer callback(k, timer); a work function(k, work)
 */
export interface DriverModule {
  readonly name: string;
  /** The module's text: every function the kernel may reach through a pointer, by name. */
  readonly entryPoints: Readonly<Record<string, EntryPoint>>;
  /** Name of module_init (typically registers a PCI driver); returns 0 or -errno. */
  readonly init: string;
  /**
   * Name of module_exit. A module has no static data section here, so the kernel passes exit
   * the `struct pci_driver` pointer that init registered (0 if it registered none).
   */
  readonly exit: string;
}
