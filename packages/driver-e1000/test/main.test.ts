import {
  EIO,
  IFF_PROMISC,
  IRQ_NONE,
  NAPI_POLL_WEIGHT,
  NapiStruct,
  NETDEV_STATE_CARRIER_OK,
  NETDEV_STATE_QUEUE_STOPPED,
  NETDEV_STATE_REGISTERED,
  NETDEV_TX_BUSY,
  NETDEV_TX_OK,
  NetDevice,
  NetDeviceOps,
  NetDeviceStats,
  PciDev,
  PciDriver,
  type ServiceName,
  TimerList,
  WorkStruct,
} from "@side-kernel/kservice";
import { describe, expect, it, vi } from "vitest";
import { e1000Driver } from "../src/driver.js";
import { Adapter, Ring } from "../src/layout.js";
import { E1000_WATCHDOG_INTERVAL, EADDRNOTAVAIL } from "../src/limits.js";
import * as R from "../src/regs.js";
import { FakeKernel, IRQ, MEM_BASE, PHYS_BASE } from "./support/fake-kernel.js";

const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/** Load the module; returns the kernel and the pci_driver pointer init registered. */
function boot(mac = MAC): { kern: FakeKernel; drv: number } {
  const kern = new FakeKernel(e1000Driver, mac);
  expect(kern.callEntry(e1000Driver.init)).toBe(0);
  const drv = kern.ledger.entries("pci-driver")[0]?.key ?? 0;
  return { kern, drv };
}

/** Boot, open and let the watchdog bring the link up. */
function up(): { kern: FakeKernel; drv: number; adapter: number } {
  const b = boot();
  expect(b.kern.open()).toBe(0);
  b.kern.run();
  b.kern.tick(1);
  return { ...b, adapter: b.kern.netdev + NetDevice.PRIV };
}

