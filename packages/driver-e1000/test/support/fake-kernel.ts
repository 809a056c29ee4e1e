/**
 * A fake kernel for the driver's tests: flat simulated memory, a FakeE1000 behind BAR 0 and an
 * I/O BAR, and the services the driver calls. Every service call goes through kservice's
 * checkCall (the same argument checks an isolated driver meets) and its ledger effect, so a
 * test can assert that a run leaks nothing. Timers, work, interrupts and NAPI run when the
 * test calls `run()` or `tick()`.
 */
import {
  type CallerDomain,
  checkCall,
  DMA_MAPPING_ERROR,
  type DriverModule,
  EINVAL,
  ENOMEM,
  type HandleKind,
  IFF_UP,
  IORESOURCE_IO,
  IORESOURCE_MEM,
  type KernelApi,
  Ledger,
  NapiStruct,
  NET_SKB_PAD,
  NETDEV_STATE_CARRIER_OK,
  NETDEV_STATE_QUEUE_STOPPED,
  NETDEV_STATE_REGISTERED,
  NETDEV_TX_OK,
  NetDevice,
  NetDeviceOps,
  PciDev,
  PciDeviceId,
  PciDriver,
  Resource,
  SERVICES,
  type ServiceName,
  SkBuff,
  TimerList,
  WorkStruct,
} from "@side-kernel/kservice";
import { FakeE1000 } from "./fake-e1000.js";

export const MEM_BASE = 0x8880_0000_0000; // a kernel direct-map address as a 48-bit number
export const MEM_SIZE = 16 * 1024 * 1024;
export const PHYS_BASE = 0x10_0000; // bus address of MEM_BASE: nonzero, and != the virtual address
export const MMIO_VA = 0xc900_0000_0000; // where pci_ioremap_bar maps BAR 0
export const BAR0_PHYS = 0xfebc_0000;
export const BAR0_LEN = 0x20000;
export const IO_PORT = 0xc000;
export const IO_LEN = 0x40;
export const IRQ = 11;
const CODE_BASE = 0xffff_a000_0000;

/** Evaluate a side effect, then return a value (a comma expression without the operator). */
function seq(_effect: unknown, value: number): number {
  return value;
}
const ALIGN = 64;
const PAGE = 4096;

export interface FailRule {
  service: ServiceName;
  /** Fail the nth call (1-based) of that service from now on. */
  nth: number;
}

/** Failure value of a service by its return kind. */
function failureValue(name: ServiceName): number {
  const r = SERVICES[name].returns;
  if (r === "ptr") return 0;
  if (r === "dma") return DMA_MAPPING_ERROR;
  if (r === "errno") return -ENOMEM;
  throw new Error(`${name} cannot fail`);
}

export class FakeKernel {
  readonly mem = new DataView(new ArrayBuffer(MEM_SIZE));
  readonly bytes = new Uint8Array(this.mem.buffer);
  readonly ledger = new Ledger();
  readonly device: FakeE1000;
  readonly log: string[] = [];
  readonly calls: string[] = [];
  readonly fnNames: string[] = [];
  readonly received: Uint8Array[] = [];
  jiffiesNow = 1000;
  sleptMs = 0;
  delayedUs = 0;
  /** The pci_dev the kernel owns (not in the ledger). */
  readonly pdev: number;
  private brk = MEM_BASE;
  private readonly live = new Map<number, number>();
  private readonly freeLists = new Map<number, number[]>();
  private readonly code = new Map<number, string>();
  private readonly codeByName = new Map<string, number>();
  private irqHandler: { fn: number; devId: number } | undefined;
  private irqPending = false;
  private readonly timers = new Map<number, number>(); // timer -> expires
  private readonly works = new Set<number>();
  private readonly napis = new Map<number, { enabled: boolean; scheduled: boolean }>();
  private fail: FailRule | undefined;
  private failCount = 0;
  boundDriver = 0;
  netdev = 0;
  readonly k: KernelApi;

  constructor(
    public module: DriverModule,
    mac: readonly number[] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
  ) {
    this.device = new FakeE1000(this, mac, (level) => {
      if (level) this.irqPending = true;
    });
    this.pdev = this.rawAlloc(PciDev.SIZE);
    const p = this.pdev;
    this.mem.setUint16(p - MEM_BASE + PciDev.vendor, 0x8086, true);
    this.mem.setUint16(p - MEM_BASE + PciDev.device, 0x100e, true);
    this.mem.setUint32(p - MEM_BASE + PciDev.irq, IRQ, true);
    this.setResource(0, BAR0_PHYS, BAR0_LEN, IORESOURCE_MEM);
    this.setResource(1, IO_PORT, IO_LEN, IORESOURCE_IO);
    this.live.delete(this.pdev); // the kernel's object, not a driver allocation
    this.k = this.buildApi();
  }

