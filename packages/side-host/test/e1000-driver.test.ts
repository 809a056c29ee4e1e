/**
 * The e1000 driver's behaviour on the real host, natively and isolated: a Machine with net-nic's
 * 82540EM, Kernel.boot, loadDriver, eth0 through kernel.net. What the driver did is read where
 * the host shows it: the NIC model's registers, PHY and EEPROM, the wire (a pcap capture),
 * kernel.net's records and the driver's net_device statistics, the ledger, the printk log,
 * timers and simulated time. (Failures of services during load and ifup are in
 * e1000-failpaths.test.ts.)
 */
import { Adapter, E1000_WATCHDOG_INTERVAL, e1000Driver, Ring } from "@side-kernel/driver-e1000";
import {
  type DriverModule,
  type EntryPoint,
  IRQ_NONE,
  NAPI_POLL_WEIGHT,
  NapiStruct,
  NETDEV_TX_BUSY,
  NETDEV_TX_OK,
  NetDevice,
  NetDeviceOps,
  NetDeviceStats,
  PciDev,
  PciDriver,
  TimerList,
  WorkStruct,
} from "@side-kernel/kservice";
import { PcapWriter, parseMac, regs as R, readPcap, TRACE_MMIO } from "@side-kernel/net-nic";
import { describe, expect, it, vi } from "vitest";
import {
  type DriverInstance,
  IsolatedDriverInstance,
  type Kernel,
  type Machine,
  type MachineOptions,
  NET_XMIT_SUCCESS,
  type NetdevRecord,
  NIC_PCI_DEVICE,
  NS_PER_JIFFY,
} from "../src/index.js";
import { bootKernel, expectNoLeaks } from "./helpers.js";

const MAC = "52:54:00:12:34:56";
const PEER = [0x02, 0, 0, 0, 0, 1];
/** What the NIC's RAL0/RAH0 hold for MAC (bytes 0-3 little-endian; bytes 4-5 and Address Valid). */
const RAL0 = 0x12005452;
const RAH0 = (0x5634 | R.RAH_AV) >>> 0;
/** 802.1Q TPID (VET). */
const ETH_P_8021Q = 0x8100;
/** The driver's interrupt mask: RXT0 | TXDW | RXDMT0 | RXSEQ | LSC = 0x9D (hardware.md 6). */
const IMS_ENABLE_MASK = R.ICR_RXT0 | R.ICR_TXDW | R.ICR_RXDMT0 | R.ICR_RXSEQ | R.ICR_LSC;
/** ANAR bits 8:5: 10/100 half and full advertised (IEEE 802.3 28.2.1.2). */
const ANAR_10_100_ALL = 0x1e0;
/** 1000BASE-T control bit 9: advertise 1000 full duplex (IEEE 802.3 40.5.1.1). */
const CR_1000T_FD_CAPS = 0x200;
/** The PHY ID the driver reads from PHYID1:PHYID2 (Linux M88E1011_I_PHY_ID). */
const M88E1011_I_PHY_ID = ((R.PHY_ID1_82540EM << 16) | R.PHY_ID2_82540EM) >>> 0;
/** Legacy TX descriptor command byte the driver uses: EOP | IFCS | RS | IDE (TIDV = 8). */
const TX_CMD = (R.TXD_CMD_EOP | R.TXD_CMD_IFCS | R.TXD_CMD_RS | R.TXD_CMD_IDE) >>> 24;
const RING_BYTES = 256 * R.DESC_SIZE;
/** RCTL.BSIZE (bits 17:16) for 256-byte RX buffers with BSEX clear (QEMU e1000x_rxbufsize). */
const BSIZE_256 = 3;
/** TIPG for copper (IPGT 8, IPGR1 8, IPGR2 6) and ITR for 20 000 interrupts/s (hardware.md 6). */
const TIPG_COPPER = 0x00602008;
const ITR_20K = 195;
/** Probe: two resets, each msleep(10) before CTRL.RST and msleep(5) for the EEPROM auto-read. */
const PROBE_SLEEP_NS = 2 * (10 + 5) * 1e6;
const ETH_ZLEN = 60;
const EINVAL = 22;
const EIO = 5;
const EADDRNOTAVAIL = 99;
const CTRL_RESET_TRACE = "CTRL.RST: device reset";
/** What the driver holds once probed: everything but the open interface's. */
const PROBED = {
  "pci-driver": 1,
  "pci-enable": 1,
  "pci-regions": 1,
  iomap: 1,
  netdev: 1,
  "netdev-registered": 1,
  napi: 1,
  heap: 3, // module data, tx ring struct, rx ring struct
};
/** What the module keeps when its probe failed: init's data block and the pci_driver. */
const UNBOUND = { heap: 1, "pci-driver": 1 };

