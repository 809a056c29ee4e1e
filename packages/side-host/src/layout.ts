/**
 * The kernel address-space map (as xv6's memlayout.h and Linux's
 * Documentation/arch/x86/x86_64/mm.rst). Linear addresses are 48-bit numbers; the canonical
 * form (sign extension of bit 47) is shown in the diagram and implied in the values.
 *
 *   canonical address        48-bit value      PML4 slot  what
 *   0x0000000000000000   0x000000000000     0..255  user half (processes; none in native mode)
 *   0xffff888000000000   0x888000000000        273  direct map of all physical memory
 *                                                     (Linux PAGE_OFFSET); 2 MiB pages,
 *                                                     supervisor, NX. The kernel heap, kernel
 *                                                     stacks, DMA-coherent buffers and the
 *                                                     kernel's own objects live here.
 *   0xffffc90000000000   0xc90000000000        402  vmalloc / ioremap space (Linux
 *                                                     VMALLOC_START): vzalloc (4 KiB pages,
 *                                                     frames not contiguous) and BAR mappings
 *                                                     (PCD|PWT, uncached), one guard page
 *                                                     after each area.
 *   0xffffd00000000000   0xd00000000000   416..431  driver domain regions: ONE PML4 SLOT
 *                                                     (512 GiB) PER DRIVER DOMAIN, so that a
 *                                                     domain's own top-level table can mark
 *                                                     only its slot user-accessible (DESIGN.md,
 *                                                     "The isolated driver domain").
 *   0xffffffffa0000000   0xffffa0000000        511  module text (Linux MODULES_VADDR): each
 *                                                     loaded module instance gets a slot; entry
 *                                                     point i has code address base + 16 * i.
 *
 * Kernel PML4 slots 256..511 are preallocated at boot so every process and driver domain
 * address space can share them (AddressSpace.preallocateRoot / shareRootEntries).
 */

/** First linear address of the kernel half, 0xffff800000000000. */
export const KERNEL_SPACE_START = 0x8000_0000_0000;
/** First kernel PML4 slot: 256 (bit 47 set). */
export const KERNEL_PML4_FIRST = 256;
/** Number of kernel PML4 slots, 256..511, all preallocated at boot. */
export const KERNEL_PML4_COUNT = 256;
/** Linear bytes per PML4 slot: 512 GiB (hardware.md 1.1). */
export const PML4_SLOT_SIZE = 2 ** 39;

/** Linux PAGE_OFFSET (x86-64, 4-level, no KASLR): the direct map, 0xffff888000000000. */
export const PAGE_OFFSET = 0x8880_0000_0000;
/** Linux VMALLOC_START: 0xffffc90000000000; vmalloc and ioremap areas. */
export const VMALLOC_START = 0xc900_0000_0000;
/** Size of our vmalloc/ioremap space: one PML4 slot (Linux reserves 32 TiB). */
export const VMALLOC_SIZE = PML4_SLOT_SIZE;
/** First driver-domain region: 0xffffd00000000000, one PML4 slot per domain. */
export const DRIVER_REGION_START = 0xd000_0000_0000;
/** Size of one driver domain's region: one PML4 slot (512 GiB). */
export const DRIVER_REGION_SIZE = PML4_SLOT_SIZE;
/** Number of driver-domain slots (416..431). */
export const DRIVER_REGION_SLOTS = 16;
/** Linux MODULES_VADDR: 0xffffffffa0000000, module text. */
export const MODULES_VADDR = 0xffff_a000_0000;
/** Linear bytes of module text reserved per loaded module instance. */
export const MODULE_SLOT_SIZE = 0x1_0000;
/** Number of module-text slots (Linux's module area is 1520 MiB; we use 4096 x 64 KiB). */
export const MODULE_SLOTS = 4096;
/** Distance between two entry points of a module (code addresses are base + 16 * index). */
export const ENTRY_POINT_STRIDE = 16;

/** PML4 slot of a linear address. */
export function pml4Slot(va: number): number {
  return Math.floor(va / PML4_SLOT_SIZE);
}

/** Direct-map linear address of physical address `pa` (Linux __va). */
export function directMapVa(pa: number): number {
  return PAGE_OFFSET + pa;
}

/** First linear address of driver domain `slot` (0-based). Throws RangeError for a bad slot. */
export function driverRegionStart(slot: number): number {
  if (!Number.isInteger(slot) || slot < 0 || slot >= DRIVER_REGION_SLOTS) {
    throw new RangeError(`driverRegionStart: slot ${String(slot)} is not in 0..${DRIVER_REGION_SLOTS - 1}`);
  }
  return DRIVER_REGION_START + slot * DRIVER_REGION_SIZE;
}

/** First code address of module-text slot `slot`. Throws RangeError for a bad slot. */
export function moduleSlotBase(slot: number): number {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MODULE_SLOTS) {
    throw new RangeError(`moduleSlotBase: slot ${String(slot)} is not in 0..${MODULE_SLOTS - 1}`);
  }
  return MODULES_VADDR + slot * MODULE_SLOT_SIZE;
}
