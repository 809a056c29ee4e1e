/**
 * A tiny second driver that is not the e1000: it binds to any 8086:100E, maps BAR 0 with
 * pci_ioremap_bar, reads the device STATUS register (offset 0x8, hardware.md 5.2) and logs it.
 * It proves the kernel API is not shaped around one driver. All state is in simulated memory.
 */

import { type DriverModule, GFP_KERNEL, type KernelApi } from "@side-kernel/kservice";
import { registerTestPciDriver, unregisterTestPciDriver } from "./pci-test-module.js";

/** STATUS register offset in BAR 0 (8254x; hardware.md 5.2). */
export const STATUS = 0x8;
const NAME = "status-probe";
/** Our private struct: the ioremapped BAR (8 bytes) and the STATUS value read (4 bytes). */
const Priv = { hwAddr: 0, status: 8, SIZE: 16 } as const;

function init(k: KernelApi): number {
  return registerTestPciDriver(k, NAME);
}

function probe(k: KernelApi, pdev: number, id: number): number {
  const priv = k.kzalloc(Priv.SIZE, GFP_KERNEL);
  if (priv === 0) return -12;
  let rc = k.pci_enable_device(pdev);
  if (rc !== 0) {
    k.kfree(priv);
    return rc;
  }
  const hw = k.pci_ioremap_bar(pdev, 0);
  if (hw === 0) {
    k.pci_disable_device(pdev);
    k.kfree(priv);
    return -5;
  }
  const status = k.readl(hw + STATUS);
  k.storePtr(priv + Priv.hwAddr, hw);
  k.store32(priv + Priv.status, status);
  k.pci_set_drvdata(pdev, priv);
  k.printk(`status-probe: STATUS = 0x${status.toString(16)} (module data at id table 0x${id.toString(16)})`);
  rc = 0;
  return rc;
}

function remove(k: KernelApi, pdev: number): number {
  const priv = k.pci_get_drvdata(pdev);
  k.iounmap(k.loadPtr(priv + Priv.hwAddr));
  k.pci_disable_device(pdev);
  k.pci_set_drvdata(pdev, 0);
  k.kfree(priv);
  return 0;
}

/** The module. */
export const statusDriver: DriverModule = {
  name: NAME,
  entryPoints: { init, exit: unregisterTestPciDriver, probe, remove },
  init: "init",
  exit: "exit",
};
