/**
 * The kernel's own failure reports. A `KernelBug` is a misuse of a kernel service (Linux would
 * BUG() or WARN()): it names the service, the value and what was wrong. A `KernelPanic` is the
 * end of the run: native driver code did something that crashes a real kernel (jumping to a
 * garbage code address, faulting at ring 0). A `Livelock` is the run loop's guard tripping.
 */

/** Misuse of a kernel service: double free, unmapping what was never mapped, an unknown object. */
export class KernelBug extends Error {
  override readonly name = "KernelBug";
  constructor(
    /** The service that detected it (e.g. "kfree"). */
    readonly service: string,
    /** The offending value (an address, an IRQ number). */
    readonly value: number,
    message: string,
  ) {
    super(`${service}: ${message}`);
  }
}

/** The kernel crashed: the run cannot continue (a real machine would need a reboot). */
export class KernelPanic extends Error {
  override readonly name = "KernelPanic";
  constructor(message: string, options?: { cause?: unknown }) {
    super(`Kernel panic: ${message}`, options);
  }
}

/** The run loop made no progress through events for too long. */
export class Livelock extends Error {
  override readonly name = "Livelock";
}

/** Formats a 48-bit linear address canonically (0xffff... for the kernel half). */
export function hexAddr(va: number): string {
  if (!Number.isInteger(va) || va < 0 || va >= 2 ** 48) return `<non-canonical ${String(va)}>`;
  const digits = va.toString(16).padStart(12, "0");
  return va >= 2 ** 47 ? `0xffff${digits}` : `0x0000${digits}`;
}

/** Formats a number as 0x-hex (for bus addresses, IRQ cookies). */
export function hex(n: number): string {
  return Number.isInteger(n) && n >= 0 ? `0x${n.toString(16)}` : String(n);
}

/** A driver unloaded while its ledger still held resources. */
export class ModuleLeak extends Error {
  override readonly name = "ModuleLeak";
  constructor(
    readonly module: string,
    /** Resources still held, by kind. */
    readonly leaks: Readonly<Record<string, number>>,
  ) {
    super(
      `module ${module} unloaded with resources still held: ${Object.entries(leaks)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}`,
    );
  }
}
