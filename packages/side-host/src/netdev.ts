/**
 * The netdev core: alloc_etherdev / free_netdev, register_netdev (name eth%d, MAC and ops
 * checked) / unregister_netdev, ifup/ifdown (dev_open / dev_close call ndo_open / ndo_stop
 * through the ops table in memory), TX queue state, carrier, byte-queue-limit counters,
 * `xmit` (dev_queue_xmit with a small FIFO qdisc used while the queue is stopped and drained by
 * the NET_TX softirq on wake) and the receive path (napi_gro_receive / netif_receive_skb ->
 * `protocolHandler`).
 *
 * NOTES for the stack engineer (src/net/, src/user/). The seam is `kernel.net` (this class):
 * - `allocSkb(dev, size)`: an skb (pointer) with `size` bytes of room after NET_SKB_PAD
 *   headroom, owned by the kernel; `put(skb, len)` extends it and returns the address to write
 *   at, `writeSkb(skb, bytes)` does put + copy; `freeSkb(skb)`.
 * - `xmit(skb)`: dev_queue_xmit. The skb carries its device (allocSkb's `dev`); the skb belongs
 *   to the driver (or the qdisc) afterwards. Returns NET_XMIT_SUCCESS or NET_XMIT_DROP.
 * - `protocolHandler`: set it to receive every skb the drivers hand up (after eth_type_trans:
 *   data points at the network header; `frame(skb)` gives the whole Ethernet frame and
 *   `data(skb)` the payload from data). The handler owns the skb and must `freeSkb` it. With no
 *   handler, received skbs are counted (`rxUnhandled`) and freed.
 * - `mmu` (`kernel.mmu`): read and write skb data in simulated memory; `kernel.skb` has the
 *   records (`dataAddress`, `data`, `frame`).
 * - `byName("eth0")` / `devices()`: the registered interfaces; `devOpen` / `devClose` are
 *   ifup / ifdown; `setRxMode`, `setMacAddress` and `txTimeout` call the driver's
 *   ndo_set_rx_mode, ndo_set_mac_address and ndo_tx_timeout.
 * - The run loop: `kernel.machine.run({ untilNs, until, maxEvents })`.
 */
import {
  AddrMap,
  EINVAL,
  ENOMEM,
  ETH_ALEN,
  IFF_ALLMULTI,
  IFF_BROADCAST,
  IFF_MULTICAST,
  IFF_PROMISC,
  IFF_UP,
  NETDEV_STATE_CARRIER_OK,
  NETDEV_STATE_PRESENT,
  NETDEV_STATE_QUEUE_STOPPED,
  NETDEV_STATE_REGISTERED,
  NETDEV_TX_BUSY,
  NETDEV_TX_OK,
  NetDevice,
  NetDeviceOps,
} from "@side-kernel/kservice";
import type { DriverInstance } from "./driver.js";
import { hexAddr, KernelBug } from "./errors.js";
import type { Kernel } from "./kernel.js";
import { ETH_DATA_LEN, TX_QUEUE_LEN } from "./limits.js";
import { EOPNOTSUPP } from "./user/abi.js";

/** dev_queue_xmit results (include/linux/netdevice.h). */
export const NET_XMIT_SUCCESS = 0;
export const NET_XMIT_DROP = 1;
/** Alignment of the private area after struct net_device (NETDEV_ALIGN). */
const NETDEV_ALIGN = 32;
/** Most interfaces named eth0..ethN. */
const MAX_ETH_INDEX = 1024;

/** Kernel-side counters of one interface (the driver's own stats are in the struct). */
export interface NetdevCounters {
  rxPackets: number;
  rxBytes: number;
  /** Received skbs freed because no protocol handler was set. */
  rxUnhandled: number;
  txPackets: number;
  txBytes: number;
  /** skbs dropped by xmit (interface down, qdisc full). */
  txDropped: number;
  /** skbs that waited in the qdisc. */
  txQueued: number;
  /** NETDEV_TX_BUSY returns. */
  txBusy: number;
}