  private setResource(bar: number, start: number, len: number, flags: number): void {
    const r = this.pdev - MEM_BASE + PciDev.resource + bar * PciDev.RESOURCE_SIZE;
    this.mem.setBigUint64(r + Resource.start, BigInt(start), true);
    this.mem.setBigUint64(r + Resource.end, BigInt(start + len - 1), true);
    this.mem.setUint32(r + Resource.flags, flags, true);
  }

  // -------------------------------------------------------------------------------------------
  // memory
  // -------------------------------------------------------------------------------------------

  private off(addr: number, len: number): number {
    const o = addr - MEM_BASE;
    if (!Number.isInteger(addr) || o < 0 || o + len > MEM_SIZE) {
      throw new Error(`#PF: access to 0x${addr.toString(16)} (+${len}) outside simulated memory`);
    }
    return o;
  }

  rawAlloc(size: number, align = ALIGN): number {
    const rounded = Math.ceil(size / ALIGN) * ALIGN;
    const list = this.freeLists.get(rounded);
    let addr = list?.pop();
    if (addr === undefined || addr % align !== 0) {
      if (addr !== undefined) list?.push(addr);
      this.brk = Math.ceil(this.brk / align) * align;
      addr = this.brk;
      this.brk += rounded;
      if (this.brk > MEM_BASE + MEM_SIZE) throw new Error("fake kernel out of memory");
    }
    this.bytes.fill(0, addr - MEM_BASE, addr - MEM_BASE + rounded);
    this.live.set(addr, rounded);
    return addr;
  }

  rawFree(addr: number): void {
    const size = this.live.get(addr);
    if (size === undefined) throw new Error(`free of 0x${addr.toString(16)}: not allocated`);
    this.live.delete(addr);
    const list = this.freeLists.get(size) ?? [];
    list.push(addr);
    this.freeLists.set(size, list);
  }

  /** Blocks the driver allocated and did not free. */
  get liveBlocks(): number {
    return this.live.size;
  }

  dmaRead(bus: number, len: number): Uint8Array {
    const o = this.off(bus - PHYS_BASE + MEM_BASE, len);
    return this.bytes.slice(o, o + len);
  }

  dmaWrite(bus: number, data: Uint8Array): void {
    this.bytes.set(data, this.off(bus - PHYS_BASE + MEM_BASE, data.length));
  }

  private isMmio(addr: number): boolean {
    return addr >= MMIO_VA && addr < MMIO_VA + BAR0_LEN;
  }

  load32(addr: number): number {
    return this.mem.getUint32(this.off(addr, 4), true);
  }

  loadPtr(addr: number): number {
    return Number(this.mem.getBigUint64(this.off(addr, 8), true));
  }

  readString(addr: number, max = 64): string {
    let s = "";
    for (let i = 0; i < max; i++) {
      const c = this.mem.getUint8(this.off(addr + i, 1));
      if (!c) break;
      s += String.fromCharCode(c);
    }
    return s;
  }

  // -------------------------------------------------------------------------------------------
  // code addresses and calls into the driver
  // -------------------------------------------------------------------------------------------

  fn(name: string): number {
    if (!Object.hasOwn(this.module.entryPoints, name)) {
      throw new Error(`k.fn("${name}"): not an entry point of module ${this.module.name}`);
    }
    this.fnNames.push(name);
    let a = this.codeByName.get(name);
    if (a === undefined) {
      a = CODE_BASE + this.codeByName.size * 16;
      this.codeByName.set(name, a);
      this.code.set(a, name);
    }
    return a;
  }

  /** The entry point name behind a code address, or undefined. */
  codeName(addr: number): string | undefined {
    return this.code.get(addr);
  }

  /** Call an entry point through a function pointer, as the kernel does. */
  callPtr(addr: number, ...args: number[]): number {
    const name = this.code.get(addr);
    if (!name) throw new Error(`call through 0x${addr.toString(16)}: not a code address`);
    return this.module.entryPoints[name](this.k, ...args) ?? 0;
  }