/** A frame to the NIC (or `dst`): our MAC, the peer's, `type`, then bytes (seed + i). */
function frame(len: number, seed: number, type = 0x0800, dst: readonly number[] = [...parseMac(MAC)]) {
  const f = new Uint8Array(len);
  f.set(dst, 0);
  f.set(PEER, 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  for (let i = 14; i < len; i++) f[i] = (seed + i) & 0xff;
  return f;
}

interface Rig {
  kernel: Kernel;
  machine: Machine;
  inst: DriverInstance;
  dev: NetdevRecord;
  /** Whole frames handed to the stack, in order. */
  received: Uint8Array[];
  /** The wire, both directions. */
  capture: PcapWriter;
}

function boot(mode: "native" | "isolated", options: MachineOptions = {}): Rig {
  const capture = new PcapWriter();
  const { kernel, machine } = bootKernel({ mac: MAC, capture, ...options });
  const inst = kernel.loadDriver(e1000Driver, { mode });
  const received: Uint8Array[] = [];
  kernel.net.protocolHandler = (skb) => {
    received.push(kernel.net.frame(skb).slice());
    kernel.net.freeSkb(skb);
  };
  const dev = kernel.net.byName("eth0")!;
  return { kernel, machine, inst, dev, received, capture };
}

/** Run until the carrier is on (autonegotiation, then the watchdog). */
function waitCarrier(r: Rig): void {
  r.machine.run({ until: () => r.dev.carrier, untilNs: r.kernel.nowNs + 5e9 });
  expect(r.dev.carrier).toBe(true);
}

function up(mode: "native" | "isolated", options: MachineOptions = {}): Rig {
  const r = boot(mode, options);
  expect(r.kernel.net.devOpen("eth0")).toBe(0);
  waitCarrier(r);
  return r;
}

/** Run for `ns` of simulated time. */
function runFor(r: Rig, ns: number): void {
  r.machine.run({ untilNs: r.kernel.nowNs + ns });
}

function unloadClean(r: Rig): void {
  r.kernel.unloadDriver(r.inst);
  expectNoLeaks(r.kernel);
}

const adapterOf = (r: Rig) => r.dev.ptr + NetDevice.PRIV;
const reg = (r: Rig, offset: number) => r.machine.nic.regs[offset >> 2];
const ops = (r: Rig, slot: number) =>
  r.kernel.mmu.loadPtr(r.kernel.mmu.loadPtr(r.dev.ptr + NetDevice.netdevOps) + slot);
const skbs = (r: Rig) => r.inst.ledger.count("skb");
const logged = (r: Rig, text: string) => r.kernel.log.dmesg().some((l) => l.includes(text));

/** A 64-bit net_device statistic (the values here stay far below 2^32). */
function stat(r: Rig, field: number): number {
  const a = r.dev.ptr + NetDevice.stats + field;
  return r.kernel.mmu.load32(a) + r.kernel.mmu.load32(a + 4) * 2 ** 32;
}

/** Frames the NIC put on the wire (the tests hand received frames to the NIC directly). */
function sent(r: Rig): Uint8Array[] {
  return readPcap(r.capture.toBytes()).records.map((p) => p.data);
}

/**
 * dev_queue_xmit of a copy of `f`, in an skb with room for ETH_ZLEN bytes (the host's
 * eth_skb_pad does not grow an skb as Linux's skb_put_padto may; it drops it).
 */
function xmit(r: Rig, f: Uint8Array): number {
  const skb = r.kernel.net.allocSkb("eth0", Math.max(f.length, ETH_ZLEN));
  r.kernel.net.writeSkb(skb, f);
  return r.kernel.net.xmit(skb);
}

/** The NIC's resets (CTRL.RST), counted from now through its trace. */
function countResets(machine: Machine): { n: number } {
  const c = { n: 0 };
  machine.nic.setTrace((_cat, message) => {
    if (message === CTRL_RESET_TRACE) c.n++;
  }, TRACE_MMIO);
  return c;
}

describe.each(["native", "isolated"] as const)("e1000 driver on the real host, %s", (mode) => {
  describe("module init and probe", () => {
    it("registers the pci_driver, probes the 82540EM and registers eth0 with the EEPROM's MAC", () => {
      const r = boot(mode);
      const drv = r.inst.ledger.entries("pci-driver")[0].key;
      const pdev = r.kernel.pci.find(0, NIC_PCI_DEVICE)!;
      expect(pdev.driver?.ptr).toBe(drv);
      const name = r.kernel.mmu.loadPtr(drv + PciDriver.name);
      const chars = [0, 1, 2, 3, 4, 5].map((i) => r.kernel.mmu.load8(name + i));
      expect(String.fromCharCode(...chars)).toBe("e1000\0");
      expect(r.dev.registered).toBe(true);
      expect(r.kernel.net.macString(r.dev.ptr)).toBe(MAC);
      expect(reg(r, R.RA)).toBe(RAL0); // RAR[0] = MAC with Address Valid
      expect(reg(r, R.RA + 4)).toBe(RAH0);
      expect(reg(r, R.VET)).toBe(ETH_P_8021Q);
      expect(r.dev.carrier).toBe(false);
      expect(r.inst.ledger.summary()).toEqual(PROBED);
      unloadClean(r);
    });

    it("resets the MAC through the I/O port and reads the EEPROM by Microwire with 50 us delays", () => {
      const { kernel, machine } = bootKernel({ mac: MAC });
      const ioWrite = vi.spyOn(machine.bus, "ioWrite");
      const resets = countResets(machine);
      const t0 = kernel.nowNs;
      const busy0 = machine.clock.busyCycles;
      const inst = kernel.loadDriver(e1000Driver, { mode });
      const busyNs = ((machine.clock.busyCycles - busy0) / machine.clock.hz) * 1e9;
      expect(resets.n).toBe(2); // before the EEPROM, and e1000_reset
      // each reset: IOADDR = CTRL, then IODATA = CTRL | RST
      const ioBar = kernel.pci.find(0, NIC_PCI_DEVICE)!.starts[1];
      const writes = ioWrite.mock.calls.map(([port, , value]) => [port - ioBar, value]);
      expect(writes).toEqual([
        [R.IOADDR, R.CTRL],
        [R.IODATA, expect.any(Number)],
        [R.IOADDR, R.CTRL],
        [R.IODATA, expect.any(Number)],
      ]);
      expect(writes.every(([port, value]) => port !== R.IODATA || value & R.CTRL_RST)).toBe(true);
      // the msleeps are idle time; the rest is the CPU busy, mostly in udelay: 67 words (checksum
      // pass of 64 + MAC 3) at ~64 delays of 50 us, plus MDIC polls
      expect(kernel.nowNs - t0 - busyNs).toBeCloseTo(PROBE_SLEEP_NS, -3);
      expect(busyNs).toBeGreaterThan(0.2e9);
      expect(busyNs).toBeLessThan(0.25e9);
      ioWrite.mockRestore();
      kernel.unloadDriver(inst);
      expectNoLeaks(kernel);
    });

    it("restarts autonegotiation through MDIC, advertising 10/100/1000 full", () => {
      const r = boot(mode);
      const phy = r.machine.nic.phy;
      expect(phy[R.PHY_ANAR] & ANAR_10_100_ALL).toBe(ANAR_10_100_ALL);
      expect(phy[R.PHY_1000T_CTRL] & CR_1000T_FD_CAPS).toBe(CR_1000T_FD_CAPS);
      expect(phy[R.PHY_BMCR] & R.BMCR_ANENABLE).toBe(R.BMCR_ANENABLE);
      expect(r.kernel.mmu.load32(adapterOf(r) + Adapter.phyId)).toBe(M88E1011_I_PHY_ID);
      unloadClean(r);
    });

    it("stores only code addresses of its own entry points", () => {
      const r = up(mode);
      const mmu = r.kernel.mmu;
      const adapter = adapterOf(r);
      const drv = r.inst.ledger.entries("pci-driver")[0].key;
      const stored = {
        probe: mmu.loadPtr(drv + PciDriver.probe),
        remove: mmu.loadPtr(drv + PciDriver.remove),
        open: ops(r, NetDeviceOps.ndoOpen),
        stop: ops(r, NetDeviceOps.ndoStop),
        xmit: ops(r, NetDeviceOps.ndoStartXmit),
        rxMode: ops(r, NetDeviceOps.ndoSetRxMode),
        mac: ops(r, NetDeviceOps.ndoSetMacAddress),
        timeout: ops(r, NetDeviceOps.ndoTxTimeout),
        poll: mmu.loadPtr(adapter + Adapter.napi + NapiStruct.poll),
        watchdog: mmu.loadPtr(adapter + Adapter.watchdogTimer + TimerList.function),
        reset: mmu.loadPtr(adapter + Adapter.resetTask + WorkStruct.func),
      };
      const names = Object.fromEntries(Object.entries(stored).map(([k, v]) => [k, r.inst.entryName(v)]));
      expect(names).toEqual({
        probe: "e1000_probe",
        remove: "e1000_remove",
        open: "e1000_open",
        stop: "e1000_close",
        xmit: "e1000_xmit_frame",
        rxMode: "e1000_set_rx_mode",
        mac: "e1000_set_mac",
        timeout: "e1000_tx_timeout",
        poll: "e1000_clean",
        watchdog: "e1000_watchdog",
        reset: "e1000_reset_task",
      });
      const irq = mmu.load32(r.dev.ptr + NetDevice.irq);
      expect(r.kernel.irq.actions(irq).map((a) => r.inst.entryName(a.handler))).toEqual(["e1000_intr"]);
      expect(mmu.load32(adapter + Adapter.napi + NapiStruct.weight)).toBe(NAPI_POLL_WEIGHT);
      unloadClean(r);
    });

    it("fails probe with -EIO and a dev_err on a bad EEPROM checksum, holding nothing", () => {
      const { kernel, machine } = bootKernel({ mac: MAC });
      machine.nic.eeprom.words[5] ^= 0x1;
      const inst = kernel.loadDriver(e1000Driver, { mode }); // init succeeds; the device stays unbound
      expect(kernel.pci.find(0, NIC_PCI_DEVICE)!.driver).toBeNull();
      expect(kernel.net.byName("eth0")).toBeUndefined();
      const dmesg = kernel.log.dmesg();
      expect(dmesg.some((l) => l.includes("EEPROM Checksum Is Not Valid"))).toBe(true);
      expect(dmesg.some((l) => l.endsWith(`failed with error -${EIO}`))).toBe(true);
      expect(inst.ledger.summary()).toEqual(UNBOUND);
      kernel.unloadDriver(inst);
      expectNoLeaks(kernel);
    });

    it("fails probe with -EIO on an invalid (multicast) MAC address, holding nothing", () => {
      const { kernel } = bootKernel({ mac: "01:00:5e:00:00:01" });
      const inst = kernel.loadDriver(e1000Driver, { mode });
      const dmesg = kernel.log.dmesg();
      expect(dmesg.some((l) => l.includes("Invalid MAC Address 01:00:5e:00:00:01"))).toBe(true);
      expect(dmesg.some((l) => l.endsWith(`failed with error -${EIO}`))).toBe(true);
      expect(inst.ledger.summary()).toEqual(UNBOUND);
      kernel.unloadDriver(inst);
      expectNoLeaks(kernel);
    });

    it("fails probe with -EIO when the reset never completes", () => {
      const { kernel, machine } = bootKernel({ mac: MAC });
      // a NIC stuck in reset: CTRL.RST never reads back clear
      const nic = machine.nic;
      const read = nic.readRegister.bind(nic);
      vi.spyOn(nic, "readRegister").mockImplementation((offset) =>
        offset === R.CTRL ? (read(offset) | R.CTRL_RST) >>> 0 : read(offset),
      );
      const inst = kernel.loadDriver(e1000Driver, { mode });
      expect(kernel.log.dmesg().some((l) => l.endsWith(`failed with error -${EIO}`))).toBe(true);
      expect(kernel.net.byName("eth0")).toBeUndefined();
      expect(inst.ledger.summary()).toEqual(UNBOUND);
      kernel.unloadDriver(inst);
      expectNoLeaks(kernel);
    });

    it("module exit without the pci_driver pointer returns -EINVAL and touches nothing", () => {
      const r = boot(mode);
      const drv = r.inst.ledger.entries("pci-driver")[0].key;
      expect(r.inst.call(r.inst.fn(e1000Driver.exit), 0)).toBe(-EINVAL);
      expect(r.kernel.pci.find(0, NIC_PCI_DEVICE)!.driver?.ptr).toBe(drv);
      expect(r.inst.ledger.summary()).toEqual(PROBED);
      unloadClean(r);
    });
  });

  describe("open, watchdog and close", () => {
    it("programs both rings, RCTL and the interrupt mask, and kicks the watchdog with ICS = LSC", () => {
      const r = boot(mode);
      expect(r.kernel.net.devOpen("eth0")).toBe(0);
      expect(reg(r, R.TDLEN)).toBe(RING_BYTES);
      expect(reg(r, R.RDLEN)).toBe(RING_BYTES);
      expect(reg(r, R.RDT)).toBe(254); // 255 buffers filled, RDT = last filled
      expect(reg(r, R.TDBAL)).toBeGreaterThan(0);
      expect(reg(r, R.TDBAL) % 4096).toBe(0);
      const rctl = reg(r, R.RCTL);
      expect(rctl & R.RCTL_EN).toBeTruthy();
      expect(rctl & R.RCTL_BAM).toBeTruthy();
      expect(rctl & (R.RCTL_SECRC | R.RCTL_BSEX | R.RCTL_BSIZE_MASK | R.RCTL_UPE)).toBe(0);
      expect(reg(r, R.TIPG)).toBe(TIPG_COPPER);
      expect(reg(r, R.ITR)).toBe(ITR_20K);
      expect(reg(r, R.IMS)).toBe(IMS_ENABLE_MASK);
      expect(reg(r, R.TCTL) & R.TCTL_EN).toBe(0); // until the watchdog sees link up
      expect(reg(r, R.ICR) & R.ICR_LSC).toBe(R.ICR_LSC); // the kick, not yet delivered
      expect(r.inst.ledger.count("irq")).toBe(1);
      expect(skbs(r)).toBe(255);
      waitCarrier(r);
      expect(reg(r, R.TCTL) & R.TCTL_EN).toBeTruthy();
      expect(logged(r, "NIC Link is Up 1000 Mbps Full Duplex")).toBe(true);
      const watchdog = adapterOf(r) + Adapter.watchdogTimer;
      expect(r.kernel.timers.pending(watchdog)).toBe(true);
      r.kernel.net.devClose("eth0");
      expect(r.kernel.timers.pending(watchdog)).toBe(false);
      unloadClean(r);
    });

    it("close frees the IRQ, every ring buffer and the rings, leaving only what probe holds", () => {
      const r = up(mode);
      for (let i = 0; i < 5; i++) expect(xmit(r, frame(100, i))).toBe(NET_XMIT_SUCCESS);
      expect(r.inst.ledger.count("irq")).toBe(1);
      r.kernel.net.devClose("eth0");
      expect(r.inst.ledger.summary()).toEqual(PROBED);
      expect(r.kernel.irq.actionCount()).toBe(0);
      expect(reg(r, R.RCTL) & R.RCTL_EN).toBe(0);
      expect(reg(r, R.IMS)).toBe(0);
      expect(r.dev.carrier).toBe(false);
      // open again works and traffic flows
      expect(r.kernel.net.devOpen("eth0")).toBe(0);
      waitCarrier(r);
      const before = sent(r).length;
      expect(xmit(r, frame(200, 9))).toBe(NET_XMIT_SUCCESS);
      runFor(r, 1e6);
      expect(
        sent(r)
          .slice(before)
          .map((f) => [...f]),
      ).toEqual([[...frame(200, 9)]]);
      unloadClean(r);
    });

    it("the watchdog reports link down, re-arms every 2 s and folds the statistics registers in", () => {
      const r = up(mode);
      const nic = r.machine.nic;
      // 3 frames with CRC errors (counted and dropped by the NIC: RCTL.SBP is clear)
      for (let i = 0; i < 3; i++) expect(nic.receive(frame(100, i), 100, R.RXD_ERR_CE)).toBe(true);
      // 254 frames fill the RX ring before the driver runs; 2 more are missed (MPC)
      for (let i = 0; i < 256; i++) expect(nic.receive(frame(64, i), 64)).toBe(true);
      // a full-duplex link has no collisions: set the counter as a half-duplex one would
      nic.regs[R.COLC >> 2] = 1;
      runFor(r, E1000_WATCHDOG_INTERVAL * NS_PER_JIFFY);
      expect(r.received).toHaveLength(254);
      expect(stat(r, NetDeviceStats.rxCrcErrors)).toBe(3);
      expect(stat(r, NetDeviceStats.rxMissedErrors)).toBe(2);
      expect(stat(r, NetDeviceStats.collisions)).toBe(1);
      expect(stat(r, NetDeviceStats.rxErrors)).toBe(3);
      r.machine.link.disconnect();
      r.machine.run({ until: () => !r.dev.carrier, untilNs: r.kernel.nowNs + 1e9 });
      expect(r.dev.carrier).toBe(false);
      expect(logged(r, "NIC Link is Down")).toBe(true);
      expect(r.kernel.timers.pending(adapterOf(r) + Adapter.watchdogTimer)).toBe(true);
      expect(r.inst.ledger.count("lock")).toBe(0);
      unloadClean(r);
    });
  });

  describe("transmit", () => {
    it("sends frames through the TX ring, pads runts to 60 bytes and reclaims them in the poll", () => {
      const r = up(mode);
      const frames = [frame(42, 1), frame(1514, 2), frame(300, 3)];
      for (const f of frames) expect(xmit(r, f)).toBe(NET_XMIT_SUCCESS);
      // descriptor command: EOP | IFCS | RS | IDE (TIDV = 8)
      const mmu = r.kernel.mmu;
      const ring = mmu.loadPtr(adapterOf(r) + Adapter.txRing);
      const lower = mmu.load32(mmu.loadPtr(ring + Ring.desc) + R.DESC_LOWER);
      expect(lower >>> 24).toBe(TX_CMD);
      expect(lower & 0xffff).toBe(60);
      expect(skbs(r)).toBe(255 + 3); // not reclaimed before the TX interrupt
      runFor(r, 1e6);
      const wire = sent(r);
      expect(wire).toHaveLength(3);
      expect(wire[0].length).toBe(60);
      expect([...wire[0].subarray(0, 42)]).toEqual([...frames[0]]);
      expect([...wire[0].subarray(42)]).toEqual(new Array(18).fill(0));
      expect([...wire[1]]).toEqual([...frames[1]]);
      expect([...wire[2]]).toEqual([...frames[2]]);
      expect(skbs(r)).toBe(255);
      expect(r.inst.ledger.count("dma-map")).toBe(255);
      expect(stat(r, NetDeviceStats.txPackets)).toBe(3);
      expect(stat(r, NetDeviceStats.txBytes)).toBe(60 + 1514 + 300);
      unloadClean(r);
    });

    it("stops the queue when the ring fills, returns NETDEV_TX_BUSY, and wakes it after cleaning", () => {
      const r = boot(mode);
      expect(r.kernel.net.devOpen("eth0")).toBe(0);
      // Link not up yet: TCTL.EN is clear, so the device sends nothing and the ring fills.
      let ok = 0;
      while (!r.dev.stopped) {
        expect(xmit(r, frame(64, ok))).toBe(NET_XMIT_SUCCESS);
        ok++;
      }
      expect(ok).toBe(252); // 255 usable descriptors; stop once fewer than 4 are left
      expect(r.dev.counters.txPackets).toBe(252);
      // A caller that ignores the stopped queue (not dev_queue_xmit, which queues in the qdisc)
      // still gets the last 2, then NETDEV_TX_BUSY.
      const startXmit = (f: Uint8Array): number => {
        const skb = r.kernel.net.allocSkb("eth0", f.length);
        r.kernel.net.writeSkb(skb, f);
        r.inst.ledger.acquire("skb", skb, "test ndo_start_xmit");
        const rc = r.inst.call(ops(r, NetDeviceOps.ndoStartXmit), skb, r.dev.ptr);
        if (rc === NETDEV_TX_BUSY) {
          r.inst.ledger.drop("skb", skb);
          r.kernel.net.freeSkb(skb);
        }
        return rc;
      };
      expect(startXmit(frame(64, 900))).toBe(NETDEV_TX_OK);
      expect(startXmit(frame(64, 901))).toBe(NETDEV_TX_OK);
      expect(startXmit(frame(64, 902))).toBe(NETDEV_TX_BUSY);
      expect(r.dev.stopped).toBe(true);
      // dev_queue_xmit keeps what comes now in the qdisc
      expect(xmit(r, frame(64, 903))).toBe(NET_XMIT_SUCCESS);
      expect(r.dev.qdisc).toHaveLength(1);
      waitCarrier(r); // watchdog: link up, TCTL.EN starts the TX engine
      runFor(r, 5e6);
      expect(sent(r)).toHaveLength(255);
      expect(r.dev.stopped).toBe(false);
      expect(r.dev.qdisc).toHaveLength(0);
      expect(skbs(r)).toBe(255);
      unloadClean(r);
    });

    it("drops a frame it cannot map and counts it", () => {
      const r = up(mode);
      r.kernel.failpoints.arm("dma_map_single");
      expect(xmit(r, frame(100, 1))).toBe(NET_XMIT_SUCCESS);
      expect(r.kernel.failpoints.injected).toBe(1);
      expect(stat(r, NetDeviceStats.txDropped)).toBe(1);
      runFor(r, 1e6);
      expect(sent(r)).toHaveLength(0);
      expect(skbs(r)).toBe(255);
      unloadClean(r);
    });
  });

  describe("receive", () => {
    it("hands frames to the stack without the FCS and refills the ring", () => {
      const r = up(mode);
      const frames = [frame(60, 1), frame(1514, 2), frame(128, 3, 0x86dd)];
      for (const f of frames) expect(r.machine.nic.receive(f, f.length)).toBe(true);
      runFor(r, 1e6);
      expect(r.received.map((f) => [...f])).toEqual(frames.map((f) => [...f]));
      expect(stat(r, NetDeviceStats.rxPackets)).toBe(3);
      expect(stat(r, NetDeviceStats.rxBytes)).toBe(60 + 1514 + 128);
      expect(skbs(r)).toBe(255);
      // 3 buffers used and given back: next_to_use moves from 255 to 2, RDT = last filled = 1.
      expect(reg(r, R.RDT)).toBe(1);
      expect(reg(r, R.IMS)).toBe(IMS_ENABLE_MASK); // re-enabled after the poll
      unloadClean(r);
    });

    it("polls at most the budget per call and keeps polling while work remains", () => {
      const r = up(mode);
      for (let i = 0; i < 200; i++) expect(r.machine.nic.receive(frame(100, i), 100)).toBe(true);
      const napi = adapterOf(r) + Adapter.napi;
      // call the poll directly once: a full budget means "not done"
      expect(r.inst.call(r.inst.fn("e1000_clean"), napi, NAPI_POLL_WEIGHT)).toBe(NAPI_POLL_WEIGHT);
      expect(r.received).toHaveLength(NAPI_POLL_WEIGHT);
      runFor(r, 1e6);
      expect(r.received).toHaveLength(200);
      for (let i = 0; i < 200; i++) expect(r.received[i][14]).toBe((i + 14) & 0xff);
      unloadClean(r);
    });

    it("keeps receiving across many ring wraps without leaking", () => {
      const r = up(mode);
      for (let round = 0; round < 10; round++) {
        for (let i = 0; i < 100; i++)
          expect(r.machine.nic.receive(frame(64 + i, round * 100 + i), 64 + i)).toBe(true);
        runFor(r, 1e6);
      }
      expect(r.received).toHaveLength(1000);
      expect(skbs(r)).toBe(255);
      expect(r.inst.ledger.count("dma-map")).toBe(255);
      unloadClean(r);
    });

    it("drops errored frames and frames spanning buffers, recycling their buffers", () => {
      const r = up(mode);
      const nic = r.machine.nic;
      // With the driver's RCTL (SBP clear, BSIZE 2048 for frames of at most 1522 bytes) the NIC
      // itself drops bad packets and never splits a frame. Set RCTL behind the driver's back so
      // that both reach the ring: SBP stores a bad packet with its errors, and BSIZE 256 (below
      // the driver's buffers, so nothing overruns them) spreads a 600-byte frame over 3 buffers.
      const rctl = (reg(r, R.RCTL) & ~R.RCTL_BSIZE_MASK) | R.RCTL_SBP | (BSIZE_256 << R.RCTL_BSIZE_SHIFT);
      nic.writeRegister(R.RCTL, rctl);
      expect(nic.receive(frame(100, 1), 100, R.RXD_ERR_CE)).toBe(true);
      expect(nic.receive(frame(600, 2), 600)).toBe(true); // all 3 buffers dropped
      expect(nic.receive(frame(100, 3).subarray(0, 2), 2)).toBe(true); // shorter than a header
      expect(nic.errors.at(-1)?.kind).toBe("rx-runt"); // the NIC drops that one itself
      expect(nic.receive(frame(100, 5), 100)).toBe(true);
      runFor(r, 1e6);
      expect(r.received).toHaveLength(1);
      expect(r.received[0][14]).toBe((5 + 14) & 0xff);
      expect(stat(r, NetDeviceStats.rxDropped)).toBe(1 + 3);
      expect(skbs(r)).toBe(255);
      unloadClean(r);
    });

    it("answers IRQ_NONE to an interrupt that is not its own", () => {
      const r = up(mode);
      runFor(r, 1e6);
      expect(reg(r, R.ICR)).toBe(0);
      const irq = r.kernel.mmu.load32(r.dev.ptr + NetDevice.irq);
      expect(r.inst.call(r.inst.fn("e1000_intr"), irq, r.dev.ptr)).toBe(IRQ_NONE);
      unloadClean(r);
    });
  });

  describe("rx mode, MAC address, reset task", () => {
    it("sets UPE and MPE in promiscuous mode and clears them again", () => {
      const r = up(mode);
      const both = R.RCTL_UPE | R.RCTL_MPE;
      const stranger = [0x02, 0x99, 0x99, 0x99, 0x99, 0x99];
      expect(r.kernel.net.setRxMode("eth0", { promisc: true })).toBe(true);
      expect(reg(r, R.RCTL) & both).toBe(both);
      r.machine.nic.receive(frame(100, 1, 0x0800, stranger), 100);
      runFor(r, 1e6);
      expect(r.received).toHaveLength(1); // another host's unicast frame
      expect(r.kernel.net.setRxMode("eth0", { promisc: false })).toBe(true);
      expect(reg(r, R.RCTL) & both).toBe(0);
      r.machine.nic.receive(frame(100, 2, 0x0800, stranger), 100);
      runFor(r, 1e6);
      expect(r.received).toHaveLength(1);
      unloadClean(r);
    });

    it("changes the MAC address and RAR[0], and refuses a multicast address", () => {
      const r = up(mode);
      expect(r.kernel.net.setMacAddress("eth0", [0x02, 0x11, 0x22, 0x33, 0x44, 0x55])).toBe(0);
      expect(reg(r, R.RA)).toBe(0x33221102);
      expect(reg(r, R.RA + 4)).toBe((0x5544 | R.RAH_AV) >>> 0);
      expect(r.kernel.net.macString(r.dev.ptr)).toBe("02:11:22:33:44:55");
      expect(r.kernel.net.setMacAddress("eth0", [0x01, 0, 0, 0, 0, 1])).toBe(-EADDRNOTAVAIL);
      expect(reg(r, R.RA)).toBe(0x33221102);
      expect(r.kernel.net.macString(r.dev.ptr)).toBe("02:11:22:33:44:55");
      unloadClean(r);
    });

    it("a TX timeout schedules the reset task, which reinitialises the open interface", () => {
      const r = up(mode);
      const resets = countResets(r.machine);
      expect(r.kernel.net.txTimeout("eth0")).toBe(true);
      expect(r.kernel.mmu.load32(adapterOf(r) + Adapter.txTimeoutCount)).toBe(1);
      expect(resets.n).toBe(0); // the work runs later
      r.machine.run({ until: () => resets.n > 0, untilNs: r.kernel.nowNs + 1e9 });
      expect(resets.n).toBe(1);
      expect(logged(r, "Reset adapter")).toBe(true);
      waitCarrier(r);
      expect(xmit(r, frame(100, 1))).toBe(NET_XMIT_SUCCESS);
      r.machine.nic.receive(frame(100, 2), 100);
      runFor(r, 1e6);
      expect(sent(r)).toHaveLength(1);
      expect(r.received).toHaveLength(1);
      expect(skbs(r)).toBe(255);
      unloadClean(r);
    });

    it("keeps its state in memory: a poll finds the adapter from the napi pointer alone", () => {
      const r = up(mode);
      const mmu = r.kernel.mmu;
      const pdev = r.kernel.pci.find(0, NIC_PCI_DEVICE)!;
      expect(mmu.loadPtr(adapterOf(r) + Adapter.netdev)).toBe(r.dev.ptr);
      // the pci_dev the driver was probed with: the kernel's, or (isolated) the domain's shadow of it
      const seen = mmu.loadPtr(adapterOf(r) + Adapter.pdev);
      const inst = r.inst;
      expect(inst instanceof IsolatedDriverInstance ? inst.domain.pdevOfShadow(seen) : seen).toBe(pdev.ptr);
      expect(mmu.load64(seen + PciDev.driverData)).toBe(r.dev.ptr); // pci_set_drvdata
      expect(mmu.load32(r.dev.ptr + NetDevice.irq)).toBe(mmu.load32(seen + PciDev.irq));
      expect(mmu.load32(r.dev.ptr + NetDevice.irq)).toBe(mmu.load32(pdev.ptr + PciDev.irq));
      unloadClean(r);
    });

    it("a fresh instance of the module takes over mid-run: all state is in memory", async () => {
      // The kernel loads a module whose entry points run whichever instance `target` names.
      let target: DriverModule = e1000Driver;
      const entryPoints: Record<string, EntryPoint> = {};
      for (const name of Object.keys(e1000Driver.entryPoints))
        entryPoints[name] = (k, ...args) => target.entryPoints[name](k, ...args);
      const capture = new PcapWriter();
      const { kernel, machine } = bootKernel({ mac: MAC, capture });
      const inst = kernel.loadDriver({ ...e1000Driver, entryPoints }, { mode });
      const dev = kernel.net.byName("eth0")!;
      const r: Rig = { kernel, machine, inst, dev, received: [], capture };
      kernel.net.protocolHandler = (skb) => {
        r.received.push(kernel.net.frame(skb).slice());
        kernel.net.freeSkb(skb);
      };
      expect(kernel.net.devOpen("eth0")).toBe(0);
      waitCarrier(r);
      expect(xmit(r, frame(100, 1))).toBe(NET_XMIT_SUCCESS);
      machine.nic.receive(frame(100, 2), 100);
      vi.resetModules();
      const fresh = (await import("@side-kernel/driver-e1000")).e1000Driver;
      expect(fresh).not.toBe(e1000Driver);
      expect(fresh.entryPoints.e1000_clean).not.toBe(e1000Driver.entryPoints.e1000_clean);
      target = fresh; // every later call through a code address runs the new instance
      runFor(r, 1e6);
      expect(r.received).toHaveLength(1);
      expect(stat(r, NetDeviceStats.txPackets)).toBe(1);
      expect(xmit(r, frame(100, 3))).toBe(NET_XMIT_SUCCESS);
      runFor(r, E1000_WATCHDOG_INTERVAL * NS_PER_JIFFY);
      expect(sent(r)).toHaveLength(2);
      expect(dev.carrier).toBe(true);
      unloadClean(r);
    });
  });
});
