/**
 * A small 82540EM register model for the driver's tests, written from reference/hardware.md
 * section 5 (QEMU's behaviour): the Microwire EEPROM state machine on EECD, MDIC with a PHY
 * whose autonegotiation restart brings the link up, ICR/IMS/IMC/ICS, a reset through the I/O
 * port, read-to-clear statistics, and TX/RX descriptor engines doing DMA into the fake
 * kernel's memory. It is test support, not a device model to reuse (see @side-kernel/net-nic).
 */

const CTRL = 0x0;
const STATUS = 0x8;
const EECD = 0x10;
const MDIC = 0x20;
const ICR = 0xc0;
const ICS = 0xc8;
const IMS = 0xd0;
const IMC = 0xd8;
const RCTL = 0x100;
const TCTL = 0x400;
const RDBAL = 0x2800;
const RDBAH = 0x2804;
const RDLEN = 0x2808;
const RDH = 0x2810;
const RDT = 0x2818;
const TDBAL = 0x3800;
const TDBAH = 0x3804;
const TDLEN = 0x3808;
const TDH = 0x3810;
const TDT = 0x3818;
const STATS_FIRST = 0x4000;
const STATS_LAST = 0x40fc;
const GPRC = 0x4074;
const GPTC = 0x4080;
const MPC = 0x4010;
const CRCERRS = 0x4000;

const CTRL_RST = 1 << 26;
const STATUS_RESET = 0x80080783; // FD, LU, SPEED_1000, ... (hardware.md 5.2)
const STATUS_LU = 0x2;
const EECD_SK = 0x1;
const EECD_CS = 0x2;
const EECD_DI = 0x4;
const EECD_DO = 0x8;
const EECD_REQ = 0x40;
const EECD_GNT = 0x80;
const EECD_PRES = 0x100;
const EECD_LATCHED = EECD_SK | EECD_CS | EECD_DI | 0x30 | EECD_REQ;
const MDIC_READY = 0x10000000;
const MDIC_ERROR = 0x40000000;
const MDIC_OP_WRITE = 0x04000000;
const MDIC_OP_READ = 0x08000000;
const ICR_TXDW = 0x1;
const ICR_TXQE = 0x2;
const ICR_LSC = 0x4;
const ICR_RXDMT0 = 0x10;
const ICR_RXO = 0x40;
const ICR_RXT0 = 0x80;
const RCTL_EN = 0x2;
const TCTL_EN = 0x2;
const TXD_CMD_EOP = 0x01;
const TXD_CMD_RS = 0x08;
const RXD_STAT_DD = 0x01;
const RXD_STAT_EOP = 0x02;
const RXD_STAT_IXSM = 0x04;
const PHY_CTRL = 0;
const PHY_RESTART_AN = 0x0200;
const FCS = 4;

/** DMA access into the machine's memory by bus address. */
export interface DmaPort {
  dmaRead(bus: number, len: number): Uint8Array;
  dmaWrite(bus: number, data: Uint8Array): void;
}

/** The EEPROM image of QEMU (hardware.md 5.8) for a MAC address, with its checksum word. */
export function eepromImage(mac: readonly number[], deviceId = 0x100e): Uint16Array {
  const w = new Uint16Array(64);
  w[0] = mac[0] | (mac[1] << 8);
  w[1] = mac[2] | (mac[3] << 8);
  w[2] = mac[4] | (mac[5] << 8);
  w[4] = 0xffff;
  w[8] = 0x3000;
  w[9] = 0x1000;
  w[10] = 0x6403;
  w[11] = deviceId;
  w[12] = 0x8086;
  w[13] = deviceId;
  w[14] = 0x8086;
  w[15] = 0x3040;
  let sum = 0;
  for (let i = 0; i < 63; i++) sum = (sum + w[i]) & 0xffff;
  w[63] = (0xbaba - sum) & 0xffff;
  return w;
}

export class FakeE1000 {
  readonly regs = new Uint32Array(0x20000 / 4);
  readonly phy = new Uint16Array(32);
  eeprom: Uint16Array;
  /** Frames the TX engine sent (without FCS). */
  readonly sent: Uint8Array[] = [];
  /** Register writes, in order, as [offset, value] (for tests of what the driver programmed). */
  readonly writes: [number, number][] = [];
  resets = 0;
  ioWrites = 0;
  linkUpOnAutoneg = true;
  /** When false, CTRL.RST never self-clears (a wedged reset). */
  resetSelfClears = true;
  private ioAddr = 0;
  private ee = { valIn: 0, bitIn: 0, bitOut: 0, reading: false, old: 0 };
  private txBusy = false;

  constructor(
    private readonly dma: DmaPort,
    mac: readonly number[],
    private readonly onIrqChange: (level: boolean) => void = () => {},
  ) {
    this.eeprom = eepromImage(mac);
    this.powerOn();
  }

