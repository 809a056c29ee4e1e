// The register-level sequence of the Linux e1000 driver (hardware.md 6.1), run against the model,
// and two NICs talking over a Link.
import { describe, expect, it } from "vitest";
import { AUTONEG_NS, buildUdpFrame, E1000, Link, parseMac, regs as R } from "../src/index.js";
import { Driver, eepromReadWord, MemoryPort, TestScheduler } from "./harness.js";

const IMS_ENABLE_MASK = 0x9d; // RXT0 | TXDW | RXDMT0 | RXSEQ | LSC
const PHY_READ = 2 << 26;
const PHY_WRITE = 1 << 26;
const PHY_ADDR1 = 1 << 21;

function phyRead(d: Driver, reg: number): number {
  d.wr(R.MDIC, PHY_READ | PHY_ADDR1 | (reg << 16));
  const v = d.rd(R.MDIC);
  if (!(v & R.MDIC_READY) || v & R.MDIC_ERROR) throw new Error(`MDIC read of PHY reg ${reg} failed: ${v}`);
  return v & 0xffff;
}
function phyWrite(d: Driver, reg: number, value: number): void {
  d.wr(R.MDIC, PHY_WRITE | PHY_ADDR1 | (reg << 16) | value);
}

/** probe + open as e1000_main.c / e1000_hw.c do it; returns the MAC read from the EEPROM. */
function linuxProbeAndOpen(d: Driver, sched: TestScheduler): number[] {
  d.wr(R.IMC, 0xffffffff);
  d.rd(R.STATUS);
  d.rd(R.EECD);
  // e1000_reset_hw
  d.wr(R.IMC, 0xffffffff);
  d.wr(R.RCTL, 0);
  d.wr(R.TCTL, R.TCTL_PSP);
  d.rd(R.STATUS);
  sched.advance(10_000_000);
  d.ioWrite(R.CTRL, d.rd(R.CTRL) | R.CTRL_RST);
  sched.advance(5_000_000);
  d.wr(R.MANC, d.rd(R.MANC) & ~0x2000);
  d.wr(R.IMC, 0xffffffff);
  d.rd(R.ICR);
  // EEPROM checksum and MAC by Microwire.
  let sum = 0;
  for (let a = 0; a < 64; a++) sum = (sum + eepromReadWord(d, a)) & 0xffff;
  if (sum !== 0xbaba) throw new Error(`EEPROM checksum 0x${sum.toString(16)}`);
  const mac: number[] = [];
  for (let a = 0; a < 3; a++) {
    const w = eepromReadWord(d, a);
    mac.push(w & 0xff, w >>> 8);
  }
  // e1000_init_hw: receive addresses, MTA, copper link setup, counters.
  d.wr(R.RA, (mac[0] | (mac[1] << 8) | (mac[2] << 16) | (mac[3] << 24)) >>> 0);
  d.wr(R.RA + 4, (mac[4] | (mac[5] << 8) | R.RAH_AV) >>> 0);
  for (let i = 1; i < 16; i++) {
    d.wr(R.RA + 8 * i, 0);
    d.wr(R.RA + 8 * i + 4, 0);
  }
  for (let i = 0; i < 128; i++) d.wr(R.MTA + 4 * i, 0);
  d.wr(R.CTRL, (d.rd(R.CTRL) | R.CTRL_SLU) & ~(R.CTRL_FRCSPD | R.CTRL_FRCDPX));
  const ctrl = d.rd(R.CTRL);
  d.wr(R.CTRL, ctrl | R.CTRL_PHY_RST);
  sched.advance(10_000_000);
  d.wr(R.CTRL, ctrl);
  sched.advance(10_000_000);
  const phyId = ((phyRead(d, R.PHY_ID1) << 16) | phyRead(d, R.PHY_ID2)) & 0xfffffff0;
  if (phyId !== 0x01410c20) throw new Error(`PHY id 0x${phyId.toString(16)}`);
  phyWrite(d, R.M88_PHY_SPEC_CTRL, phyRead(d, R.M88_PHY_SPEC_CTRL) | 0x0060);
  phyWrite(d, R.PHY_BMCR, phyRead(d, R.PHY_BMCR) | R.BMCR_RESET);
  phyWrite(d, R.PHY_ANAR, 0x0de1);
  phyWrite(d, R.PHY_1000T_CTRL, 0x0200);
  phyWrite(d, R.PHY_BMCR, phyRead(d, R.PHY_BMCR) | R.BMCR_ANENABLE | R.BMCR_ANRESTART);
  for (let off = R.STATS_FIRST; off <= R.STATS_LAST; off += 4) d.rd(off);
  d.wr(R.VET, 0x8100);
  // e1000_open: configure TX (EN not set yet) and RX, IMS, ICS = LSC.
  d.setupTx();
  d.wr(R.TCTL, R.TCTL_PSP | (15 << 4));
  d.wr(R.TIPG, 0x00602008);
  d.wr(R.TIDV, 8);
  d.wr(R.TADV, 32);
  d.wr(R.RADV, 8);
  d.wr(R.ITR, 195);
  d.setupRx(R.RCTL_EN | R.RCTL_BAM); // RDMTS 1/2, BSIZE 2048
  d.wr(R.IMS, IMS_ENABLE_MASK);
  d.wr(R.ICS, R.ICR_LSC);
  return mac;
}

