/**
 * A test driver with a bug on a timer: it binds the 8086:100E like status-driver.ts (maps BAR 0,
 * claims the BARs, so its I/O ports are granted in isolated mode), allocates a net_device it never
 * registers, and arms a timer whose callback runs `bug`. The bug therefore runs from the TIMER
 * softirq through the kernel's function pointer, as real driver code would.
 */

import {
  type DriverModule,
  GFP_KERNEL,
  IORESOURCE_IO,
  IORESOURCE_MEM,
  type KernelApi,
  TimerList,
} from "@side-kernel/kservice";
import { registerTestPciDriver, unregisterTestPciDriver } from "./pci-test-module.js";

/** What the bug gets: the driver's private block, its (shadow) pci_dev, its BAR 0 mapping, its netdev. */
export interface BugContext {
  readonly priv: number;
  readonly pdev: number;
  readonly hw: number;
  readonly netdev: number;
}

/** A bug: runs in the timer callback. */
export type Bug = (k: KernelApi, ctx: BugContext) => void;

const NAME = "buggy";
/** Private block: BAR 0 mapping, pci_dev, BARs claimed, netdev, then the timer. */
const Priv = { hw: 0, pdev: 8, bars: 16, netdev: 24, timer: 32, SIZE: 32 + TimerList.SIZE } as const;

/** The driver module with `bug` on its timer. */
export function buggyDriver(bug: Bug): DriverModule {
  function init(k: KernelApi): number {
    return registerTestPciDriver(k, NAME);
  }

  function probe(k: KernelApi, pdev: number): number {
    const priv = k.kzalloc(Priv.SIZE, GFP_KERNEL);
    if (priv === 0) return -12;
    k.pci_enable_device(pdev);
    const bars = k.pci_select_bars(pdev, IORESOURCE_MEM | IORESOURCE_IO);
    k.pci_request_selected_regions(pdev, bars, NAME);
    const hw = k.pci_ioremap_bar(pdev, 0);
    const netdev = k.alloc_etherdev(16);
    k.storePtr(priv + Priv.hw, hw);
    k.storePtr(priv + Priv.pdev, pdev);
    k.store32(priv + Priv.bars, bars);
    k.storePtr(priv + Priv.netdev, netdev);
    k.pci_set_drvdata(pdev, priv);
    k.timer_setup(priv + Priv.timer, k.fn("fire"), 0);
    k.mod_timer(priv + Priv.timer, k.jiffies() + 1);
    return 0;
  }

  function fire(k: KernelApi, timer: number): number {
    const priv = timer - Priv.timer;
    bug(k, {
      priv,
      pdev: k.loadPtr(priv + Priv.pdev),
      hw: k.loadPtr(priv + Priv.hw),
      netdev: k.loadPtr(priv + Priv.netdev),
    });
    return 0;
  }

  function remove(k: KernelApi, pdev: number): number {
    const priv = k.pci_get_drvdata(pdev);
    k.del_timer_sync(priv + Priv.timer);
    k.free_netdev(k.loadPtr(priv + Priv.netdev));
    k.iounmap(k.loadPtr(priv + Priv.hw));
    k.pci_release_selected_regions(pdev, k.load32(priv + Priv.bars));
    k.pci_disable_device(pdev);
    k.kfree(priv);
    return 0;
  }

  return {
    name: NAME,
    entryPoints: { init, exit: unregisterTestPciDriver, probe, remove, fire },
    init: "init",
    exit: "exit",
  };
}