  private powerOn(): void {
    this.regs.fill(0);
    this.regs[STATUS >> 2] = STATUS_RESET & ~STATUS_LU;
    this.regs[CTRL >> 2] = 0x00140240;
    this.phy.fill(0);
    this.phy[2] = 0x0141;
    this.phy[3] = 0x0c20;
    this.phy[4] = 0x0de1;
    this.phy[9] = 0x0e00;
  }

  get linkUp(): boolean {
    return (this.regs[STATUS >> 2] & STATUS_LU) !== 0;
  }

  setLink(up: boolean): void {
    const s = this.regs[STATUS >> 2];
    this.regs[STATUS >> 2] = up ? s | STATUS_LU : s & ~STATUS_LU;
    this.setIcs(ICR_LSC);
  }

  get irqLevel(): boolean {
    return (this.regs[ICR >> 2] & this.regs[IMS >> 2]) !== 0;
  }

  reg(off: number): number {
    return this.regs[off >> 2];
  }

  private setIcs(bits: number): void {
    this.regs[ICR >> 2] |= bits;
    this.onIrqChange(this.irqLevel);
  }

  read(off: number): number {
    const i = off >> 2;
    switch (off) {
      case ICR: {
        const v = this.regs[i];
        this.regs[i] = 0;
        this.onIrqChange(false);
        return v;
      }
      case EECD: {
        let v = EECD_PRES | EECD_GNT | this.ee.old;
        const word = this.eeprom[(this.ee.bitOut >> 4) & 0x3f];
        if (!this.ee.reading || (word >> ((this.ee.bitOut & 0xf) ^ 0xf)) & 1) v |= EECD_DO;
        return v >>> 0;
      }
      case ICS:
        return this.regs[ICR >> 2];
    }
    if (off >= STATS_FIRST && off <= STATS_LAST) {
      const v = this.regs[i];
      this.regs[i] = 0;
      return v;
    }
    return this.regs[i];
  }

  write(off: number, value: number): void {
    const v = value >>> 0;
    this.writes.push([off, v]);
    const i = off >> 2;
    switch (off) {
      case CTRL:
        if (v & CTRL_RST) {
          this.resets++;
          const link = this.regs[STATUS >> 2] & STATUS_LU;
          const eeprom = this.eeprom;
          this.powerOn();
          this.eeprom = eeprom;
          this.regs[STATUS >> 2] |= link;
          this.regs[CTRL >> 2] = this.resetSelfClears ? 0x00140240 : 0x00140240 | CTRL_RST;
          this.onIrqChange(false);
        } else {
          this.regs[i] = v;
        }
        return;
      case STATUS:
        return;
      case EECD:
        this.eecdWrite(v);
        return;
      case MDIC:
        this.mdicWrite(v);
        return;
      case ICR:
        this.regs[i] &= ~v;
        this.onIrqChange(this.irqLevel);
        return;
      case ICS:
        this.setIcs(v);
        return;
      case IMS:
        this.regs[i] |= v;
        this.onIrqChange(this.irqLevel);
        return;
      case IMC:
        this.regs[IMS >> 2] &= ~v;
        this.onIrqChange(this.irqLevel);
        return;
      case RDLEN:
      case TDLEN:
        this.regs[i] = v & 0xfff80;
        return;
      case RDH:
      case RDT:
      case TDH:
        this.regs[i] = v & 0xffff;
        return;
      case TDT:
        this.regs[i] = v & 0xffff;
        this.startXmit();
        return;
      case TCTL:
        this.regs[i] = v;
        this.startXmit();
        return;
    }
    this.regs[i] = v;
  }

  /** Port I/O on the I/O BAR: IOADDR at 0, IODATA at 4. */
  ioWrite(port: number, value: number): void {
    this.ioWrites++;
    if (port === 0) this.ioAddr = value;
    else if (port === 4) this.write(this.ioAddr, value);
  }

  ioRead(port: number): number {
    return port === 4 ? this.read(this.ioAddr) : this.ioAddr;
  }

  private eecdWrite(v: number): void {
    const ee = this.ee;
    const old = ee.old;
    ee.old = v & EECD_LATCHED;
    if (!(v & EECD_CS)) return;
    if ((v ^ old) & EECD_CS) {
      ee.valIn = 0;
      ee.bitIn = 0;
      ee.bitOut = 0;
      ee.reading = false;
    }
    if (!((v ^ old) & EECD_SK)) return;
    if (!(v & EECD_SK)) {
      ee.bitOut++;
      return;
    }
    ee.valIn = (ee.valIn << 1) | (v & EECD_DI ? 1 : 0);
    if (++ee.bitIn === 9 && !ee.reading) {
      ee.bitOut = ((ee.valIn & 0x3f) << 4) - 1;
      ee.reading = ((ee.valIn >> 6) & 7) === 6;
    }
  }

