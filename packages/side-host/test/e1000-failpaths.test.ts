/**
 * The e1000 driver's error paths against the real host: for every fallible service the driver
 * calls during module init + probe (loadDriver) and open (ifup), found by counting the calls of a
 * clean load and ifup, a failure injected into its first, second and last call either makes the
 * stage fail with nothing new held, or is one the driver legitimately survives; unload then
 * leaves nothing (expectNoLeaks).
 */
import { e1000Driver } from "@side-kernel/driver-e1000";
import { EIO, ENOMEM, type ServiceName } from "@side-kernel/kservice";
import { describe, expect, it } from "vitest";
import type { DriverInstance, Kernel } from "../src/index.js";
import { bootKernel, expectNoLeaks } from "./helpers.js";

const MAC = "52:54:00:12:34:56";
const NEVER = 2 ** 40;

/**
 * The services that can fail in Linux (allocation, mapping, registration, resource claims).
 * The others with a result (netdev_priv, pci_get_drvdata, eth_type_trans...) cannot.
 */
const FALLIBLE: ServiceName[] = [
  "kmalloc",
  "kzalloc",
  "kcalloc",
  "vzalloc",
  "dma_set_mask_and_coherent",
  "dma_alloc_coherent",
  "dma_map_single",
  "pci_register_driver",
  "pci_enable_device",
  "pci_request_selected_regions",
  "pci_ioremap_bar",
  "pci_read_config_word",
  "request_irq",
  "alloc_etherdev",
  "register_netdev",
  "netdev_alloc_skb",
  "napi_alloc_skb",
];

/** Calls of each fallible service during `stage`, counted by failpoints that never fire. */
function countCalls(kernel: Kernel, stage: () => void): Map<ServiceName, number> {
  for (const s of FALLIBLE) kernel.failpoints.arm(s, { nth: NEVER });
  stage();
  const counts = new Map<ServiceName, number>();
  for (const s of FALLIBLE) {
    const n = kernel.failpoints.seen(s);
    if (n > 0) counts.set(s, n);
  }
  kernel.failpoints.disarm();
  expect(kernel.failpoints.injected).toBe(0);
  return counts;
}

/** The RX refill's services: a failure leaves one RX buffer short, not a failed open. */
const RX_REFILL = new Set<ServiceName>(["netdev_alloc_skb", "dma_map_single"]);

function nths(count: number): number[] {
  return [...new Set([1, 2, count])].filter((n) => n <= count);
}

describe.each(["native", "isolated"] as const)("e1000 failure paths, %s", (mode) => {
  const { kernel: k0 } = bootKernel({ mac: MAC });
  let inst0: DriverInstance | undefined;
  const loadCalls = countCalls(k0, () => {
    inst0 = k0.loadDriver(e1000Driver, { mode });
  });
  const openCalls = countCalls(k0, () => {
    expect(k0.net.devOpen("eth0")).toBe(0);
  });
  k0.unloadDriver(inst0!);
  k0.shutdown();

  it("a clean load and ifup call the services the old fake-kernel tests failed", () => {
    for (const s of [
      "pci_register_driver",
      "pci_enable_device",
      "pci_request_selected_regions",
      "pci_ioremap_bar",
      "alloc_etherdev",
      "register_netdev",
    ] as ServiceName[])
      expect(loadCalls.get(s), s).toBeGreaterThan(0);
    for (const s of [
      "vzalloc",
      "dma_alloc_coherent",
      "request_irq",
      "netdev_alloc_skb",
      "dma_map_single",
    ] as ServiceName[])
      expect(openCalls.get(s), s).toBeGreaterThan(0);
  });

  const loadCases = [...loadCalls].flatMap(([s, n]) => nths(n).map((nth) => [s, nth, n] as const));
  it.each(loadCases)("load: %s call %i (of %i) failing leaves nothing held", (service, nth) => {
    const { kernel } = bootKernel({ mac: MAC });
    kernel.failpoints.arm(service, { nth });
    let inst: DriverInstance | undefined;
    let err: unknown;
    try {
      inst = kernel.loadDriver(e1000Driver, { mode });
    } catch (e) {
      err = e;
    }
    expect(kernel.failpoints.injected).toBe(1);
    if (err !== undefined) {
      // init failed: loadDriver checked the ledger was empty (ModuleLeak otherwise)
      // module init: its data block (kzalloc) or pci_register_driver; both give -ENOMEM
      expect(String(err)).toMatch(/init of module e1000 returned -12$/);
    } else {
      expect(inst!.state).toBe("live");
      const eth0 = kernel.net.byName("eth0");
      if (eth0 === undefined) {
        // probe failed: the device is unbound, the module keeps only its pci_driver
        const line = kernel.log.dmesg().find((l) => /probe of .* failed with error -\d+/.test(l));
        // -EIO for an unmappable BAR (as Linux's e1000_probe), -ENOMEM for the rest
        const errno = service === "pci_ioremap_bar" ? -EIO : -ENOMEM;
        expect(line).toMatch(new RegExp(`failed with error ${errno}$`));
        // the module keeps only what init made: its data block and the registered pci_driver
        expect(inst!.ledger.summary()).toEqual({ heap: 1, "pci-driver": 1 });
      }
      // else: a failure the driver survives (an optional step); it must still unload clean
      kernel.unloadDriver(inst!);
    }
    expectNoLeaks(kernel);
  });

  const openCases = [...openCalls].flatMap(([s, n]) => nths(n).map((nth) => [s, nth, n] as const));
  it.each(openCases)("ifup: %s call %i (of %i) failing leaves nothing new held", (service, nth) => {
    const { kernel } = bootKernel({ mac: MAC });
    const inst = kernel.loadDriver(e1000Driver, { mode });
    const held = inst.ledger.summary();
    kernel.failpoints.arm(service, { nth });
    const rc = kernel.net.devOpen("eth0");
    expect(kernel.failpoints.injected).toBe(1);
    if (RX_REFILL.has(service)) {
      // as Linux's e1000_alloc_rx_buffers: a short refill is not an error, open succeeds
      expect(rc).toBe(0);
      expect(kernel.net.byName("eth0")!.up).toBe(true);
    } else {
      expect(rc).toBe(-ENOMEM);
      expect(kernel.net.byName("eth0")!.up).toBe(false);
      expect(inst.ledger.summary()).toEqual(held);
    }
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});
