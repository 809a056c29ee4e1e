/**
 * Test harness: a PciDevicePort over a Uint8Array "physical memory" with a bus-master flag, a
 * heap-based scheduler, and a driver-like helper that programs the NIC through BAR accesses.
 */
import type { PciDevicePort } from "@side-kernel/pci";
import { E1000, type E1000Options, regs as R, type Scheduler } from "../src/index.js";

/** PCI Command bits. */
export const CMD_IO = 1 << 0;
export const CMD_MEM = 1 << 1;
export const CMD_BUS_MASTER = 1 << 2;

/** A min-heap event queue keyed by (time, insertion order). */
export class TestScheduler implements Scheduler {
  private t = 0;
  private seq = 0;
  private heap: { at: number; seq: number; id: number; cb: () => void }[] = [];
  private cancelled = new Set<number>();
  private nextId = 1;

  now(): number {
    return this.t;
  }
  schedule(atNs: number, callback: () => void): number {
    const id = this.nextId++;
    const e = { at: Math.max(atNs, this.t), seq: this.seq++, id, cb: callback };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(h[p], h[i])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
    return id;
  }
  cancel(id: number): void {
    this.cancelled.add(id);
  }
  private less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  private pop() {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
  /** Run events due at or before `t`, then set the clock to `t`. */
  runUntil(t: number): void {
    while (this.heap.length > 0 && this.heap[0].at <= t) {
      const e = this.pop();
      if (this.cancelled.delete(e.id)) continue;
      this.t = e.at;
      e.cb();
    }
    if (t > this.t) this.t = t;
  }
  /** Advance by `dt` ns. */
  advance(dt: number): void {
    this.runUntil(this.t + dt);
  }
  /** Run everything (bounded). */
  runAll(limit = 1_000_000): void {
    for (let n = 0; n < limit && this.heap.length > 0; n++) {
      const e = this.pop();
      if (this.cancelled.delete(e.id)) continue;
      this.t = e.at;
      e.cb();
    }
  }
  get pending(): number {
    return this.heap.length - this.cancelled.size;
  }
}

/**
 * A PciDevicePort over flat memory. When the address, the device-side offset and the length are
 * multiples of 4 (descriptors, most frames) it copies 32-bit words through Int32Array views of
 * the device's last two buffers (cached by identity), so DMA costs what a memory copy costs and
 * allocates nothing; otherwise bytes, or a typed-array `set`.
 */
export class MemoryPort implements PciDevicePort {
  readonly mem: Uint8Array;
  readonly view: DataView;
  private readonly words: Int32Array;
  command = CMD_MEM | CMD_IO | CMD_BUS_MASTER;
  irq = false;
  irqRises = 0;
  irqTimes: number[] = [];
  aborts = 0;
  private arrA: Uint8Array | null = null;
  private wordsA: Int32Array | null = null;
  private arrB: Uint8Array | null = null;
  private wordsB: Int32Array | null = null;
  constructor(
    size: number,
    private readonly sched?: TestScheduler,
  ) {
    this.mem = new Uint8Array(size);
    this.view = new DataView(this.mem.buffer);
    this.words = new Int32Array(this.mem.buffer, 0, size >> 2);
  }
  private ok(addr: number, len: number): boolean {
    if ((this.command & CMD_BUS_MASTER) === 0 || addr < 0 || addr + len > this.mem.length) {
      this.aborts++;
      return false;
    }
    return true;
  }
  /** `a` as 32-bit words (null when it does not start on a 4-byte boundary). */
  private wordsOf(a: Uint8Array): Int32Array | null {
    if (a === this.arrA) return this.wordsA;
    const hitB = a === this.arrB;
    const w = hitB
      ? this.wordsB
      : (a.byteOffset & 3) === 0
        ? new Int32Array(a.buffer, a.byteOffset, a.length >> 2)
        : null;
    this.arrB = this.arrA;
    this.wordsB = this.wordsA;
    this.arrA = a;
    this.wordsA = w;
    return w;
  }
  dmaRead(addr: number, dst: Uint8Array, dstOffset: number, length: number): boolean {
    if (!this.ok(addr, length)) return false;
    if (((addr | dstOffset | length) & 3) === 0) {
      const w = this.wordsOf(dst);
      if (w !== null) {
        const m = this.words;
        const from = addr >> 2;
        const to = dstOffset >> 2;
        for (let i = 0, n = length >> 2; i < n; i++) w[to + i] = m[from + i];
        return true;
      }
    }
    const m = this.mem;
    if (length <= 16) for (let i = 0; i < length; i++) dst[dstOffset + i] = m[addr + i];
    else dst.set(m.subarray(addr, addr + length), dstOffset);
    return true;
  }
  dmaWrite(addr: number, src: Uint8Array, srcOffset: number, length: number): boolean {
    if (!this.ok(addr, length)) return false;
    if (((addr | srcOffset | length) & 3) === 0) {
      const w = this.wordsOf(src);
      if (w !== null) {
        const m = this.words;
        const to = addr >> 2;
        const from = srcOffset >> 2;
        for (let i = 0, n = length >> 2; i < n; i++) m[to + i] = w[from + i];
        return true;
      }
    }
    const m = this.mem;
    if (length <= 16) for (let i = 0; i < length; i++) m[addr + i] = src[srcOffset + i];
    else if (srcOffset === 0 && length === src.length) m.set(src, addr);
    else m.set(src.subarray(srcOffset, srcOffset + length), addr);
    return true;
  }
  setIrq(level: boolean): void {
    if (level && !this.irq) {
      this.irqRises++;
      if (this.sched) this.irqTimes.push(this.sched.now());
    }
    this.irq = level;
  }
  signalMsi(_vector: number): boolean {
    return false;
  }
}

/** Memory layout used by the Driver helper. */
export const TX_RING = 0x10000;
export const RX_RING = 0x20000;
export const TX_BUFS = 0x100000;
export const RX_BUFS = 0x400000;
export const BUF_STRIDE = 0x800;
export const MEM_SIZE = 0x1000000;

/** A driver-like helper: programs rings and registers through BAR0/BAR1 only. */
export class Driver {
  txNext = 0;
  rxNext = 0;
  constructor(
    readonly nic: E1000,
    readonly port: MemoryPort,
    readonly txCount = 64,
    readonly rxCount = 64,
  ) {}
  rd(off: number): number {
    return this.nic.barRead(0, off, 4);
  }
  wr(off: number, v: number): void {
    this.nic.barWrite(0, off, 4, v >>> 0);
  }
  ioWrite(off: number, v: number): void {
    this.nic.barWrite(1, R.IOADDR, 4, off);
    this.nic.barWrite(1, R.IODATA, 4, v >>> 0);
  }
  ioRead(off: number): number {
    this.nic.barWrite(1, R.IOADDR, 4, off);
    return this.nic.barRead(1, R.IODATA, 4);
  }
  /** Set up the TX ring (TCTL.EN set). */
  setupTx(extraTctl = 0): void {
    this.wr(R.TDBAL, TX_RING);
    this.wr(R.TDBAH, 0);
    this.wr(R.TDLEN, this.txCount * 16);
    this.wr(R.TDH, 0);
    this.wr(R.TDT, 0);
    this.wr(R.TCTL, R.TCTL_EN | R.TCTL_PSP | extraTctl);
    this.txNext = 0;
  }
  /** Set up the RX ring with `fill` buffers handed to hardware (RDT = fill). */
  setupRx(rctl = R.RCTL_EN | R.RCTL_BAM, fill = this.rxCount - 1): void {
    this.wr(R.RDBAL, RX_RING);
    this.wr(R.RDBAH, 0);
    this.wr(R.RDLEN, this.rxCount * 16);
    for (let i = 0; i < this.rxCount; i++) this.writeRxDesc(i);
    this.wr(R.RDH, 0);
    this.wr(R.RDT, fill);
    this.wr(R.RCTL, rctl);
    this.rxNext = 0;
  }
  writeRxDesc(i: number, buf = RX_BUFS + i * BUF_STRIDE): void {
    const a = RX_RING + i * 16;
    this.port.mem.fill(0, a, a + 16);
    this.port.view.setUint32(a, buf, true);
  }
  /** Queue one frame as a single legacy descriptor; returns its index. Does not write TDT. */
  queueTx(frame: Uint8Array, cmd = R.TXD_CMD_EOP | R.TXD_CMD_IFCS | R.TXD_CMD_RS): number {
    const i = this.txNext;
    const buf = TX_BUFS + i * BUF_STRIDE;
    this.port.mem.set(frame, buf);
    const a = TX_RING + i * 16;
    const v = this.port.view;
    v.setUint32(a, buf, true);
    v.setUint32(a + 4, 0, true);
    v.setUint32(a + 8, (frame.length | cmd) >>> 0, true);
    v.setUint32(a + 12, 0, true);
    this.txNext = (i + 1) % this.txCount;
    return i;
  }
  kickTx(): void {
    this.wr(R.TDT, this.txNext);
  }
  txStatus(i: number): number {
    return this.port.mem[TX_RING + i * 16 + 12];
  }
  rxDesc(i: number): { length: number; status: number; errors: number; buf: number } {
    const a = RX_RING + i * 16;
    const v = this.port.view;
    return {
      buf: v.getUint32(a, true),
      length: v.getUint16(a + 8, true),
      status: this.port.mem[a + 12],
      errors: this.port.mem[a + 13],
    };
  }
  rxData(i: number, len: number): Uint8Array {
    const buf = this.rxDesc(i).buf;
    return this.port.mem.slice(buf, buf + len);
  }
}

/** A NIC on a harness port, with link already up (autoneg run). */
export function makeNic(options: Partial<E1000Options> = {}, memSize = MEM_SIZE) {
  const sched = new TestScheduler();
  const port = new MemoryPort(memSize, sched);
  const nic = new E1000({ scheduler: sched, ...options });
  nic.attach(port);
  sched.advance(600_000_000);
  const drv = new Driver(nic, port);
  return { sched, port, nic, drv };
}

/** Bit-bang one EEPROM word through EECD as the Linux driver does (REQ/GNT, CS, 110b, 6-bit address). */
export function eepromReadWord(drv: Driver, addr: number): number {
  let eecd = drv.rd(R.EECD) | R.EECD_REQ;
  drv.wr(R.EECD, eecd);
  if (!(drv.rd(R.EECD) & R.EECD_GNT)) throw new Error("EEPROM grant not given");
  eecd &= ~(R.EECD_SK | R.EECD_DI);
  drv.wr(R.EECD, eecd);
  eecd |= R.EECD_CS;
  drv.wr(R.EECD, eecd);
  const shiftOut = (data: number, count: number) => {
    for (let mask = 1 << (count - 1); mask; mask >>>= 1) {
      eecd = data & mask ? eecd | R.EECD_DI : eecd & ~R.EECD_DI;
      drv.wr(R.EECD, eecd);
      drv.wr(R.EECD, eecd | R.EECD_SK);
      drv.wr(R.EECD, eecd);
    }
    eecd &= ~R.EECD_DI;
    drv.wr(R.EECD, eecd);
  };
  shiftOut(R.EEPROM_READ_OPCODE, 3);
  shiftOut(addr, 6);
  let data = 0;
  for (let i = 0; i < 16; i++) {
    drv.wr(R.EECD, eecd | R.EECD_SK);
    data = (data << 1) | (drv.rd(R.EECD) & R.EECD_DO ? 1 : 0);
    drv.wr(R.EECD, eecd);
  }
  eecd &= ~(R.EECD_CS | R.EECD_SK);
  drv.wr(R.EECD, eecd);
  drv.wr(R.EECD, eecd & ~R.EECD_REQ);
  return data;
}