  private mdicWrite(v: number): void {
    const phyAddr = (v >> 21) & 0x1f;
    const reg = (v >> 16) & 0x1f;
    let out = v & ~(MDIC_READY | MDIC_ERROR);
    if (phyAddr !== 1) {
      out |= MDIC_ERROR;
    } else if (v & MDIC_OP_READ) {
      out = (out & ~0xffff) | this.phy[reg];
    } else if (v & MDIC_OP_WRITE) {
      this.phy[reg] = v & 0xffff;
      if (reg === PHY_CTRL && v & PHY_RESTART_AN) {
        this.phy[reg] &= ~PHY_RESTART_AN;
        if (this.linkUpOnAutoneg) this.setLink(true);
      }
    }
    this.regs[MDIC >> 2] = (out | MDIC_READY) >>> 0;
  }

  private ringBase(lo: number, hi: number): number {
    return (this.regs[lo >> 2] & ~0xf) + this.regs[hi >> 2] * 2 ** 32;
  }

  private startXmit(): void {
    if (!(this.regs[TCTL >> 2] & TCTL_EN) || this.txBusy) return;
    this.txBusy = true;
    const base = this.ringBase(TDBAL, TDBAH);
    const len = this.regs[TDLEN >> 2];
    const parts: Uint8Array[] = [];
    let cause = ICR_TXQE;
    let guard = 0;
    while (this.regs[TDH >> 2] !== this.regs[TDT >> 2] && len > 0 && guard++ < 65536) {
      const head = this.regs[TDH >> 2];
      const d = new DataView(this.dma.dmaRead(base + head * 16, 16).buffer);
      const addr = d.getUint32(0, true) + d.getUint32(4, true) * 2 ** 32;
      const lower = d.getUint32(8, true);
      const cmd = lower >>> 24;
      parts.push(this.dma.dmaRead(addr, lower & 0xffff));
      if (cmd & TXD_CMD_EOP) {
        const total = parts.reduce((n, p) => n + p.length, 0);
        const frame = new Uint8Array(total);
        let at = 0;
        for (const p of parts) {
          frame.set(p, at);
          at += p.length;
        }
        parts.length = 0;
        this.sent.push(frame);
        this.regs[GPTC >> 2]++;
      }
      if (cmd & TXD_CMD_RS) {
        this.dma.dmaWrite(base + head * 16 + 12, new Uint8Array([1, 0, 0, 0]));
        cause |= ICR_TXDW;
      }
      this.regs[TDH >> 2] = (head + 1) * 16 >= len ? 0 : head + 1;
    }
    this.txBusy = false;
    this.setIcs(cause);
  }

  /**
   * Deliver a frame (without FCS) as QEMU does: descriptor length = frame + 4, status DD | EOP |
   * IXSM. Returns false (RXO, missed) if RX is off or no descriptor is free.
   */
  receive(frame: Uint8Array, opts: { errors?: number; noEop?: boolean; length?: number } = {}): boolean {
    if (!(this.regs[RCTL >> 2] & RCTL_EN) || !this.linkUp) return false;
    const head = this.regs[RDH >> 2];
    if (head === this.regs[RDT >> 2]) {
      this.regs[MPC >> 2]++;
      this.setIcs(ICR_RXO);
      return false;
    }
    const base = this.ringBase(RDBAL, RDBAH);
    const len = this.regs[RDLEN >> 2];
    const dv = new DataView(this.dma.dmaRead(base + head * 16, 16).buffer);
    const addr = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
    if (addr) this.dma.dmaWrite(addr, frame);
    const desc = new Uint8Array(16);
    desc.set(this.dma.dmaRead(base + head * 16, 8));
    const out = new DataView(desc.buffer);
    out.setUint16(8, opts.length ?? frame.length + FCS, true);
    out.setUint8(12, RXD_STAT_DD | (opts.noEop ? 0 : RXD_STAT_EOP) | RXD_STAT_IXSM);
    out.setUint8(13, opts.errors ?? 0);
    this.dma.dmaWrite(base + head * 16, desc);
    this.regs[RDH >> 2] = (head + 1) * 16 >= len ? 0 : head + 1;
    this.regs[GPRC >> 2]++;
    if (opts.errors) this.regs[CRCERRS >> 2]++;
    const free = ((this.regs[RDT >> 2] - this.regs[RDH >> 2] + len / 16) % (len / 16)) * 16;
    this.setIcs(ICR_RXT0 | (free <= len >> 1 ? ICR_RXDMT0 : 0));
    return true;
  }
}
