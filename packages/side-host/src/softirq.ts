/**
 * Softirqs: TIMER (expired timer_lists), NET_TX (draining qdiscs of woken queues) and NET_RX
 * (net_rx_action polling NAPI contexts), in Linux's order. NAPI: netif_napi_add, napi_enable
 * and napi_disable, napi_schedule, napi_complete_done. net_rx_action gives each poll its weight
 * (64) as budget and spends at most NETDEV_BUDGET (300) per round; a context that used its
 * whole budget stays scheduled and goes to the tail, as in Linux; leftover work waits for the
 * next round of the run loop (ksoftirqd).
 */
import { NAPI_STATE_DISABLED, NAPI_STATE_ENABLED, NAPI_STATE_SCHED, NapiStruct } from "@side-kernel/kservice";
import type { DriverInstance } from "./driver.js";
import { hexAddr, KernelBug } from "./errors.js";
import type { Kernel } from "./kernel.js";
import { NETDEV_BUDGET } from "./limits.js";

/** One registered NAPI context. */
export interface NapiRecord {
  readonly ptr: number;
  readonly dev: number;
  readonly poll: number;
  readonly weight: number;
  readonly owner: DriverInstance;
  enabled: boolean;
  scheduled: boolean;
  /** napi_complete_done was called during the current poll. */
  completed: boolean;
  /** Polls run. */
  polls: number;
}

/** The softirq machinery and NAPI. */
export class Softirq {
  private readonly napis = new Map<number, NapiRecord>();
  private pollList: NapiRecord[] = [];
  /** Rounds of net_rx_action. */
  rxRounds = 0;

  constructor(private readonly kn: Kernel) {}

  /** The record of napi `ptr`. Throws KernelBug naming the service for an unknown context. */
  napi(ptr: number, service: string): NapiRecord {
    const n = this.napis.get(ptr);
    if (n === undefined) throw new KernelBug(service, ptr, `${hexAddr(ptr)} is not a registered napi_struct`);
    return n;
  }

  /** NAPI contexts of net_device `dev`. */
  napisOf(dev: number): NapiRecord[] {
    return [...this.napis.values()].filter((n) => n.dev === dev);
  }

  private mirror(n: NapiRecord): void {
    const state =
      (n.scheduled ? NAPI_STATE_SCHED : 0) | (n.enabled ? NAPI_STATE_ENABLED : NAPI_STATE_DISABLED);
    this.kn.mmu.store32(n.ptr + NapiStruct.state, state);
  }

  /** netif_napi_add: register (disabled until napi_enable). KernelBug if already registered. */
  add(inst: DriverInstance, dev: number, napi: number, poll: number, weight: number): void {
    this.kn.net.device(dev, "netif_napi_add");
    if (this.napis.has(napi))
      throw new KernelBug("netif_napi_add", napi, `napi ${hexAddr(napi)} is already registered`);
    const n: NapiRecord = {
      ptr: napi,
      dev,
      poll,
      weight,
      owner: inst,
      enabled: false,
      scheduled: false,
      completed: false,
      polls: 0,
    };
    this.napis.set(napi, n);
    const mmu = this.kn.mmu;
    mmu.storePtr(napi + NapiStruct.poll, poll);
    mmu.storePtr(napi + NapiStruct.dev, dev);
    mmu.store32(napi + NapiStruct.weight, weight);
    this.mirror(n);
  }

  /** netif_napi_del (also done by free_netdev). Releases the owner's ledger entry. */
  del(napi: number, service = "netif_napi_del"): void {
    const n = this.napi(napi, service);
    this.unschedule(n);
    this.napis.delete(napi);
    n.owner.ledger.drop("napi", napi);
  }

  /** napi_enable. */
  enable(napi: number): void {
    const n = this.napi(napi, "napi_enable");
    n.enabled = true;
    this.mirror(n);
  }

  /** napi_disable: no poll runs concurrently on one CPU; unschedules and disables. */
  disable(napi: number): void {
    const n = this.napi(napi, "napi_disable");
    this.unschedule(n);
    n.enabled = false;
    this.mirror(n);
  }

  private unschedule(n: NapiRecord): void {
    if (!n.scheduled) return;
    n.scheduled = false;
    const i = this.pollList.indexOf(n);
    if (i >= 0) this.pollList.splice(i, 1);
  }

  /** napi_schedule: queue the poll unless disabled or already scheduled. */
  schedule(napi: number): void {
    const n = this.napi(napi, "napi_schedule");
    if (!n.enabled || n.scheduled) return;
    n.scheduled = true;
    this.pollList.push(n);
    this.mirror(n);
  }

  /** napi_complete_done: leave polling mode. Returns 1 (the driver may re-enable interrupts). */
  completeDone(napi: number): number {
    const n = this.napi(napi, "napi_complete_done");
    n.completed = true;
    this.unschedule(n);
    this.mirror(n);
    return 1;
  }

  /** True if some softirq has work. */
  get pending(): boolean {
    return this.pollList.length > 0 || this.kn.timers.hasExpired() || this.kn.net.txPending();
  }

  /** Run one round of each pending softirq (TIMER, NET_TX, NET_RX). Returns true if anything ran. */
  run(): boolean {
    const kn = this.kn;
    if (!this.pending || kn.inIrq > 0 || kn.inSoftirq > 0) return false;
    kn.inSoftirq++;
    try {
      kn.timers.runExpired();
      kn.net.runTx();
      if (this.pollList.length > 0) this.netRxAction();
    } finally {
      kn.inSoftirq--;
    }
    return true;
  }

  /** net_rx_action: poll scheduled contexts within NETDEV_BUDGET. */
  private netRxAction(): void {
    this.rxRounds++;
    let budget = NETDEV_BUDGET;
    const mmu = this.kn.mmu;
    while (budget > 0 && this.pollList.length > 0) {
      const n = this.pollList.shift()!;
      n.completed = false;
      n.polls++;
      const poll = mmu.loadPtr(n.ptr + NapiStruct.poll);
      const work = n.owner.call(poll, n.ptr, n.weight);
      if (work > n.weight || work < 0) {
        this.kn.log.write("warn", n.owner.name, `napi poll returned ${work} with budget ${n.weight}`);
      }
      budget -= Math.max(work, 0);
      if (!n.completed && n.scheduled && n.enabled) {
        // used its whole budget (or forgot to complete): stays scheduled, at the tail
        this.pollList.push(n);
      } else if (!n.completed) {
        n.scheduled = false;
      }
      this.mirror(n);
    }
  }
}