  callEntry(name: string, ...args: number[]): number {
    return this.module.entryPoints[name](this.k, ...args) ?? 0;
  }

  // -------------------------------------------------------------------------------------------
  // test controls
  // -------------------------------------------------------------------------------------------

  failOn(rule: FailRule | undefined): void {
    this.fail = rule;
    this.failCount = 0;
  }

  private domain: CallerDomain = {
    ownsRange: (addr, len) => addr >= MEM_BASE && addr + len <= MEM_BASE + MEM_SIZE,
    isEntryPoint: (addr) => this.code.has(addr),
    ownsIrq: (irq) => irq === IRQ,
    ownsHandle: (kind: HandleKind, value) =>
      kind === "pci-dev" ? value === this.pdev : this.ledger.has(kind, value),
  };

  private ndo(slot: number): number {
    return this.loadPtr(this.loadPtr(this.netdev + NetDevice.netdevOps) + slot);
  }

  private setState(bit: number, on: boolean): void {
    const a = this.netdev + NetDevice.state;
    const s = this.load32(a);
    this.mem.setUint32(this.off(a, 4), on ? s | bit : s & ~bit, true);
  }

  state(bit: number): boolean {
    return (this.load32(this.netdev + NetDevice.state) & bit) !== 0;
  }

  stat(field: number): number {
    return Number(this.mem.getBigUint64(this.off(this.netdev + NetDevice.stats + field, 8), true));
  }

  /** Bring the interface up through net_device_ops.ndo_open. */
  open(): number {
    const err = this.callPtr(this.ndo(NetDeviceOps.ndoOpen), this.netdev);
    if (err === 0) {
      const f = this.netdev + NetDevice.flags;
      this.mem.setUint32(this.off(f, 4), this.load32(f) | IFF_UP, true);
    }
    return err;
  }

  close(): number {
    const err = this.callPtr(this.ndo(NetDeviceOps.ndoStop), this.netdev);
    const f = this.netdev + NetDevice.flags;
    this.mem.setUint32(this.off(f, 4), this.load32(f) & ~IFF_UP, true);
    return err;
  }

  setFlags(flags: number): void {
    this.mem.setUint32(this.off(this.netdev + NetDevice.flags, 4), flags, true);
    this.callPtr(this.ndo(NetDeviceOps.ndoSetRxMode), this.netdev);
  }

  setMac(mac: readonly number[]): number {
    const buf = this.rawAlloc(8);
    this.bytes.set(mac, buf - MEM_BASE);
    const r = this.callPtr(this.ndo(NetDeviceOps.ndoSetMacAddress), this.netdev, buf);
    this.rawFree(buf);
    return r;
  }

  /** Hand a frame to ndo_start_xmit; returns its NETDEV_TX_* result. */
  transmit(frame: Uint8Array): number {
    const skb = this.allocSkb(frame.length);
    const data = this.loadPtr(skb + SkBuff.data);
    this.bytes.set(frame, data - MEM_BASE);
    this.mem.setUint32(this.off(skb + SkBuff.len, 4), frame.length, true);
    this.ledger.acquire("skb", skb, "ndo_start_xmit");
    const r = this.callPtr(this.ndo(NetDeviceOps.ndoStartXmit), skb, this.netdev);
    if (r !== NETDEV_TX_OK) {
      this.ledger.release("skb", skb);
      this.freeSkb(skb);
    }
    return r;
  }

  /** Deliver pending interrupts and run scheduled NAPI polls and work until quiet. */
  run(): void {
    for (let guard = 0; guard < 1000; guard++) {
      let did = false;
      if (this.irqPending && this.irqHandler) {
        this.irqPending = false;
        if (this.device.irqLevel) {
          this.callPtr(this.irqHandler.fn, IRQ, this.irqHandler.devId);
          did = true;
        }
      }
      for (const [napi, st] of this.napis) {
        if (st.scheduled && st.enabled) {
          this.callPtr(this.loadPtr(napi + NapiStruct.poll), napi, this.load32(napi + NapiStruct.weight));
          did = true;
        }
      }
      for (const w of [...this.works]) {
        this.works.delete(w);
        this.ledger.release("work", w);
        this.callPtr(this.loadPtr(w + WorkStruct.func), w);
        did = true;
      }
      if (!did) return;
    }
    throw new Error("fake kernel: run() did not settle");
  }