/** The kernel's truth about one net_device. */
export interface NetdevRecord {
  readonly ptr: number;
  readonly owner: DriverInstance;
  name: string;
  registered: boolean;
  up: boolean;
  carrier: boolean;
  stopped: boolean;
  readonly qdisc: number[];
  txScheduled: boolean;
  /** BQL: bytes handed to the device and not completed; totals. */
  readonly bql: { inflight: number; sent: number; completed: number; completedPackets: number };
  readonly counters: NetdevCounters;
}

/** A receiver of skbs the drivers hand up (the UDP/IPv4 stack sets it). */
export type ProtocolHandler = (skb: number, dev: NetdevRecord) => void;

/** The netdev core. */
export class NetCore {
  /** Receives every skb handed up; null counts and frees them. */
  protocolHandler: ProtocolHandler | null = null;
  private readonly devs = new AddrMap<NetdevRecord>();
  private readonly names = new Map<string, NetdevRecord>();
  private readonly txList: NetdevRecord[] = [];

  constructor(private readonly kn: Kernel) {}

  /** The kernel MMU (for reading and writing skb data). */
  get mmu(): Kernel["mmu"] {
    return this.kn.mmu;
  }

  /** The record of net_device `ptr`. Throws KernelBug naming the service for anything else. */
  device(ptr: number, service: string): NetdevRecord {
    const d = this.devs.get(ptr);
    if (d === undefined) throw new KernelBug(service, ptr, `${hexAddr(ptr)} is not a net_device`);
    return d;
  }

  /** The registered interface `name` (e.g. "eth0"), or undefined. */
  byName(name: string): NetdevRecord | undefined {
    return this.names.get(name);
  }

  /** Registered interfaces. */
  devices(): NetdevRecord[] {
    return [...this.names.values()];
  }

  /** Every net_device (registered or not) allocated by `inst`. */
  devicesOf(inst: DriverInstance): NetdevRecord[] {
    return [...this.devs.values()].filter((d) => d.owner === inst);
  }

  private resolve(dev: number | string, service: string): NetdevRecord {
    if (typeof dev === "string") {
      const d = this.names.get(dev);
      if (d === undefined) throw new KernelBug(service, 0, `no interface named "${dev}"`);
      return d;
    }
    return this.device(dev, service);
  }

  private mirrorState(d: NetdevRecord): void {
    const state =
      NETDEV_STATE_PRESENT |
      (d.carrier ? NETDEV_STATE_CARRIER_OK : 0) |
      (d.stopped ? NETDEV_STATE_QUEUE_STOPPED : 0) |
      (d.registered ? NETDEV_STATE_REGISTERED : 0);
    this.kn.mmu.store32(d.ptr + NetDevice.state, state);
  }

  // ----------------------------------------------------------------- lifetime

  /** alloc_etherdev: zeroed net_device + private area from the owner's pool; 0 when out of memory. */
  allocEtherdev(inst: DriverInstance, sizeofPriv: number): number {
    const size = NetDevice.PRIV + Math.ceil(sizeofPriv / NETDEV_ALIGN) * NETDEV_ALIGN;
    const ptr = inst.heap.alloc(size, inst.id, true, "kernel");
    if (ptr === 0) return 0;
    const d: NetdevRecord = {
      ptr,
      owner: inst,
      name: "",
      registered: false,
      up: false,
      carrier: false,
      stopped: true,
      qdisc: [],
      txScheduled: false,
      bql: { inflight: 0, sent: 0, completed: 0, completedPackets: 0 },
      counters: {
        rxPackets: 0,
        rxBytes: 0,
        rxUnhandled: 0,
        txPackets: 0,
        txBytes: 0,
        txDropped: 0,
        txQueued: 0,
        txBusy: 0,
      },
    };
    this.devs.set(ptr, d);
    const mmu = this.kn.mmu;
    mmu.store32(ptr + NetDevice.mtu, ETH_DATA_LEN);
    mmu.store32(ptr + NetDevice.flags, IFF_BROADCAST | IFF_MULTICAST);
    this.mirrorState(d);
    return ptr;
  }

  /** free_netdev: also deletes its NAPI contexts. KernelBug while still registered. */
  freeNetdev(inst: DriverInstance, dev: number): void {
    const d = this.device(dev, "free_netdev");
    if (d.registered) throw new KernelBug("free_netdev", dev, `${d.name} is still registered`);
    for (const n of this.kn.softirq.napisOf(dev)) this.kn.softirq.del(n.ptr, "free_netdev");
    this.devs.delete(dev);
    inst.heap.free(dev, inst.id, "free_netdev", "kernel");
  }