describe("Linux e1000 driver sequence", () => {
  it("probe + open + watchdog + xmit + receive work end to end", () => {
    const sched = new TestScheduler();
    const port = new MemoryPort(0x1000000, sched);
    const nic = new E1000({ scheduler: sched, mac: "52:54:00:aa:bb:cc" });
    nic.attach(port);
    const d = new Driver(nic, port);
    const mac = linuxProbeAndOpen(d, sched);
    expect(mac).toEqual([0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc]);
    // The ICS = LSC kick interrupts at once; the handler reads ICR.
    expect(port.irq).toBe(true);
    expect(d.rd(R.ICR) & R.ICR_LSC).toBe(R.ICR_LSC);
    expect(d.rd(R.STATUS) & R.STATUS_LU).toBe(0); // renegotiating
    sched.advance(AUTONEG_NS);
    expect(port.irq).toBe(true);
    expect(d.rd(R.ICR) & R.ICR_LSC).toBe(R.ICR_LSC);
    // watchdog: link up -> TCTL.EN
    expect(d.rd(R.STATUS) & R.STATUS_LU).toBe(R.STATUS_LU);
    d.wr(R.TCTL, d.rd(R.TCTL) | R.TCTL_EN);
    const sent: Uint8Array[] = [];
    nic.attachBackend({ send: (f, l) => sent.push(f.slice(0, l)) });
    const frame = buildUdpFrame({
      dstMac: parseMac("02:00:00:00:00:02"),
      srcMac: Uint8Array.from(mac),
      srcIp: 1,
      dstIp: 2,
      srcPort: 3,
      dstPort: 4,
      payload: new Uint8Array(100),
    });
    const i = d.queueTx(frame, R.TXD_CMD_EOP | R.TXD_CMD_IFCS | R.TXD_CMD_RS | R.TXD_CMD_IDE);
    d.kickTx();
    expect(sent.length).toBe(1);
    expect(d.txStatus(i) & R.TXD_STAT_DD).toBe(R.TXD_STAT_DD);
    sched.advance(8 * 1024 + 50_000); // TIDV delay and the ITR interval
    expect(d.rd(R.ICR) & R.ICR_TXDW).toBe(R.ICR_TXDW);
    nic.receive(frame.slice().fill(0xff, 0, 6), frame.length);
    sched.advance(50_000);
    expect(d.rd(R.ICR) & R.ICR_RXT0).toBe(R.ICR_RXT0);
    expect(d.rxDesc(0).status & (R.RXD_STAT_DD | R.RXD_STAT_EOP)).toBe(R.RXD_STAT_DD | R.RXD_STAT_EOP);
    expect(d.rxDesc(0).length).toBe(frame.length + 4);
    expect(nic.errors).toEqual([]);
  });

  it("two NICs on one link: frames from one land in the other's ring at wire pace", () => {
    const sched = new TestScheduler();
    const pa = new MemoryPort(0x1000000, sched);
    const pb = new MemoryPort(0x1000000, sched);
    const a = new E1000({ scheduler: sched, mac: "02:00:00:00:00:0a" });
    const b = new E1000({ scheduler: sched, mac: "02:00:00:00:00:0b" });
    a.attach(pa);
    b.attach(pb);
    new Link(sched).connect(a, b);
    sched.advance(AUTONEG_NS);
    const da = new Driver(a, pa);
    const db = new Driver(b, pb);
    da.setupTx();
    db.setupRx(R.RCTL_EN);
    const t0 = sched.now();
    for (let k = 0; k < 5; k++) {
      da.queueTx(
        buildUdpFrame({
          dstMac: parseMac("02:00:00:00:00:0b"),
          srcMac: parseMac("02:00:00:00:00:0a"),
          srcIp: 1,
          dstIp: 2,
          srcPort: 1,
          dstPort: 2,
          payload: new Uint8Array(18),
        }),
      );
    }
    da.kickTx();
    sched.runUntil(t0 + 672 * 5 - 1);
    expect(db.rd(R.RDH)).toBe(4);
    sched.runUntil(t0 + 672 * 5);
    expect(db.rd(R.RDH)).toBe(5);
    expect(db.rd(R.GPRC)).toBe(5);
    expect(da.rd(R.GPTC)).toBe(5);
  });
});