  /** Advance time by `n` jiffies, firing due timers and running everything after each. */
  tick(n = 1): void {
    for (let i = 0; i < n; i++) {
      this.jiffiesNow++;
      for (const [t, exp] of [...this.timers]) {
        if (exp <= this.jiffiesNow) {
          this.timers.delete(t);
          this.ledger.release("timer", t);
          this.callPtr(this.loadPtr(t + TimerList.function), t);
        }
      }
      this.run();
    }
  }

  timerPending(t: number): boolean {
    return this.timers.has(t);
  }

  private allocSkb(len: number): number {
    const skb = this.rawAlloc(SkBuff.SIZE);
    const head = this.rawAlloc(NET_SKB_PAD + len);
    const s = skb - MEM_BASE;
    this.mem.setBigUint64(s + SkBuff.head, BigInt(head), true);
    this.mem.setBigUint64(s + SkBuff.data, BigInt(head + NET_SKB_PAD), true);
    this.mem.setUint32(s + SkBuff.len, 0, true);
    this.mem.setUint32(s + SkBuff.tail, NET_SKB_PAD, true);
    this.mem.setUint32(s + SkBuff.end, NET_SKB_PAD + len, true);
    return skb;
  }

  private freeSkb(skb: number): void {
    this.rawFree(this.loadPtr(skb + SkBuff.head));
    this.rawFree(skb);
  }

  // -------------------------------------------------------------------------------------------
  // the kernel API
  // -------------------------------------------------------------------------------------------