  /**
   * register_netdev: checks the ops table (ndo_open, ndo_stop, ndo_start_xmit present) and the
   * MAC (not multicast, not zero), names the interface eth<lowest free>, writes the name.
   * Returns 0 or -EINVAL (logged). KernelBug if already registered.
   */
  register(dev: number): number {
    const d = this.device(dev, "register_netdev");
    if (d.registered) throw new KernelBug("register_netdev", dev, `${d.name} is already registered`);
    const mmu = this.kn.mmu;
    const ops = mmu.loadPtr(dev + NetDevice.netdevOps);
    if (
      ops === 0 ||
      mmu.loadPtr(ops + NetDeviceOps.ndoOpen) === 0 ||
      mmu.loadPtr(ops + NetDeviceOps.ndoStop) === 0 ||
      mmu.loadPtr(ops + NetDeviceOps.ndoStartXmit) === 0
    ) {
      this.kn.log.write("err", d.owner.name, "register_netdev: net_device_ops lacks open/stop/start_xmit");
      return -EINVAL;
    }
    if (!this.validEther(dev + NetDevice.devAddr)) {
      this.kn.log.write("err", d.owner.name, `register_netdev: invalid MAC ${this.macString(dev)}`);
      return -EINVAL;
    }
    let i = 0;
    while (this.names.has(`eth${i}`) && i < MAX_ETH_INDEX) i++;
    d.name = `eth${i}`;
    for (let j = 0; j < NetDevice.NAME_SIZE; j++)
      mmu.store8(dev + NetDevice.name + j, j < d.name.length ? d.name.charCodeAt(j) : 0);
    d.registered = true;
    this.names.set(d.name, d);
    this.mirrorState(d);
    this.kn.log.write("info", d.name, `registered, MAC ${this.macString(dev)}`);
    return 0;
  }

  /** unregister_netdev: ifdown if up (ndo_stop), drop the qdisc, withdraw the name. KernelBug if not registered. */
  unregister(dev: number): void {
    const d = this.device(dev, "unregister_netdev");
    if (!d.registered)
      throw new KernelBug("unregister_netdev", dev, `net_device ${hexAddr(dev)} is not registered`);
    if (d.up) this.devClose(dev);
    this.flushQdisc(d);
    d.registered = false;
    this.names.delete(d.name);
    this.mirrorState(d);
  }

  /** The MAC in dev_addr as "52:54:00:12:34:56". */
  macString(dev: number): string {
    const b: string[] = [];
    for (let i = 0; i < ETH_ALEN; i++)
      b.push(
        this.kn.mmu
          .load8(dev + NetDevice.devAddr + i)
          .toString(16)
          .padStart(2, "0"),
      );
    return b.join(":");
  }

  /** is_valid_ether_addr on 6 bytes at `addr`: not multicast and not all zeros. */
  validEther(addr: number): boolean {
    const mmu = this.kn.mmu;
    if ((mmu.load8(addr) & 1) !== 0) return false;
    for (let i = 0; i < ETH_ALEN; i++) if (mmu.load8(addr + i) !== 0) return true;
    return false;
  }

  // ----------------------------------------------------------------- ifup / ifdown

  /**
   * dev_open (ifup): call ndo_open through the ops table; on 0 set IFF_UP. Returns ndo_open's
   * result (0 if already up). Throws KernelBug for an unknown or unregistered device.
   */
  devOpen(dev: number | string): number {
    const d = this.resolve(dev, "dev_open");
    if (!d.registered)
      throw new KernelBug("dev_open", d.ptr, `net_device ${hexAddr(d.ptr)} is not registered`);
    if (d.up) return 0;
    const mmu = this.kn.mmu;
    const ops = mmu.loadPtr(d.ptr + NetDevice.netdevOps);
    const rc = d.owner.call(mmu.loadPtr(ops + NetDeviceOps.ndoOpen), d.ptr);
    if (rc === 0) {
      d.up = true;
      mmu.store32(d.ptr + NetDevice.flags, mmu.load32(d.ptr + NetDevice.flags) | IFF_UP);
    }
    return rc;
  }

