/**
 * The binding of `k`: the service implementations (one table, Linux names, from kservice's
 * SERVICES) and the native binder. A native service stub charges the driver's memory accesses
 * so far, charges the spec's cost to "kernel", runs the implementation, applies the spec's
 * ledger effect (kept in native mode too) and charges the kernel's accesses. A call an armed
 * failpoint (`kernel.failpoints`) picks returns the service's failure value instead, charged
 * the same but with no implementation run and no ledger effect. Accessors go
 * straight to the MMU at CPL 0 in the kernel address space.
 *
 * The isolated mode re-binds only this: its stubs will run `checkCall` (kservice) and cross
 * into the kernel, its accessors will run at CPL 3 in the domain's address space, and its
 * callbacks become upcalls. The implementations table is shared.
 */
import {
  DMA_MAPPING_ERROR,
  type Effect,
  type KernelApi,
  type Ledger,
  NetDevice,
  type ResourceKind,
  SERVICES,
  type ServiceName,
  type ServiceSpec,
} from "@side-kernel/kservice";
import { BINDING, type BoundApi, bindKernelApi, kernelApiPrototype } from "./accessors.js";
import type { DriverInstance } from "./driver.js";
import { failureValue } from "./failpoints.js";
import type { Kernel } from "./kernel.js";

/** A service implementation: (kernel, calling instance, the call's arguments) -> result. */
// biome-ignore lint/suspicious/noExplicitAny: arguments are numbers or (for "str" arguments) strings, per the spec table
type ServiceImpl = (kn: Kernel, inst: DriverInstance, ...args: any[]) => unknown;

const KCALLOC_LIMIT = 2 ** 31;

