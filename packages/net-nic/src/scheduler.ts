/**
 * The clock and timer service the NIC and the wire need, owned here as a structural interface
 * (`@side-kernel/privilege`'s EventQueue satisfies it). Time is simulated, in nanoseconds.
 */
export interface Scheduler {
  /** The current simulated time in ns. */
  now(): number;
  /** Run `callback` at simulated time `atNs` (not before now); returns an id for `cancel`. */
  schedule(atNs: number, callback: () => void): number;
  /** Cancel a scheduled callback; unknown or already-run ids are ignored. */
  cancel(id: number): void;
}

/** Trace categories of the NIC (a bit mask; v86's `dbg_log(msg, LOG_NET)` style). */
export const TRACE_MMIO = 1 << 0;
export const TRACE_UNKNOWN_REG = 1 << 1;
export const TRACE_TX = 1 << 2;
export const TRACE_RX = 1 << 3;
export const TRACE_IRQ = 1 << 4;
export const TRACE_PHY = 1 << 5;
export const TRACE_EEPROM = 1 << 6;
export const TRACE_ALL = 0x7f;

/** A trace sink: receives a category bit and a message. Only called for enabled categories. */
export type TraceHook = (category: number, message: string) => void;