  /** dev_close (ifdown): clear IFF_UP, call ndo_stop, free what waits in the qdisc. No-op when down. */
  devClose(dev: number | string): void {
    const d = this.resolve(dev, "dev_close");
    if (!d.up) return;
    d.up = false;
    const mmu = this.kn.mmu;
    const ops = mmu.loadPtr(d.ptr + NetDevice.netdevOps);
    d.owner.call(mmu.loadPtr(ops + NetDeviceOps.ndoStop), d.ptr);
    mmu.store32(d.ptr + NetDevice.flags, mmu.load32(d.ptr + NetDevice.flags) & ~IFF_UP);
    this.flushQdisc(d);
  }

  // ----------------------------------------------------------------- other net_device_ops

  /**
   * The rx-mode half of dev_set_promiscuity / dev_set_allmulti (__dev_set_rx_mode): set or
   * clear IFF_PROMISC / IFF_ALLMULTI in dev->flags as `mode` says (a field left out keeps its
   * flag), then, if the interface is up and the driver has one, call ndo_set_rx_mode through the
   * ops table (natively or across the driver's domain boundary, as devOpen calls ndo_open).
   * Returns true if ndo_set_rx_mode was called. Throws KernelBug for an unknown or unregistered
   * device.
   */
  setRxMode(dev: number | string, mode: { promisc?: boolean; allmulti?: boolean }): boolean {
    const d = this.registered(dev, "dev_set_rx_mode");
    const mmu = this.kn.mmu;
    let flags = mmu.load32(d.ptr + NetDevice.flags);
    if (mode.promisc !== undefined) flags = mode.promisc ? flags | IFF_PROMISC : flags & ~IFF_PROMISC;
    if (mode.allmulti !== undefined) flags = mode.allmulti ? flags | IFF_ALLMULTI : flags & ~IFF_ALLMULTI;
    mmu.store32(d.ptr + NetDevice.flags, flags);
    if (!d.up) return false;
    const fn = this.ndo(d, NetDeviceOps.ndoSetRxMode);
    if (fn === 0) return false;
    d.owner.call(fn, d.ptr);
    return true;
  }

  /**
   * dev_set_mac_address: the 6 bytes of `mac` are put in a buffer in the owner's memory (where
   * an isolated driver may read them) and ndo_set_mac_address(dev, buffer) is called through the
   * ops table; the buffer is freed afterwards. Returns the driver's result (0, or e.g.
   * -EADDRNOTAVAIL for an address it refuses), -EOPNOTSUPP when the driver has no
   * ndo_set_mac_address, -ENOMEM when the buffer cannot be allocated. Throws KernelBug for an
   * unknown or unregistered device, RangeError when `mac` is not 6 bytes.
   */
  setMacAddress(dev: number | string, mac: ArrayLike<number>): number {
    const d = this.registered(dev, "dev_set_mac_address");
    if (mac.length !== ETH_ALEN)
      throw new RangeError(`dev_set_mac_address: address has ${mac.length} bytes, not ${ETH_ALEN}`);
    const fn = this.ndo(d, NetDeviceOps.ndoSetMacAddress);
    if (fn === 0) return -EOPNOTSUPP;
    const owner = d.owner;
    const buf = owner.heap.alloc(ETH_ALEN, owner.id, false, "kernel");
    if (buf === 0) return -ENOMEM;
    const mmu = this.kn.mmu;
    for (let i = 0; i < ETH_ALEN; i++) mmu.store8(buf + i, mac[i] & 0xff);
    try {
      return owner.call(fn, d.ptr, buf);
    } finally {
      owner.heap.free(buf, owner.id, "dev_set_mac_address", "kernel");
    }
  }

  /**
   * What dev_watchdog does when a TX queue has been stopped too long: log "NETDEV WATCHDOG" and
   * call ndo_tx_timeout through the ops table. Returns true if it was called, false when the
   * interface is down or the driver has no ndo_tx_timeout. Throws KernelBug for an unknown or
   * unregistered device.
   */
  txTimeout(dev: number | string): boolean {
    const d = this.registered(dev, "dev_watchdog");
    if (!d.up) return false;
    const fn = this.ndo(d, NetDeviceOps.ndoTxTimeout);
    if (fn === 0) return false;
    this.kn.log.write("warn", d.name, "NETDEV WATCHDOG: transmit queue 0 timed out");
    d.owner.call(fn, d.ptr);
    return true;
  }

