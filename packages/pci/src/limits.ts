/**
 * Defaults of a PciBus: where the host bridge places ECAM and the windows firmware assigns BARs
 * from (a q35-like layout below 4 GiB), the i440fx/PIIX INTx routing, and log bounds.
 */

/** Physical address of the ECAM region (QEMU q35 uses 0xB0000000). */
export const DEFAULT_ECAM_BASE = 0xb000_0000;
/** Buses the ECAM region covers: 256 buses x 1 MiB = 256 MiB (hardware.md 4.1). */
export const DEFAULT_ECAM_BUSES = 256;
/** 32-bit MMIO window for BARs and expansion ROMs. */
export const DEFAULT_MMIO_WINDOW = { base: 0xc000_0000, size: 0x1000_0000 } as const;
/** I/O port window for I/O BARs (above the legacy ISA range). */
export const DEFAULT_IO_WINDOW = { base: 0xc000, size: 0x4000 } as const;
/**
 * PIRQ routing of PIRQA..D to ISA IRQs. With the PIIX swizzle
 * IRQ = routing[(device + pin - 1) % 4], QEMU's e1000 at 00:03.0 INTA gets IRQ 11 (QEMU pc
 * machines route PIRQA-D to 10, 10, 11, 11).
 */
export const DEFAULT_INTX_ROUTING: readonly number[] = [10, 10, 11, 11];
/** Master aborts kept in `PciBus.aborts` (older ones are dropped; `abortCount` keeps the total). */
export const DEFAULT_ABORT_LOG_LIMIT = 256;
/** Interrupt lines the wired-OR tracker covers (ISA IRQs and IOAPIC pins fit in 0..255). */
export const MAX_IRQ_LINES = 256;
/** Linux walks at most 48 capabilities (PCI_FIND_CAP_TTL) to survive a looped chain. */
export const CAPABILITY_WALK_LIMIT = 48;
