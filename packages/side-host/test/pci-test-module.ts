/**
 * module_init and module_exit shared by the test drivers: build a `struct pci_driver` for
 * 8086:100E (name, a one-entry id table, probe and remove from the module's own entry points)
 * in one kzalloc block and register it; exit unregisters it and frees the block.
 */
import { GFP_KERNEL, type KernelApi, PciDeviceId, PciDriver } from "@side-kernel/kservice";

/** The block: the pci_driver, the id table (one entry and the zero terminator), the name. */
const Mod = {
  driver: 0,
  ids: PciDriver.SIZE,
  name: PciDriver.SIZE + 2 * PciDeviceId.SIZE,
} as const;
/** Longest driver name (with its NUL). */
const NAME_MAX = 32;

/** module_init: register a pci_driver named `name` for 8086:100E; 0 or -errno. */
export function registerTestPciDriver(k: KernelApi, name: string): number {
  if (name.length >= NAME_MAX) throw new RangeError(`test driver name "${name}" is too long`);
  const mod = k.kzalloc(Mod.name + NAME_MAX, GFP_KERNEL);
  if (mod === 0) return -12;
  for (let i = 0; i < name.length; i++) k.store8(mod + Mod.name + i, name.charCodeAt(i));
  k.store32(mod + Mod.ids + PciDeviceId.vendor, 0x8086);
  k.store32(mod + Mod.ids + PciDeviceId.device, 0x100e);
  k.store32(mod + Mod.ids + PciDeviceId.subvendor, 0xffff_ffff);
  k.store32(mod + Mod.ids + PciDeviceId.subdevice, 0xffff_ffff);
  k.storePtr(mod + PciDriver.name, mod + Mod.name);
  k.storePtr(mod + PciDriver.idTable, mod + Mod.ids);
  k.storePtr(mod + PciDriver.probe, k.fn("probe"));
  k.storePtr(mod + PciDriver.remove, k.fn("remove"));
  const rc = k.pci_register_driver(mod + Mod.driver);
  if (rc !== 0) k.kfree(mod);
  return rc;
}

/** module_exit: the kernel passes the pci_driver that init registered. */
export function unregisterTestPciDriver(k: KernelApi, drv: number): number {
  k.pci_unregister_driver(drv);
  k.kfree(drv);
  return 0;
}