  private registered(dev: number | string, service: string): NetdevRecord {
    const d = this.resolve(dev, service);
    if (!d.registered) throw new KernelBug(service, d.ptr, `net_device ${hexAddr(d.ptr)} is not registered`);
    return d;
  }

  /** The net_device_ops slot at `offset` of `d` (0 when the driver leaves it empty). */
  private ndo(d: NetdevRecord, offset: number): number {
    const mmu = this.kn.mmu;
    return mmu.loadPtr(mmu.loadPtr(d.ptr + NetDevice.netdevOps) + offset);
  }

  private flushQdisc(d: NetdevRecord): void {
    for (const skb of d.qdisc) this.kn.skb.free(skb, "qdisc flush");
    d.qdisc.length = 0;
  }

  // ----------------------------------------------------------------- queue, carrier, BQL

  /** netif_start_queue. */
  startQueue(dev: number): void {
    const d = this.device(dev, "netif_start_queue");
    d.stopped = false;
    this.mirrorState(d);
  }

  /** netif_stop_queue. */
  stopQueue(dev: number): void {
    const d = this.device(dev, "netif_stop_queue");
    d.stopped = true;
    this.mirrorState(d);
  }

  /** netif_wake_queue: restart, and let NET_TX drain the qdisc. */
  wakeQueue(dev: number): void {
    const d = this.device(dev, "netif_wake_queue");
    d.stopped = false;
    this.mirrorState(d);
    if (d.qdisc.length > 0 && !d.txScheduled) {
      d.txScheduled = true;
      this.txList.push(d);
    }
  }

  /** netif_queue_stopped. */
  queueStopped(dev: number): number {
    return this.device(dev, "netif_queue_stopped").stopped ? 1 : 0;
  }

  /** netif_carrier_on / off. */
  setCarrier(dev: number, on: boolean): void {
    const d = this.device(dev, on ? "netif_carrier_on" : "netif_carrier_off");
    if (d.carrier !== on)
      this.kn.log.write("info", d.name || "net_device", on ? "carrier on" : "carrier off");
    d.carrier = on;
    this.mirrorState(d);
  }

  /** netif_carrier_ok. */
  carrierOk(dev: number): number {
    return this.device(dev, "netif_carrier_ok").carrier ? 1 : 0;
  }

  /** netdev_sent_queue. */
  sentQueue(dev: number, bytes: number): void {
    const d = this.device(dev, "netdev_sent_queue");
    d.bql.inflight += bytes;
    d.bql.sent += bytes;
  }

  /** netdev_completed_queue. KernelBug when more bytes complete than are in flight (Linux's dql BUG_ON). */
  completedQueue(dev: number, pkts: number, bytes: number): void {
    const d = this.device(dev, "netdev_completed_queue");
    if (bytes > d.bql.inflight) {
      throw new KernelBug(
        "netdev_completed_queue",
        bytes,
        `${bytes} bytes completed but only ${d.bql.inflight} in flight on ${d.name}`,
      );
    }
    d.bql.inflight -= bytes;
    d.bql.completed += bytes;
    d.bql.completedPackets += pkts;
  }

  // ----------------------------------------------------------------- TX

  /** An skb for `dev` (pointer or name) with `size` bytes of room after NET_SKB_PAD; 0 when out of memory. */
  allocSkb(dev: number | string, size: number): number {
    const d = this.resolve(dev, "allocSkb");
    if (!Number.isInteger(size) || size <= 0)
      throw new KernelBug("allocSkb", size, `size ${size} is not positive`);
    return this.kn.skb.alloc(d.owner.heap, d.ptr, size, this.kn.skb.pad);
  }

  /** skb_put for the stack: returns the address to write `len` bytes at. */
  put(skb: number, len: number): number {
    return this.kn.skb.put(skb, len);
  }