function frame(len: number, seed: number, type = 0x0800): Uint8Array {
  const f = new Uint8Array(len);
  f.set(MAC, 0);
  f.set([0x02, 0, 0, 0, 0, 1], 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  for (let i = 14; i < len; i++) f[i] = (seed + i) & 0xff;
  return f;
}

/** Unload: module exit (removes the device) and check that nothing is left. */
function unloadClean(kern: FakeKernel, drv: number): void {
  expect(kern.callEntry(e1000Driver.exit, drv)).toBe(0);
  expect(kern.ledger.summary()).toEqual({});
  expect(kern.liveBlocks).toBe(0);
}

describe("module init and probe", () => {
  it("registers the pci_driver, probes the 82540EM and registers eth0 with the EEPROM's MAC", () => {
    const { kern, drv } = boot();
    expect(kern.boundDriver).toBe(drv);
    expect(kern.readString(kern.loadPtr(drv + PciDriver.name))).toBe("e1000");
    expect(kern.state(NETDEV_STATE_REGISTERED)).toBe(true);
    const dev = kern.netdev;
    expect([
      ...kern.bytes.slice(dev - MEM_BASE + NetDevice.devAddr, dev - MEM_BASE + NetDevice.devAddr + 6),
    ]).toEqual(MAC);
    // RAR[0] = MAC with Address Valid.
    expect(kern.device.reg(R.E1000_RAL(0))).toBe(0x12005452);
    expect(kern.device.reg(R.E1000_RAH(0))).toBe((0x5634 | R.E1000_RAH_AV) >>> 0);
    expect(kern.device.reg(R.E1000_VET)).toBe(R.ETH_P_8021Q);
    expect(kern.state(NETDEV_STATE_CARRIER_OK)).toBe(false);
    expect(kern.ledger.summary()).toEqual({
      "pci-driver": 1,
      "pci-enable": 1,
      "pci-regions": 1,
      iomap: 1,
      netdev: 1,
      "netdev-registered": 1,
      napi: 1,
      heap: 3, // module data, tx ring struct, rx ring struct
    });
    unloadClean(kern, drv);
  });

  it("resets the MAC through the I/O port and reads the EEPROM by Microwire with 50 us delays", () => {
    const { kern, drv } = boot();
    expect(kern.device.ioWrites).toBeGreaterThanOrEqual(4); // two resets: IOADDR + IODATA each
    expect(kern.device.resets).toBe(2); // before the EEPROM, and e1000_reset
    expect(kern.device.writes.some(([off]) => off === R.E1000_CTRL)).toBe(true);
    // 67 words (checksum pass of 64 + MAC 3) at ~64 delays of 50 us, plus MDIC polls.
    expect(kern.delayedUs).toBeGreaterThan(0.2e6);
    expect(kern.delayedUs).toBeLessThan(0.25e6);
    expect(kern.sleptMs).toBe(2 * (10 + 5));
    unloadClean(kern, drv);
  });

  it("restarts autonegotiation through MDIC, advertising 10/100/1000 full", () => {
    const { kern, drv } = boot();
    expect(kern.device.phy[R.PHY_AUTONEG_ADV] & 0x1e0).toBe(0x1e0);
    expect(kern.device.phy[R.PHY_1000T_CTRL] & R.CR_1000T_FD_CAPS).toBe(R.CR_1000T_FD_CAPS);
    expect(kern.device.phy[R.PHY_CTRL] & R.MII_CR_AUTO_NEG_EN).toBe(R.MII_CR_AUTO_NEG_EN);
    expect(kern.load32(kern.netdev + NetDevice.PRIV + Adapter.phyId)).toBe(R.M88E1011_I_PHY_ID);
    unloadClean(kern, drv);
  });

  it("stores only code addresses of its own entry points", () => {
    const { kern, drv } = boot();
    expect(kern.open()).toBe(0);
    const adapter = kern.netdev + NetDevice.PRIV;
    const ops = kern.loadPtr(kern.netdev + NetDevice.netdevOps);
    const stored = {
      probe: kern.loadPtr(drv + PciDriver.probe),
      remove: kern.loadPtr(drv + PciDriver.remove),
      open: kern.loadPtr(ops + NetDeviceOps.ndoOpen),
      stop: kern.loadPtr(ops + NetDeviceOps.ndoStop),
      xmit: kern.loadPtr(ops + NetDeviceOps.ndoStartXmit),
      rxMode: kern.loadPtr(ops + NetDeviceOps.ndoSetRxMode),
      mac: kern.loadPtr(ops + NetDeviceOps.ndoSetMacAddress),
      timeout: kern.loadPtr(ops + NetDeviceOps.ndoTxTimeout),
      poll: kern.loadPtr(adapter + Adapter.napi + NapiStruct.poll),
      watchdog: kern.loadPtr(adapter + Adapter.watchdogTimer + TimerList.function),
      reset: kern.loadPtr(adapter + Adapter.resetTask + WorkStruct.func),
    };
    const names = Object.fromEntries(Object.entries(stored).map(([k, v]) => [k, kern.codeName(v)]));
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
    expect(kern.fnNames).toContain("e1000_intr");
    for (const n of kern.fnNames) expect(Object.keys(e1000Driver.entryPoints)).toContain(n);
    expect(kern.load32(adapter + Adapter.napi + NapiStruct.weight)).toBe(NAPI_POLL_WEIGHT);
    unloadClean(kern, drv);
  });

  it("fails probe with -EIO and a dev_err on a bad EEPROM checksum, holding nothing", () => {
    const kern = new FakeKernel(e1000Driver, MAC);
    kern.device.eeprom[5] ^= 0x1;
    const init = e1000Driver.entryPoints[e1000Driver.init];
    expect(init(kern.k)).toBe(0); // the driver registers; the device stays unbound
    expect(kern.boundDriver).toBe(0);
    expect(kern.log.some((l) => l.includes("EEPROM Checksum Is Not Valid"))).toBe(true);
    expect(kern.ledger.summary()).toEqual({ "pci-driver": 1, heap: 1 });
    const drv = kern.ledger.entries("pci-driver")[0].key;
    unloadClean(kern, drv);
  });

  it("returns probe's -EIO to a direct call on an invalid (multicast) MAC address", () => {
    const kern = new FakeKernel(e1000Driver, [0x01, 0, 0x5e, 0, 0, 1]);
    expect(kern.callEntry("e1000_probe", kern.pdev, 0)).toBe(-EIO);
    expect(kern.log.some((l) => l.includes("Invalid MAC Address 01:00:5e:00:00:01"))).toBe(true);
    expect(kern.ledger.summary()).toEqual({});
    expect(kern.liveBlocks).toBe(0);
  });

  it("fails probe with -EIO when the reset never completes", () => {
    const kern = new FakeKernel(e1000Driver, MAC);
    kern.device.resetSelfClears = false;
    expect(kern.callEntry("e1000_probe", kern.pdev, 0)).toBe(-EIO);
    expect(kern.ledger.summary()).toEqual({});
    expect(kern.liveBlocks).toBe(0);
  });

  const fallible: ServiceName[] = [
    "pci_enable_device",
    "pci_request_selected_regions",
    "pci_ioremap_bar",
    "dma_set_mask_and_coherent",
    "alloc_etherdev",
    "kzalloc",
    "register_netdev",
  ];
  for (const service of fallible) {
    for (const nth of [1, 2]) {
      it(`unwinds everything when ${service} call ${nth} fails during probe`, () => {
        const kern = new FakeKernel(e1000Driver, MAC);
        kern.failOn({ service, nth });
        const r = kern.callEntry("e1000_probe", kern.pdev, 0);
        const calls = kern.calls.filter((c) => c === service).length;
        if (calls < nth) {
          expect(r).toBe(0); // that call does not happen twice: probe succeeded
          kern.callEntry("e1000_remove", kern.pdev);
        } else {
          expect(r).toBeLessThan(0);
        }
        expect(kern.ledger.summary()).toEqual({});
        expect(kern.liveBlocks).toBe(0);
      });
    }
  }

  it("undoes init when pci_register_driver fails", () => {
    const kern = new FakeKernel(e1000Driver, MAC);
    kern.failOn({ service: "pci_register_driver", nth: 1 });
    expect(kern.callEntry(e1000Driver.init)).toBeLessThan(0);
    expect(kern.ledger.summary()).toEqual({});
    expect(kern.liveBlocks).toBe(0);
  });

  it("module exit without the pci_driver pointer returns -EINVAL and touches nothing", () => {
    const { kern, drv } = boot();
    expect(kern.callEntry(e1000Driver.exit)).toBe(-22);
    expect(kern.boundDriver).toBe(drv);
    unloadClean(kern, drv);
  });
});

describe("open, watchdog and close", () => {
  it("programs both rings, RCTL and the interrupt mask, and kicks the watchdog with ICS = LSC", () => {
    const { kern, drv } = boot();
    expect(kern.open()).toBe(0);
    const d = kern.device;
    expect(d.reg(R.E1000_TDLEN)).toBe(256 * 16);
    expect(d.reg(R.E1000_RDLEN)).toBe(256 * 16);
    expect(d.reg(R.E1000_RDT)).toBe(254); // 255 buffers filled, RDT = last filled
    expect(d.reg(R.E1000_TDBAL)).toBeGreaterThanOrEqual(PHYS_BASE);
    expect(d.reg(R.E1000_TDBAL) % 4096).toBe(0);
    const rctl = d.reg(R.E1000_RCTL);
    expect(rctl & R.E1000_RCTL_EN).toBeTruthy();
    expect(rctl & R.E1000_RCTL_BAM).toBeTruthy();
    expect(rctl & (R.E1000_RCTL_SECRC | R.E1000_RCTL_BSEX | R.E1000_RCTL_SZ_MASK | R.E1000_RCTL_UPE)).toBe(0);
    expect(d.reg(R.E1000_TIPG)).toBe(0x00602008);
    expect(d.reg(R.E1000_ITR)).toBe(195);
    expect(d.reg(R.E1000_IMS)).toBe(R.IMS_ENABLE_MASK);
    expect(d.reg(R.E1000_TCTL) & R.E1000_TCTL_EN).toBe(0); // until the watchdog sees link up
    expect(kern.ledger.count("irq")).toBe(1);
    expect(kern.ledger.count("skb")).toBe(255);
    kern.run(); // the LSC interrupt: mod_timer(jiffies + 1)
    kern.tick(1);
    expect(kern.state(NETDEV_STATE_CARRIER_OK)).toBe(true);
    expect(d.reg(R.E1000_TCTL) & R.E1000_TCTL_EN).toBeTruthy();
    expect(kern.log.some((l) => l.includes("NIC Link is Up 1000 Mbps Full Duplex"))).toBe(true);
    const adapter = kern.netdev + NetDevice.PRIV;
    expect(kern.timerPending(adapter + Adapter.watchdogTimer)).toBe(true);
    expect(kern.close()).toBe(0);
    expect(kern.timerPending(adapter + Adapter.watchdogTimer)).toBe(false);
    unloadClean(kern, drv);
  });

  it("close frees the IRQ, every ring buffer and the rings, leaving only what probe holds", () => {
    const { kern, drv } = up();
    for (let i = 0; i < 5; i++) kern.transmit(frame(100, i));
    const before = kern.ledger.summary();
    expect(before.irq).toBe(1);
    expect(kern.close()).toBe(0);
    expect(kern.ledger.summary()).toEqual({
      "pci-driver": 1,
      "pci-enable": 1,
      "pci-regions": 1,
      iomap: 1,
      netdev: 1,
      "netdev-registered": 1,
      napi: 1,
      heap: 3,
    });
    expect(kern.device.reg(R.E1000_RCTL) & R.E1000_RCTL_EN).toBe(0);
    expect(kern.device.reg(R.E1000_IMS)).toBe(0);
    expect(kern.state(NETDEV_STATE_CARRIER_OK)).toBe(false);
    // open again works and traffic flows
    expect(kern.open()).toBe(0);
    kern.run();
    kern.tick(1);
    expect(kern.transmit(frame(200, 9))).toBe(NETDEV_TX_OK);
    unloadClean(kern, drv);
  });

  it("the watchdog reports link down, re-arms every 2 s and folds the statistics registers in", () => {
    const { kern, drv, adapter } = up();
    kern.device.regs[R.E1000_CRCERRS >> 2] = 3;
    kern.device.regs[R.E1000_MPC >> 2] = 2;
    kern.device.regs[R.E1000_COLC >> 2] = 1;
    kern.tick(E1000_WATCHDOG_INTERVAL);
    expect(kern.stat(NetDeviceStats.rxCrcErrors)).toBe(3);
    expect(kern.stat(NetDeviceStats.rxMissedErrors)).toBe(2);
    expect(kern.stat(NetDeviceStats.collisions)).toBe(1);
    expect(kern.stat(NetDeviceStats.rxErrors)).toBe(3);
    kern.device.setLink(false);
    kern.run();
    kern.tick(1);
    expect(kern.state(NETDEV_STATE_CARRIER_OK)).toBe(false);
    expect(kern.log.some((l) => l.includes("NIC Link is Down"))).toBe(true);
    expect(kern.timerPending(adapter + Adapter.watchdogTimer)).toBe(true);
    expect(kern.ledger.count("lock")).toBe(0);
    unloadClean(kern, drv);
  });

  it("open fails with -ENOMEM and holds nothing new when a ring cannot be allocated", () => {
    for (const [service, nth] of [
      ["vzalloc", 1],
      ["vzalloc", 2],
      ["dma_alloc_coherent", 1],
      ["dma_alloc_coherent", 2],
      ["request_irq", 1],
    ] as [ServiceName, number][]) {
      const { kern, drv } = boot();
      const held = kern.ledger.summary();
      kern.failOn({ service, nth });
      expect(kern.open()).toBeLessThan(0);
      expect(kern.ledger.summary()).toEqual(held);
      kern.failOn(undefined);
      unloadClean(kern, drv);
    }
  });
});

describe("transmit", () => {
  it("sends frames through the TX ring, pads runts to 60 bytes and reclaims them in the poll", () => {
    const { kern, drv } = up();
    const frames = [frame(42, 1), frame(1514, 2), frame(300, 3)];
    for (const f of frames) expect(kern.transmit(f)).toBe(NETDEV_TX_OK);
    const sent = kern.device.sent;
    expect(sent).toHaveLength(3);
    expect(sent[0].length).toBe(60);
    expect([...sent[0].subarray(0, 42)]).toEqual([...frames[0]]);
    expect([...sent[0].subarray(42)]).toEqual(new Array(18).fill(0));
    expect([...sent[1]]).toEqual([...frames[1]]);
    // descriptor command: EOP | IFCS | RS | IDE (TIDV = 8)
    const ring = kern.loadPtr(kern.netdev + NetDevice.PRIV + Adapter.txRing);
    const desc0 = kern.loadPtr(ring + Ring.desc);
    const lower = kern.load32(desc0 + 8);
    expect(lower >>> 24).toBe(0x01 | 0x02 | 0x08 | 0x80);
    expect(lower & 0xffff).toBe(60);
    expect(kern.ledger.count("skb")).toBe(255 + 3);
    kern.run();
    expect(kern.ledger.count("skb")).toBe(255);
    expect(kern.ledger.count("dma-map")).toBe(255);
    expect(kern.stat(NetDeviceStats.txPackets)).toBe(3);
    expect(kern.stat(NetDeviceStats.txBytes)).toBe(60 + 1514 + 300);
    unloadClean(kern, drv);
  });

  it("stops the queue when the ring fills, returns NETDEV_TX_BUSY, and wakes it after cleaning", () => {
    const b = boot();
    const kern = b.kern;
    expect(kern.open()).toBe(0);
    // Link not up yet: TCTL.EN is clear, so the device sends nothing and the ring fills.
    let ok = 0;
    while (!kern.state(NETDEV_STATE_QUEUE_STOPPED)) {
      expect(kern.transmit(frame(64, ok))).toBe(NETDEV_TX_OK);
      ok++;
    }
    expect(ok).toBe(252); // 255 usable descriptors; stop once fewer than 4 are left
    // A caller that ignores the stopped queue still gets the last 2, then NETDEV_TX_BUSY.
    expect(kern.transmit(frame(64, 900))).toBe(NETDEV_TX_OK);
    expect(kern.transmit(frame(64, 901))).toBe(NETDEV_TX_OK);
    expect(kern.transmit(frame(64, 902))).toBe(NETDEV_TX_BUSY);
    expect(kern.state(NETDEV_STATE_QUEUE_STOPPED)).toBe(true);
    kern.run();
    kern.tick(1); // watchdog: link up, TCTL.EN starts the TX engine
    kern.run();
    expect(kern.device.sent).toHaveLength(254);
    expect(kern.state(NETDEV_STATE_QUEUE_STOPPED)).toBe(false);
    expect(kern.ledger.count("skb")).toBe(255);
    unloadClean(kern, b.drv);
  });

  it("drops a frame it cannot map and counts it", () => {
    const { kern, drv } = up();
    kern.failOn({ service: "dma_map_single", nth: 1 });
    expect(kern.transmit(frame(100, 1))).toBe(NETDEV_TX_OK);
    expect(kern.stat(NetDeviceStats.txDropped)).toBe(1);
    expect(kern.device.sent).toHaveLength(0);
    kern.failOn(undefined);
    expect(kern.ledger.count("skb")).toBe(255);
    unloadClean(kern, drv);
  });
});

describe("receive", () => {
  it("hands frames to the stack without the FCS and refills the ring", () => {
    const { kern, drv } = up();
    const frames = [frame(60, 1), frame(1514, 2), frame(128, 3, 0x86dd)];
    for (const f of frames) expect(kern.device.receive(f)).toBe(true);
    kern.run();
    expect(kern.received.map((r) => [...r])).toEqual(frames.map((f) => [...f]));
    expect(kern.stat(NetDeviceStats.rxPackets)).toBe(3);
    expect(kern.stat(NetDeviceStats.rxBytes)).toBe(60 + 1514 + 128);
    expect(kern.ledger.count("skb")).toBe(255);
    // 3 buffers used and given back: next_to_use moves from 255 to 2, RDT = last filled = 1.
    expect(kern.device.reg(R.E1000_RDT)).toBe(1);
    expect(kern.device.reg(R.E1000_IMS)).toBe(R.IMS_ENABLE_MASK); // re-enabled after the poll
    unloadClean(kern, drv);
  });

  it("polls at most the budget per call and keeps polling while work remains", () => {
    const { kern, drv } = up();
    for (let i = 0; i < 200; i++) expect(kern.device.receive(frame(100, i))).toBe(true);
    const napi = kern.netdev + NetDevice.PRIV + Adapter.napi;
    // call the poll directly once: a full budget means "not done"
    expect(kern.callEntry("e1000_clean", napi, NAPI_POLL_WEIGHT)).toBe(NAPI_POLL_WEIGHT);
    expect(kern.received).toHaveLength(64);
    kern.run();
    expect(kern.received).toHaveLength(200);
    for (let i = 0; i < 200; i++) expect(kern.received[i][14]).toBe((i + 14) & 0xff);
    unloadClean(kern, drv);
  });

  it("keeps receiving across many ring wraps without leaking", () => {
    const { kern, drv } = up();
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 100; i++) expect(kern.device.receive(frame(64 + i, round * 100 + i))).toBe(true);
      kern.run();
    }
    expect(kern.received).toHaveLength(1000);
    expect(kern.ledger.count("skb")).toBe(255);
    expect(kern.ledger.count("dma-map")).toBe(255);
    unloadClean(kern, drv);
  });

  it("drops errored frames and frames spanning buffers, recycling their buffers", () => {
    const { kern, drv } = up();
    kern.device.receive(frame(100, 1), { errors: R.E1000_RXD_ERR_CE });
    kern.device.receive(frame(100, 2), { noEop: true });
    kern.device.receive(frame(100, 3)); // the EOP buffer of the spanning frame: dropped too
    kern.device.receive(frame(100, 4), { length: 2 }); // shorter than a header
    kern.device.receive(frame(100, 5));
    kern.run();
    expect(kern.received).toHaveLength(1);
    expect(kern.received[0][14]).toBe((5 + 14) & 0xff);
    expect(kern.stat(NetDeviceStats.rxDropped)).toBe(4);
    expect(kern.ledger.count("skb")).toBe(255);
    unloadClean(kern, drv);
  });

  it("answers IRQ_NONE to an interrupt that is not its own", () => {
    const { kern, drv } = up();
    expect(kern.callEntry("e1000_intr", IRQ, kern.netdev)).toBe(IRQ_NONE);
    unloadClean(kern, drv);
  });
});