  private buildApi(): KernelApi {
    const m = this.mem;
    const svc: Record<string, (...a: never[]) => number> = {};
    const impl: Partial<Record<ServiceName, (...a: never[]) => number | undefined>> = {
      kmalloc: (size: number) => this.rawAlloc(size),
      kzalloc: (size: number) => this.rawAlloc(size),
      kfree: (p: number) => {
        if (p) this.rawFree(p);
        return 0;
      },
      vzalloc: (size: number) => this.rawAlloc(size),
      vfree: (p: number) => {
        if (p) this.rawFree(p);
        return 0;
      },
      dma_set_mask_and_coherent: () => 0,
      dma_alloc_coherent: (_pdev: number, size: number, handle: number) => {
        const a = this.rawAlloc(size, PAGE);
        m.setBigUint64(this.off(handle, 8), BigInt(a - MEM_BASE + PHYS_BASE), true);
        return a;
      },
      dma_free_coherent: (_p: number, _s: number, cpu: number) => {
        this.rawFree(cpu);
        return 0;
      },
      dma_map_single: (_p: number, ptr: number) => ptr - MEM_BASE + PHYS_BASE,
      dma_unmap_single: () => 0,
      dma_mapping_error: (_p: number, dma: number) => (dma === DMA_MAPPING_ERROR ? 1 : 0),
      pci_register_driver: (drv: number) => {
        const table = this.loadPtr(drv + PciDriver.idTable);
        const vendor = m.getUint16(this.off(this.pdev + PciDev.vendor, 2), true);
        const device = m.getUint16(this.off(this.pdev + PciDev.device, 2), true);
        for (let e = table; this.load32(e + PciDeviceId.vendor) !== 0; e += PciDeviceId.SIZE) {
          if (
            this.load32(e + PciDeviceId.vendor) === vendor &&
            this.load32(e + PciDeviceId.device) === device
          ) {
            const r = this.callPtr(this.loadPtr(drv + PciDriver.probe), this.pdev, e);
            if (r === 0) this.boundDriver = drv;
            break;
          }
        }
        return 0;
      },
      pci_unregister_driver: (drv: number) => {
        if (this.boundDriver === drv) {
          this.callPtr(this.loadPtr(drv + PciDriver.remove), this.pdev);
          this.boundDriver = 0;
        }
        return 0;
      },
      pci_enable_device: () => 0,
      pci_disable_device: () => 0,
      pci_select_bars: (_p: number, flags: number) => {
        let mask = 0;
        if (flags & IORESOURCE_MEM) mask |= 1;
        if (flags & IORESOURCE_IO) mask |= 2;
        return mask;
      },
      pci_request_selected_regions: () => 0,
      pci_release_selected_regions: () => 0,
      pci_set_master: () => 0,
      pci_ioremap_bar: (_p: number, bar: number) => (bar === 0 ? MMIO_VA : 0),
      iounmap: () => 0,
      pci_resource_start: (_p: number, bar: number) => (bar === 0 ? BAR0_PHYS : bar === 1 ? IO_PORT : 0),
      pci_resource_len: (_p: number, bar: number) => (bar === 0 ? BAR0_LEN : bar === 1 ? IO_LEN : 0),
      pci_resource_flags: (_p: number, bar: number) =>
        bar === 0 ? IORESOURCE_MEM : bar === 1 ? IORESOURCE_IO : 0,
      pci_set_drvdata: (p: number, data: number) => {
        m.setBigUint64(this.off(p + PciDev.driverData, 8), BigInt(data), true);
        return 0;
      },
      pci_get_drvdata: (p: number) => this.loadPtr(p + PciDev.driverData),
      request_irq: (_irq: number, handler: number, _flags: number, _name: string, devId: number) => {
        if (this.irqHandler) return -16;
        this.irqHandler = { fn: handler, devId };
        return 0;
      },
      free_irq: () => {
        this.irqHandler = undefined;
        return 0;
      },
      synchronize_irq: () => 0,
      alloc_etherdev: (priv: number) => {
        const d = this.rawAlloc(NetDevice.PRIV + priv);
        this.netdev = d;
        return d;
      },
      free_netdev: (d: number) => {
        this.rawFree(d);
        this.netdev = 0;
        return 0;
      },
      netdev_priv: (d: number) => d + NetDevice.PRIV,
      register_netdev: (d: number) => {
        if (!this.loadPtr(d + NetDevice.netdevOps)) return -EINVAL;
        const name = "eth0";
        for (let i = 0; i < name.length; i++) m.setUint8(this.off(d + i, 1), name.charCodeAt(i));
        this.setState(NETDEV_STATE_REGISTERED, true);
        return 0;
      },
      unregister_netdev: (d: number) => {
        if (this.load32(d + NetDevice.flags) & IFF_UP) this.close();
        this.setState(NETDEV_STATE_REGISTERED, false);
        return 0;
      },
      netif_start_queue: () => seq(this.setState(NETDEV_STATE_QUEUE_STOPPED, false), 0),
      netif_stop_queue: () => seq(this.setState(NETDEV_STATE_QUEUE_STOPPED, true), 0),
      netif_wake_queue: () => seq(this.setState(NETDEV_STATE_QUEUE_STOPPED, false), 0),
      netif_queue_stopped: () => (this.state(NETDEV_STATE_QUEUE_STOPPED) ? 1 : 0),
      netif_carrier_on: () => seq(this.setState(NETDEV_STATE_CARRIER_OK, true), 0),
      netif_carrier_off: () => seq(this.setState(NETDEV_STATE_CARRIER_OK, false), 0),
      netif_carrier_ok: () => (this.state(NETDEV_STATE_CARRIER_OK) ? 1 : 0),
      netdev_sent_queue: () => 0,
      netdev_completed_queue: () => 0,
      eth_type_trans: (skb: number) => {
        const data = this.loadPtr(skb + SkBuff.data);
        return m.getUint16(this.off(data + 12, 2), true);
      },
      is_valid_ether_addr: (a: number) => {
        const b = this.bytes.slice(this.off(a, 6), this.off(a, 6) + 6);
        return !(b[0] & 1) && b.some((x) => x !== 0) ? 1 : 0;
      },
      netif_napi_add: (d: number, napi: number, poll: number, weight: number) => {
        const o = this.off(napi, NapiStruct.SIZE);
        m.setBigUint64(o + NapiStruct.poll, BigInt(poll), true);
        m.setBigUint64(o + NapiStruct.dev, BigInt(d), true);
        m.setUint32(o + NapiStruct.weight, weight, true);
        this.napis.set(napi, { enabled: false, scheduled: false });
        return 0;
      },
      netif_napi_del: (napi: number) => seq(this.napis.delete(napi), 0),
      napi_enable: (napi: number) => {
        const st = this.napis.get(napi);
        if (st) st.enabled = true;
        return 0;
      },
      napi_disable: (napi: number) => {
        const st = this.napis.get(napi);
        if (st) {
          st.enabled = false;
          st.scheduled = false;
        }
        return 0;
      },
      napi_schedule: (napi: number) => {
        const st = this.napis.get(napi);
        if (st?.enabled) st.scheduled = true;
        return 0;
      },
      napi_complete_done: (napi: number) => {
        const st = this.napis.get(napi);
        if (st) st.scheduled = false;
        return 1;
      },
      napi_gro_receive: (_napi: number, skb: number) => {
        const data = this.loadPtr(skb + SkBuff.data);
        const len = this.load32(skb + SkBuff.len);
        this.received.push(this.bytes.slice(data - MEM_BASE, data - MEM_BASE + len));
        this.freeSkb(skb);
        return 0;
      },
      netdev_alloc_skb: (_d: number, len: number) => this.allocSkb(len),
      dev_kfree_skb_any: (skb: number) => seq(this.freeSkb(skb), 0),
      skb_put: (skb: number, len: number) => {
        const o = this.off(skb, SkBuff.SIZE);
        const tail = m.getUint32(o + SkBuff.tail, true);
        const end = m.getUint32(o + SkBuff.end, true);
        if (tail + len > end) throw new Error(`skb_over_panic: put ${len} at tail ${tail}, end ${end}`);
        m.setUint32(o + SkBuff.tail, tail + len, true);
        m.setUint32(o + SkBuff.len, m.getUint32(o + SkBuff.len, true) + len, true);
        return this.loadPtr(skb + SkBuff.head) + tail;
      },
      skb_reserve: (skb: number, len: number) => {
        const o = this.off(skb, SkBuff.SIZE);
        m.setBigUint64(o + SkBuff.data, BigInt(this.loadPtr(skb + SkBuff.data) + len), true);
        m.setUint32(o + SkBuff.tail, m.getUint32(o + SkBuff.tail, true) + len, true);
        return 0;
      },
      skb_trim: (skb: number, len: number) => {
        const o = this.off(skb, SkBuff.SIZE);
        const cur = m.getUint32(o + SkBuff.len, true);
        if (len < cur) {
          m.setUint32(o + SkBuff.len, len, true);
          m.setUint32(o + SkBuff.tail, m.getUint32(o + SkBuff.tail, true) - (cur - len), true);
        }
        return 0;
      },
      eth_skb_pad: (skb: number) => {
        const len = this.load32(skb + SkBuff.len);
        if (len < 60) {
          const data = this.loadPtr(skb + SkBuff.data);
          this.bytes.fill(0, data - MEM_BASE + len, data - MEM_BASE + 60);
          m.setUint32(this.off(skb + SkBuff.len, 4), 60, true);
        }
        return 0;
      },
      timer_setup: (t: number, fn: number) => {
        m.setBigUint64(this.off(t + TimerList.function, 8), BigInt(fn), true);
        return 0;
      },
      mod_timer: (t: number, expires: number) => {
        const was = this.timers.has(t);
        this.timers.set(t, expires);
        m.setBigUint64(this.off(t + TimerList.expires, 8), BigInt(expires), true);
        return was ? 1 : 0;
      },
      del_timer_sync: (t: number) => (this.timers.delete(t) ? 1 : 0),
      INIT_WORK: (w: number, fn: number) => {
        m.setBigUint64(this.off(w + WorkStruct.func, 8), BigInt(fn), true);
        return 0;
      },
      schedule_work: (w: number) => {
        const was = this.works.has(w);
        this.works.add(w);
        return was ? 0 : 1;
      },
      cancel_work_sync: (w: number) => (this.works.delete(w) ? 1 : 0),
      spin_lock_init: () => 0,
      spin_lock_irqsave: () => 0,
      spin_unlock_irqrestore: () => 0,
      msleep: (ms: number) => {
        this.sleptMs += ms;
        return 0;
      },
      udelay: (us: number) => {
        this.delayedUs += us;
        return 0;
      },
      mdelay: (ms: number) => {
        this.delayedUs += ms * 1000;
        return 0;
      },
      jiffies: () => this.jiffiesNow,
      printk: (s: string) => seq(this.log.push(s), 0),
      netdev_err: (_d: number, s: string) => seq(this.log.push(`ERR ${s}`), 0),
      netdev_info: (_d: number, s: string) => seq(this.log.push(s), 0),
      dev_err: (_p: number, s: string) => seq(this.log.push(`ERR ${s}`), 0),
    };

    for (const name of Object.keys(SERVICES) as ServiceName[]) {
      const spec = SERVICES[name];
      const f = impl[name];
      svc[name] = (...args: never[]) => {
        this.calls.push(name);
        checkCall(name, args, this.domain);
        if (!f) throw new Error(`fake kernel: service ${name} is not implemented`);
        if (this.fail && this.fail.service === name && ++this.failCount === this.fail.nth) {
          return failureValue(name);
        }
        const eff = (spec as { effect?: { acquires?: string; releases?: string; key: number | "ret" } })
          .effect;
        if (eff?.releases) this.ledger.release(eff.releases as never, args[eff.key as number] as number);
        const ret = f(...args) ?? 0;
        if (eff?.acquires) {
          const ok =
            spec.returns === "errno"
              ? ret === 0
              : spec.returns === "ptr" || spec.returns === "dma"
                ? ret !== 0 && ret !== DMA_MAPPING_ERROR
                : true;
          const key = eff.key === "ret" ? ret : (args[eff.key] as number);
          if (ok) this.ledger.acquire(eff.acquires as never, key, name);
        }
        return ret;
      };
    }

    const inMmio = (a: number) => this.isMmio(a);
    const api = {
      ...svc,
      arch: {
        cli: () => {
          throw new Error("#GP: cli");
        },
        sti: () => {
          throw new Error("#GP: sti");
        },
        hlt: () => {
          throw new Error("#GP: hlt");
        },
        read_cr3: () => {
          throw new Error("#GP: mov cr3");
        },
        write_cr3: () => {
          throw new Error("#GP: mov cr3");
        },
        wrmsr: () => {
          throw new Error("#GP: wrmsr");
        },
        invlpg: () => {
          throw new Error("#GP: invlpg");
        },
      },
      fn: (name: string) => this.fn(name),
      load8: (a: number) => m.getUint8(this.off(a, 1)),
      load16: (a: number) => m.getUint16(this.off(a, 2), true),
      load32: (a: number) => m.getUint32(this.off(a, 4), true),
      load64: (a: number) => Number(m.getBigUint64(this.off(a, 8), true)),
      loadPtr: (a: number) => Number(m.getBigUint64(this.off(a, 8), true)),
      store8: (a: number, v: number) => m.setUint8(this.off(a, 1), v),
      store16: (a: number, v: number) => m.setUint16(this.off(a, 2), v, true),
      store32: (a: number, v: number) => m.setUint32(this.off(a, 4), v >>> 0, true),
      store64: (a: number, v: number) => m.setBigUint64(this.off(a, 8), BigInt(v), true),
      storePtr: (a: number, v: number) => m.setBigUint64(this.off(a, 8), BigInt(v), true),
      readBytes: (a: number, dst: Uint8Array, offset = 0, len = dst.length - offset) =>
        dst.set(this.bytes.subarray(this.off(a, len), this.off(a, len) + len), offset),
      writeBytes: (a: number, src: Uint8Array, offset = 0, len = src.length - offset) =>
        this.bytes.set(src.subarray(offset, offset + len), this.off(a, len)),
      memcpy: (d: number, s: number, len: number) =>
        this.bytes.copyWithin(this.off(d, len), this.off(s, len), this.off(s, len) + len),
      memset: (d: number, b: number, len: number) =>
        this.bytes.fill(b, this.off(d, len), this.off(d, len) + len),
      readl: (a: number) => {
        if (!inMmio(a)) throw new Error(`readl of 0x${a.toString(16)}: not an MMIO mapping`);
        return this.device.read(a - MMIO_VA);
      },
      writel: (v: number, a: number) => {
        if (!inMmio(a)) throw new Error(`writel to 0x${a.toString(16)}: not an MMIO mapping`);
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
          throw new Error(`writel value ${v} is not a u32`);
        this.device.write(a - MMIO_VA, v);
      },
      readw: () => {
        throw new Error("readw unused");
      },
      readb: () => {
        throw new Error("readb unused");
      },
      writew: () => {
        throw new Error("writew unused");
      },
      writeb: () => {
        throw new Error("writeb unused");
      },
      inl: (port: number) => this.device.ioRead(port - IO_PORT),
      inw: () => {
        throw new Error("inw unused");
      },
      inb: () => {
        throw new Error("inb unused");
      },
      outl: (v: number, port: number) => {
        if (port < IO_PORT || port >= IO_PORT + IO_LEN)
          throw new Error(`#GP: outl to port 0x${port.toString(16)}`);
        this.device.ioWrite(port - IO_PORT, v);
      },
      outw: () => {
        throw new Error("outw unused");
      },
      outb: () => {
        throw new Error("outb unused");
      },
    };
    return api as unknown as KernelApi;
  }
}