  /** put + copy `bytes` into the skb. */
  writeSkb(skb: number, bytes: Uint8Array): void {
    this.kn.mmu.writeBytes(this.kn.skb.put(skb, bytes.length), bytes, 0, bytes.length);
  }

  /** Free an skb the stack owns. */
  freeSkb(skb: number): void {
    this.kn.skb.free(skb, "kfree_skb");
  }

  /** The payload from skb->data. */
  data(skb: number): Uint8Array {
    return this.kn.skb.data(skb);
  }

  /** The whole Ethernet frame of a received skb. */
  frame(skb: number): Uint8Array {
    return this.kn.skb.frame(skb);
  }

  /**
   * dev_queue_xmit: hand `skb` to its device. Down interface or full qdisc: dropped (freed),
   * NET_XMIT_DROP. Stopped queue (or a backlog): queued in the FIFO qdisc. Otherwise
   * ndo_start_xmit is called now; NETDEV_TX_BUSY puts the skb back at the head of the qdisc.
   */
  xmit(skb: number): number {
    const rec = this.kn.skb.get(skb, "dev_queue_xmit");
    const d = this.device(rec.dev, "dev_queue_xmit");
    if (!d.up) {
      d.counters.txDropped++;
      this.kn.skb.free(skb, "dev_queue_xmit");
      return NET_XMIT_DROP;
    }
    if (d.stopped || d.qdisc.length > 0) {
      if (d.qdisc.length >= TX_QUEUE_LEN) {
        d.counters.txDropped++;
        this.kn.skb.free(skb, "dev_queue_xmit");
        return NET_XMIT_DROP;
      }
      d.qdisc.push(skb);
      d.counters.txQueued++;
      return NET_XMIT_SUCCESS;
    }
    if (this.startXmit(d, skb) === NETDEV_TX_BUSY) d.qdisc.unshift(skb);
    return NET_XMIT_SUCCESS;
  }

  private startXmit(d: NetdevRecord, skb: number): number {
    const mmu = this.kn.mmu;
    const len = this.kn.skb.get(skb, "dev_queue_xmit").len;
    const owner = d.owner;
    owner.ledger.acquire("skb", skb, "dev_queue_xmit");
    const ops = mmu.loadPtr(d.ptr + NetDevice.netdevOps);
    const rc = owner.call(mmu.loadPtr(ops + NetDeviceOps.ndoStartXmit), skb, d.ptr);
    if (rc === NETDEV_TX_BUSY) {
      owner.ledger.drop("skb", skb);
      d.counters.txBusy++;
      return rc;
    }
    if (rc !== NETDEV_TX_OK) this.kn.log.write("warn", d.name, `ndo_start_xmit returned ${rc}`);
    d.counters.txPackets++;
    d.counters.txBytes += len;
    return NETDEV_TX_OK;
  }

  /** True if a woken queue waits for NET_TX. */
  txPending(): boolean {
    return this.txList.length > 0;
  }

  /** NET_TX softirq: drain the qdisc of every woken device while its queue runs. */
  runTx(): void {
    while (this.txList.length > 0) {
      const d = this.txList.shift()!;
      d.txScheduled = false;
      while (d.up && !d.stopped && d.qdisc.length > 0) {
        const skb = d.qdisc.shift()!;
        if (this.startXmit(d, skb) === NETDEV_TX_BUSY) {
          d.qdisc.unshift(skb);
          break;
        }
      }
    }
  }

  // ----------------------------------------------------------------- RX

  /**
   * netif_receive_skb / napi_gro_receive: the skb now belongs to the kernel; count it and give
   * it to `protocolHandler` (or free it). Returns 0 (GRO_NORMAL / NET_RX_SUCCESS).
   */
  receive(skb: number): number {
    const rec = this.kn.skb.get(skb, "netif_receive_skb");
    const d = this.devs.get(rec.dev);
    if (d !== undefined) {
      d.counters.rxPackets++;
      d.counters.rxBytes += rec.len;
    }
    const h = this.protocolHandler;
    if (h !== null && d !== undefined) {
      h(skb, d);
    } else {
      if (d !== undefined) d.counters.rxUnhandled++;
      this.kn.skb.free(skb, "netif_receive_skb");
    }
    return 0;
  }
}