/** The implementation of every service in the spec table. */
export const SERVICE_IMPLS: Record<ServiceName, ServiceImpl> = {
  // memory
  kmalloc: (kn, inst, size: number, gfp: number) => kn.kmalloc(inst, size, gfp, false, "kmalloc"),
  kzalloc: (kn, inst, size: number, gfp: number) => kn.kmalloc(inst, size, gfp, true, "kzalloc"),
  kcalloc: (kn, inst, n: number, size: number, gfp: number) =>
    n * size === 0 || n * size >= KCALLOC_LIMIT ? 0 : kn.kmalloc(inst, n * size, gfp, true, "kcalloc"),
  kfree: (kn, inst, ptr: number) => kn.kfree(inst, ptr),
  vzalloc: (kn, inst, size: number) => kn.vzalloc(inst, size),
  vfree: (kn, inst, ptr: number) => kn.vfree(inst, ptr),
  // DMA
  dma_set_mask_and_coherent: (kn, _i, pdev: number, mask: number) => kn.dmaSetMask(pdev, mask),
  dma_alloc_coherent: (kn, inst, pdev: number, size: number, handle: number) =>
    kn.dmaAllocCoherent(inst, pdev, size, handle),
  dma_free_coherent: (kn, inst, pdev: number, size: number, va: number, dma: number) =>
    kn.dmaFreeCoherent(inst, pdev, size, va, dma),
  dma_map_single: (kn, inst, pdev: number, ptr: number, size: number, dir: number) =>
    kn.dmaMapSingle(inst, pdev, ptr, size, dir),
  dma_unmap_single: (kn, inst, pdev: number, dma: number, size: number, dir: number) =>
    kn.dmaUnmapSingle(inst, pdev, dma, size, dir),
  dma_mapping_error: (_k, _i, _pdev: number, dma: number) => (dma === DMA_MAPPING_ERROR ? 1 : 0),
  dma_sync_single_for_cpu: (kn, _i, pdev: number, dma: number) => {
    kn.pci.device(pdev, "dma_sync_single_for_cpu");
    if (!kn.dmaMappings.has(dma))
      kn.log.write("warn", "kernel", `dma_sync_single_for_cpu of unmapped ${dma}`);
    return 0;
  },
  // PCI
  pci_register_driver: (kn, inst, drv: number) => kn.pci.registerDriver(inst, drv),
  pci_unregister_driver: (kn, inst, drv: number) => kn.pci.unregisterDriver(inst, drv),
  pci_enable_device: (kn, _i, pdev: number) => kn.pci.enable(pdev),
  pci_disable_device: (kn, _i, pdev: number) => kn.pci.disable(pdev),
  pci_select_bars: (kn, _i, pdev: number, flags: number) => kn.pci.selectBars(pdev, flags),
  pci_request_selected_regions: (kn, inst, pdev: number, bars: number) =>
    kn.pci.requestRegions(inst, pdev, bars),
  pci_release_selected_regions: (kn, inst, pdev: number, bars: number) =>
    kn.pci.releaseRegions(inst, pdev, bars),
  pci_set_master: (kn, _i, pdev: number) => kn.pci.setMaster(pdev),
  pci_ioremap_bar: (kn, inst, pdev: number, bar: number) => kn.pci.ioremapBar(inst, pdev, bar),
  iounmap: (kn, inst, addr: number) => kn.pci.iounmap(inst, addr),
  pci_resource_start: (kn, _i, pdev: number, bar: number) => kn.pci.resource(pdev, bar, "start"),
  pci_resource_len: (kn, _i, pdev: number, bar: number) => kn.pci.resource(pdev, bar, "len"),
  pci_resource_flags: (kn, _i, pdev: number, bar: number) => kn.pci.resource(pdev, bar, "flags"),
  pci_read_config_word: (kn, _i, pdev: number, where: number, val: number) =>
    kn.pci.readConfigWord(pdev, where, val),
  pci_set_drvdata: (kn, _i, pdev: number, data: number) => kn.pci.setDrvdata(pdev, data),
  pci_get_drvdata: (kn, _i, pdev: number) => kn.pci.getDrvdata(pdev),
  pci_save_state: (kn, _i, pdev: number) => kn.pci.saveState(pdev),
  pci_restore_state: (kn, _i, pdev: number) => kn.pci.restoreState(pdev),
  // IRQ
  request_irq: (kn, inst, irq: number, handler: number, flags: number, name: string, devId: number) =>
    kn.irq.request(inst, irq, handler, flags, name, devId),
  free_irq: (kn, inst, irq: number, devId: number) => kn.irq.free(inst, irq, devId),
  synchronize_irq: (kn, _i, irq: number) => kn.irq.synchronize(irq),
  // netdev
  alloc_etherdev: (kn, inst, priv: number) => kn.net.allocEtherdev(inst, priv),
  free_netdev: (kn, inst, dev: number) => kn.net.freeNetdev(inst, dev),
  netdev_priv: (kn, _i, dev: number) => kn.net.device(dev, "netdev_priv").ptr + NetDevice.PRIV,
  register_netdev: (kn, _i, dev: number) => kn.net.register(dev),
  unregister_netdev: (kn, _i, dev: number) => kn.net.unregister(dev),
  netif_start_queue: (kn, _i, dev: number) => kn.net.startQueue(dev),
  netif_stop_queue: (kn, _i, dev: number) => kn.net.stopQueue(dev),
  netif_wake_queue: (kn, _i, dev: number) => kn.net.wakeQueue(dev),
  netif_queue_stopped: (kn, _i, dev: number) => kn.net.queueStopped(dev),
  netif_carrier_on: (kn, _i, dev: number) => kn.net.setCarrier(dev, true),
  netif_carrier_off: (kn, _i, dev: number) => kn.net.setCarrier(dev, false),
  netif_carrier_ok: (kn, _i, dev: number) => kn.net.carrierOk(dev),
  netdev_sent_queue: (kn, _i, dev: number, bytes: number) => kn.net.sentQueue(dev, bytes),
  netdev_completed_queue: (kn, _i, dev: number, pkts: number, bytes: number) =>
    kn.net.completedQueue(dev, pkts, bytes),
  eth_type_trans: (kn, _i, skb: number, dev: number) => {
    kn.net.device(dev, "eth_type_trans");
    return kn.skb.ethTypeTrans(skb, dev);
  },
  is_valid_ether_addr: (kn, _i, addr: number) => (kn.net.validEther(addr) ? 1 : 0),
  // NAPI
  netif_napi_add: (kn, inst, dev: number, napi: number, poll: number, weight: number) =>
    kn.softirq.add(inst, dev, napi, poll, weight),
  netif_napi_del: (kn, _i, napi: number) => kn.softirq.del(napi),
  napi_enable: (kn, _i, napi: number) => kn.softirq.enable(napi),
  napi_disable: (kn, _i, napi: number) => kn.softirq.disable(napi),
  napi_schedule: (kn, _i, napi: number) => kn.softirq.schedule(napi),
  napi_complete_done: (kn, _i, napi: number) => kn.softirq.completeDone(napi),
  napi_gro_receive: (kn, _i, napi: number, skb: number) => {
    kn.softirq.napi(napi, "napi_gro_receive");
    return kn.net.receive(skb);
  },
  netif_receive_skb: (kn, _i, skb: number) => kn.net.receive(skb),
  // skb
  netdev_alloc_skb: (kn, _i, dev: number, length: number) => {
    const d = kn.net.device(dev, "netdev_alloc_skb");
    return kn.skb.alloc(d.owner.heap, dev, length, kn.skb.pad);
  },
  napi_alloc_skb: (kn, _i, napi: number, length: number) => {
    const n = kn.softirq.napi(napi, "napi_alloc_skb");
    const d = kn.net.device(n.dev, "napi_alloc_skb");
    return kn.skb.alloc(d.owner.heap, n.dev, length, kn.skb.pad + 2);
  },
  dev_kfree_skb_any: (kn, _i, skb: number) => kn.skb.free(skb, "dev_kfree_skb_any"),
  skb_put: (kn, _i, skb: number, len: number) => kn.skb.put(skb, len),
  skb_reserve: (kn, _i, skb: number, len: number) => kn.skb.reserve(skb, len),
  skb_trim: (kn, _i, skb: number, len: number) => kn.skb.trim(skb, len),
  eth_skb_pad: (kn, _i, skb: number) => kn.skb.pad60(skb),
  // timers and work
  timer_setup: (kn, _i, timer: number, fn: number, flags: number) => kn.timers.setup(timer, fn, flags),
  mod_timer: (kn, inst, timer: number, expires: number) => kn.timers.mod(inst, timer, expires),
  del_timer_sync: (kn, _i, timer: number) => kn.timers.del(timer),
  INIT_WORK: (kn, _i, work: number, fn: number) => kn.work.init(work, fn),
  INIT_DELAYED_WORK: (kn, _i, dwork: number, fn: number) => kn.work.initDelayed(dwork, fn),
  schedule_work: (kn, inst, work: number) => kn.work.schedule(inst, work, 0),
  schedule_delayed_work: (kn, inst, dwork: number, delay: number) => kn.work.schedule(inst, dwork, delay),
  cancel_work_sync: (kn, _i, work: number) => kn.work.cancel(work),
  cancel_delayed_work_sync: (kn, _i, dwork: number) => kn.work.cancel(dwork),
  // locks
  spin_lock_init: (kn, _i, lock: number) => kn.mmu.store32(lock, 0),
  spin_lock: (kn, _i, lock: number) => kn.spinLock(lock),
  spin_unlock: (kn, _i, lock: number) => kn.spinUnlock(lock),
  spin_lock_irqsave: (kn, _i, lock: number) => kn.spinLockIrqsave(lock),
  spin_unlock_irqrestore: (kn, _i, lock: number, flags: number) => kn.spinUnlockIrqrestore(lock, flags),
  // delays and time
  msleep: (kn, _i, ms: number) => kn.msleep(ms),
  udelay: (kn, _i, us: number) => kn.busyWait(us * 1e3),
  mdelay: (kn, _i, ms: number) => kn.busyWait(ms * 1e6),
  jiffies: (kn) => kn.jiffies,
  // logging
  printk: (kn, inst, msg: string) => kn.log.write("info", inst.name, msg),
  netdev_err: (kn, _i, dev: number, msg: string) =>
    kn.log.write("err", kn.net.device(dev, "netdev_err").name || "net_device", msg),
  netdev_info: (kn, _i, dev: number, msg: string) =>
    kn.log.write("info", kn.net.device(dev, "netdev_info").name || "net_device", msg),
  dev_err: (kn, _i, pdev: number, msg: string) => kn.log.write("err", kn.pci.devName(pdev), msg),
};