describe("rx mode, MAC address, reset task", () => {
  it("sets UPE and MPE in promiscuous mode and clears them again", () => {
    const { kern, drv } = up();
    kern.setFlags(IFF_PROMISC | 1);
    expect(kern.device.reg(R.E1000_RCTL) & (R.E1000_RCTL_UPE | R.E1000_RCTL_MPE)).toBe(
      R.E1000_RCTL_UPE | R.E1000_RCTL_MPE,
    );
    kern.setFlags(1);
    expect(kern.device.reg(R.E1000_RCTL) & (R.E1000_RCTL_UPE | R.E1000_RCTL_MPE)).toBe(0);
    unloadClean(kern, drv);
  });

  it("changes the MAC address and RAR[0], and refuses a multicast address", () => {
    const { kern, drv } = up();
    expect(kern.setMac([0x02, 0x11, 0x22, 0x33, 0x44, 0x55])).toBe(0);
    expect(kern.device.reg(R.E1000_RAL(0))).toBe(0x33221102);
    expect(kern.device.reg(R.E1000_RAH(0))).toBe((0x5544 | R.E1000_RAH_AV) >>> 0);
    expect(kern.setMac([0x01, 0, 0, 0, 0, 1])).toBe(-EADDRNOTAVAIL);
    expect(kern.device.reg(R.E1000_RAL(0))).toBe(0x33221102);
    unloadClean(kern, drv);
  });

  it("a TX timeout schedules the reset task, which reinitialises the open interface", () => {
    const { kern, drv } = up();
    const ops = kern.loadPtr(kern.netdev + NetDevice.netdevOps);
    const resetsBefore = kern.device.resets;
    kern.callPtr(kern.loadPtr(ops + NetDeviceOps.ndoTxTimeout), kern.netdev);
    kern.run();
    expect(kern.device.resets).toBe(resetsBefore + 1);
    expect(kern.log.some((l) => l.includes("Reset adapter"))).toBe(true);
    kern.run();
    kern.tick(1);
    expect(kern.state(NETDEV_STATE_CARRIER_OK)).toBe(true);
    expect(kern.transmit(frame(100, 1))).toBe(NETDEV_TX_OK);
    kern.device.receive(frame(100, 2));
    kern.run();
    expect(kern.received).toHaveLength(1);
    expect(kern.ledger.count("skb")).toBe(255);
    unloadClean(kern, drv);
  });

  it("keeps its state in memory: a poll finds the adapter from the napi pointer alone", () => {
    const { kern, drv } = up();
    const irqOfDevice = kern.load32(kern.pdev + PciDev.irq);
    expect(kern.load32(kern.netdev + NetDevice.irq)).toBe(irqOfDevice);
    const adapter = kern.netdev + NetDevice.PRIV;
    expect(kern.loadPtr(adapter + Adapter.netdev)).toBe(kern.netdev);
    expect(kern.loadPtr(adapter + Adapter.pdev)).toBe(kern.pdev);
    unloadClean(kern, drv);
  });

  it("a fresh instance of the module takes over mid-run: all state is in memory", async () => {
    const { kern, drv } = up();
    expect(kern.transmit(frame(100, 1))).toBe(NETDEV_TX_OK);
    kern.device.receive(frame(100, 2));
    vi.resetModules();
    const fresh = (await import("../src/driver.js")).e1000Driver;
    expect(fresh).not.toBe(e1000Driver);
    expect(fresh.entryPoints.e1000_clean).not.toBe(e1000Driver.entryPoints.e1000_clean);
    kern.module = fresh; // every later call through a code address runs the new instance
    kern.run();
    expect(kern.received).toHaveLength(1);
    expect(kern.stat(NetDeviceStats.txPackets)).toBe(1);
    expect(kern.transmit(frame(100, 3))).toBe(NETDEV_TX_OK);
    kern.tick(E1000_WATCHDOG_INTERVAL);
    expect(kern.device.sent).toHaveLength(2);
    expect(kern.state(NETDEV_STATE_CARRIER_OK)).toBe(true);
    unloadClean(kern, drv);
  });
});
