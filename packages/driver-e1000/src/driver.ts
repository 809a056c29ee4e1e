/**
 * The module object the kernel loads: its text (entry points by name) and the names of
 * module_init and module_exit.
 */
import type { DriverModule, EntryPoint } from "@side-kernel/kservice";
import {
  e1000_clean,
  e1000_close,
  e1000_exit_module,
  e1000_init_module,
  e1000_intr,
  e1000_open,
  e1000_probe,
  e1000_remove,
  e1000_reset_task,
  e1000_set_mac,
  e1000_set_rx_mode,
  e1000_tx_timeout,
  e1000_watchdog,
  e1000_xmit_frame,
} from "./main.js";

/** Every function the kernel may reach through a pointer, under its Linux name. */
const entryPoints: Readonly<Record<string, EntryPoint>> = Object.freeze({
  e1000_init_module,
  e1000_exit_module,
  e1000_probe,
  e1000_remove,
  e1000_open,
  e1000_close,
  e1000_xmit_frame,
  e1000_set_rx_mode,
  e1000_set_mac,
  e1000_tx_timeout,
  e1000_intr,
  e1000_clean,
  e1000_watchdog,
  e1000_reset_task,
});

/**
 * The e1000 driver module. The kernel calls `init` ("e1000_init_module", which registers the
 * pci_driver and returns 0 or -errno) and, to unload, `exit` ("e1000_exit_module") with the
 * pci_driver pointer init registered as its one argument. Every other entry point is reached
 * through a code address the driver stored (pci_driver, net_device_ops, request_irq,
 * netif_napi_add, timer_setup, INIT_WORK). The module keeps no JS state: all of it lives in
 * simulated memory, so a fresh instance can take over.
 */
export const e1000Driver: DriverModule = Object.freeze({
  name: "e1000",
  entryPoints,
  init: "e1000_init_module",
  exit: "e1000_exit_module",
});