/** True if a call with result `r` of a service returning `kind` succeeded (for "acquires ret"). */
function succeeded(spec: ServiceSpec, r: number): boolean {
  switch (spec.returns) {
    case "ptr":
      return r !== 0;
    case "dma":
      return r !== DMA_MAPPING_ERROR;
    case "errno":
      return r === 0;
    default:
      return true;
  }
}

function pick(i: number, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown): number {
  const v = i === 0 ? a : i === 1 ? b : i === 2 ? c : i === 3 ? d : e;
  return typeof v === "number" ? v : 0;
}

/** Apply a spec's ledger effect after an accepted call. */
export function applyEffect(
  ledger: Ledger,
  name: string,
  spec: ServiceSpec,
  effect: Effect,
  r: number,
  a: unknown,
  b: unknown,
  c: unknown,
  d: unknown,
  e: unknown,
): void {
  new EffectPlan(name, spec, effect).apply(ledger, r, a, b, c, d, e);
}

/** What an EffectPlan does to the ledger. */
const EFFECT_NONE = 0;
const EFFECT_RELEASE = 1;
const EFFECT_ACQUIRE = 2;

/**
 * A service's ledger effect decided once (none, acquire or release; the resource kind; where
 * the key comes from), so that each call applies it as `applyEffect` does without inspecting
 * the spec (under JSC, the per-call `in` test on effects of several shapes went to the runtime).
 */
export class EffectPlan {
  private readonly mode: number;
  private readonly kind: ResourceKind;
  /** Argument index of the resource key; -1 for the result. */
  private readonly at: number;

  constructor(
    readonly name: string,
    readonly spec: ServiceSpec,
    effect: Effect | undefined = spec.effect,
  ) {
    this.mode = effect === undefined ? EFFECT_NONE : "releases" in effect ? EFFECT_RELEASE : EFFECT_ACQUIRE;
    this.kind = effect === undefined ? "heap" : "releases" in effect ? effect.releases : effect.acquires;
    this.at = effect === undefined || effect.key === "ret" ? -1 : effect.key;
  }

  /** Applies the effect of a call with arguments a..e that returned `r` to `ledger`. */
  apply(ledger: Ledger, r: number, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown): void {
    if (this.mode === EFFECT_RELEASE) {
      const key = pick(this.at, a, b, c, d, e);
      if (key !== 0) ledger.drop(this.kind, key);
    } else if (this.mode === EFFECT_ACQUIRE && succeeded(this.spec, r)) {
      ledger.acquire(this.kind, this.at < 0 ? r : pick(this.at, a, b, c, d, e), this.name);
    }
  }
}

/**
 * A native service method of `k`: no checks, direct call, ledger kept (its EffectPlan decided
 * once here), costs charged.
 */
function nativeService(name: ServiceName) {
  const spec: ServiceSpec = SERVICES[name];
  const impl = SERVICE_IMPLS[name];
  const cost = spec.cost;
  const fail = spec.returns === "void" ? 0 : failureValue(name, spec);
  const effect = new EffectPlan(name, spec);
  return function (this: BoundApi, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): number {
    const { kn, inst } = this[BINDING];
    const machine = kn.machine;
    machine.chargeAccesses("driver");
    machine.clock.charge("kernel", cost);
    inst.counters.serviceCalls++;
    const fp = kn.failpoints;
    if (fp.armed !== 0 && fp.shouldFail(name, inst.name)) {
      machine.chargeAccesses("kernel");
      return fail;
    }
    const r = impl(kn, inst, a, b, c, d, e);
    const rv = typeof r === "number" ? r : 0;
    effect.apply(inst.ledger, rv, a, b, c, d, e);
    machine.chargeAccesses("kernel");
    return rv;
  };
}

/** The prototype of every native `k`: the accessors and a method per service. */
const NATIVE_API = kernelApiPrototype(
  Object.prototype,
  Object.fromEntries((Object.keys(SERVICES) as ServiceName[]).map((name) => [name, nativeService(name)])),
);

/**
 * Build the native `k` for `inst`: the accessors of `kernelApiPrototype`, which go straight to
 * the kernel MMU (CPL 0, kernel CR3) and, for port I/O and privileged instructions, to the CPU;
 * and a method per service.
 */
export function bindNative(kn: Kernel, inst: DriverInstance): KernelApi {
  return bindKernelApi(NATIVE_API, kn, inst) as unknown as KernelApi;
}
