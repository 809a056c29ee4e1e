/**
 * The driver's entry points (Linux's e1000_main.c, as of the 2013-era driver SIDE ran: a
 * watchdog timer, not delayed work). Each function is reached by the kernel through a code
 * address the driver stored in memory (`k.fn(name)`); each finds its state from its arguments
 * (container_of on the napi, timer and work pointers; netdev_priv on the net_device), so a
 * fresh instance of the module can take over at any call.
 */
import {
  CHECKSUM_UNNECESSARY,
  DMA_BIT_MASK,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  EINVAL,
  EIO,
  ENOMEM,
  ETH_ALEN,
  ETH_FCS_LEN,
  ETH_HLEN,
  GFP_KERNEL,
  IFF_ALLMULTI,
  IFF_PROMISC,
  IORESOURCE_IO,
  IORESOURCE_MEM,
  IRQ_HANDLED,
  IRQ_NONE,
  IRQF_SHARED,
  type KernelApi,
  NAPI_POLL_WEIGHT,
  NET_IP_ALIGN,
  NETDEV_TX_BUSY,
  NETDEV_TX_OK,
  NetDevice,
  NetDeviceOps,
  NetDeviceStats,
  PCI_ANY_ID,
  PCI_NUM_RESOURCES,
  PciDev,
  PciDeviceId,
  PciDriver,
  type Ptr,
  SkBuff,
} from "@side-kernel/kservice";
import { descUnused, itrRegister, ringBytes } from "./helpers.js";
import {
  e1000Reset,
  eepromSum,
  er32,
  ew32,
  initEepromParams,
  irqDisable,
  irqEnable,
  rarSet,
  readMacAddr,
  resetHw,
  updateStats,
  writeFlush,
} from "./hw.js";
import {
  Adapter,
  BufferInfo,
  E1000_FLAG_DISCARDING,
  E1000_FLAG_DOWN,
  E1000_FLAG_UP,
  ModuleData,
  Ring,
} from "./layout.js";
import {
  DEFAULT_ITR,
  DEFAULT_RADV,
  DEFAULT_RDTR,
  DEFAULT_TADV,
  DEFAULT_TIDV,
  E1000_DEFAULT_RXD,
  E1000_DEFAULT_TXD,
  E1000_DMA_MASK_BITS,
  E1000_DRIVER_NAME,
  E1000_MAX_DATA_PER_TXD,
  E1000_QUIESCE_MS,
  E1000_RING_ALIGN,
  E1000_RX_BUFFER_WRITE,
  E1000_TX_TIMEOUT,
  E1000_WATCHDOG_INTERVAL,
  E1000_WATCHDOG_KICK,
  EADDRNOTAVAIL,
  LOW_32_BITS,
  MAXIMUM_ETHERNET_VLAN_SIZE,
  TX_BUSY_THRESHOLD,
  TX_STOP_THRESHOLD,
  TX_WAKE_THRESHOLD,
} from "./limits.js";
import * as R from "./regs.js";

/** One entry of the driver's PCI id table. */
export interface E1000DeviceId {
  readonly vendor: number;
  readonly device: number;
  readonly name: string;
}

/** Intel's PCI vendor ID. */
export const PCI_VENDOR_ID_INTEL = 0x8086;

/**
 * The devices this driver binds (a subset of Linux's e1000_pci_tbl: the 82540 family, which
 * QEMU's `-device e1000` is, and the 82545EM copper part, which resets and reads its EEPROM the
 * same way). Each entry matches any subsystem.
 */
export const E1000_ID_TABLE: readonly E1000DeviceId[] = [
  { vendor: PCI_VENDOR_ID_INTEL, device: 0x100e, name: "82540EM" },
  { vendor: PCI_VENDOR_ID_INTEL, device: 0x1015, name: "82540EM_LOM" },
  { vendor: PCI_VENDOR_ID_INTEL, device: 0x1016, name: "82540EP_LOM" },
  { vendor: PCI_VENDOR_ID_INTEL, device: 0x1017, name: "82540EP" },
  { vendor: PCI_VENDOR_ID_INTEL, device: 0x101e, name: "82540EP_LP" },
  { vendor: PCI_VENDOR_ID_INTEL, device: 0x100f, name: "82545EM_COPPER" },
];

/** Bytes of the module's static data block: pci_driver, name and id table with its zero entry. */
export const MODULE_DATA_SIZE = ModuleData.idTable + (E1000_ID_TABLE.length + 1) * PciDeviceId.SIZE;

/** BAR 0: the memory-mapped registers. */
const BAR_0 = 0;
/** The I/O BAR is searched from BAR 1 on (e1000_probe). */
const BAR_1 = 1;

// ---------------------------------------------------------------------------------------------
// small helpers
// ---------------------------------------------------------------------------------------------

/** Write a NUL-terminated ASCII string of at most max-1 characters. */
function writeCString(k: KernelApi, addr: Ptr, s: string, max: number): void {
  const n = Math.min(s.length, max - 1);
  for (let i = 0; i < n; i++) k.store8(addr + i, s.charCodeAt(i) & 0x7f);
  k.store8(addr + n, 0);
}

/** Read a NUL-terminated string of at most `max` bytes. */
function readCString(k: KernelApi, addr: Ptr, max: number): string {
  let s = "";
  for (let i = 0; i < max; i++) {
    const c = k.load8(addr + i);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** The interface name for logs and request_irq ("e1000" before register_netdev names it). */
function netdevName(k: KernelApi, netdev: Ptr): string {
  return readCString(k, netdev + NetDevice.name, NetDevice.NAME_SIZE) || E1000_DRIVER_NAME;
}

/** MAC address as aa:bb:cc:dd:ee:ff. */
function macString(k: KernelApi, addr: Ptr): string {
  const parts: string[] = [];
  for (let i = 0; i < ETH_ALEN; i++)
    parts.push(
      k
        .load8(addr + i)
        .toString(16)
        .padStart(2, "0"),
    );
  return parts.join(":");
}

/** Add `n` to a u64 counter of the net_device statistics. */
function statAdd(k: KernelApi, netdev: Ptr, field: number, n: number): void {
  const at = netdev + NetDevice.stats + field;
  k.store64(at, k.load64(at) + n);
}

function setFlag(k: KernelApi, adapter: Ptr, bit: number): void {
  k.store32(adapter + Adapter.flags, k.load32(adapter + Adapter.flags) | bit);
}

function clearFlag(k: KernelApi, adapter: Ptr, bit: number): void {
  k.store32(adapter + Adapter.flags, k.load32(adapter + Adapter.flags) & ~bit);
}

// ---------------------------------------------------------------------------------------------
// module init / exit
// ---------------------------------------------------------------------------------------------

/**
 * module_init (e1000_init_module): build the pci_driver (name, id table, probe, remove) in one
 * kzalloc block and register it. Returns 0, -ENOMEM, or pci_register_driver's -errno (the
 * block is freed on failure).
 */
export function e1000_init_module(k: KernelApi): number {
  const data = k.kzalloc(MODULE_DATA_SIZE, GFP_KERNEL);
  if (!data) return -ENOMEM;
  const drv = data + ModuleData.pciDriver;
  writeCString(k, data + ModuleData.name, E1000_DRIVER_NAME, ModuleData.NAME_SIZE);
  const table = data + ModuleData.idTable;
  for (let i = 0; i < E1000_ID_TABLE.length; i++) {
    const e = table + i * PciDeviceId.SIZE;
    k.store32(e + PciDeviceId.vendor, E1000_ID_TABLE[i].vendor);
    k.store32(e + PciDeviceId.device, E1000_ID_TABLE[i].device);
    k.store32(e + PciDeviceId.subvendor, PCI_ANY_ID);
    k.store32(e + PciDeviceId.subdevice, PCI_ANY_ID);
  }
  k.storePtr(drv + PciDriver.name, data + ModuleData.name);
  k.storePtr(drv + PciDriver.idTable, table);
  k.storePtr(drv + PciDriver.probe, k.fn("e1000_probe"));
  k.storePtr(drv + PciDriver.remove, k.fn("e1000_remove"));
  const err = k.pci_register_driver(drv);
  if (err) {
    k.kfree(data);
    return err;
  }
  k.printk("Intel(R) PRO/1000 Network Driver (side-kernel)");
  return 0;
}

/**
 * module_exit (e1000_exit_module): unregister the pci_driver (which removes every bound
 * device) and free the block init made. The kernel passes the pci_driver pointer that init
 * registered: a module has no data section in this kernel, so exit cannot find it otherwise.
 * Returns 0, or -EINVAL (and does nothing) without that pointer.
 */
export function e1000_exit_module(k: KernelApi, drv?: number): number {
  if (typeof drv !== "number" || drv === 0) {
    k.printk("module exit without the pci_driver pointer: nothing unregistered");
    return -EINVAL;
  }
  k.pci_unregister_driver(drv);
  k.kfree(drv);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// probe / remove
// ---------------------------------------------------------------------------------------------

/** Build the net_device_ops (inside the adapter) and point the net_device at it. */
function setupNetdevOps(k: KernelApi, netdev: Ptr, adapter: Ptr): void {
  const ops = adapter + Adapter.netdevOps;
  k.storePtr(ops + NetDeviceOps.ndoOpen, k.fn("e1000_open"));
  k.storePtr(ops + NetDeviceOps.ndoStop, k.fn("e1000_close"));
  k.storePtr(ops + NetDeviceOps.ndoStartXmit, k.fn("e1000_xmit_frame"));
  k.storePtr(ops + NetDeviceOps.ndoSetRxMode, k.fn("e1000_set_rx_mode"));
  k.storePtr(ops + NetDeviceOps.ndoSetMacAddress, k.fn("e1000_set_mac"));
  k.storePtr(ops + NetDeviceOps.ndoTxTimeout, k.fn("e1000_tx_timeout"));
  k.storePtr(netdev + NetDevice.netdevOps, ops);
}

/** e1000_sw_init: software defaults of the adapter. */
function swInit(k: KernelApi, adapter: Ptr): void {
  k.store32(adapter + Adapter.flags, E1000_FLAG_DOWN);
  k.store32(adapter + Adapter.txIntDelay, DEFAULT_TIDV);
  k.store32(adapter + Adapter.txAbsIntDelay, DEFAULT_TADV);
  k.store32(adapter + Adapter.rxIntDelay, DEFAULT_RDTR);
  k.store32(adapter + Adapter.rxAbsIntDelay, DEFAULT_RADV);
  k.store32(adapter + Adapter.itr, DEFAULT_ITR);
  k.store32(adapter + Adapter.rxBufferLen, MAXIMUM_ETHERNET_VLAN_SIZE);
}

/**
 * pci_driver.probe (e1000_probe): enable the device, claim its BARs, map the registers, find
 * the I/O port, allocate the net_device and ring structs, reset the MAC, check the EEPROM and
 * read the MAC address, initialise the hardware, register NAPI, the watchdog timer, the reset
 * work and the interface. Returns 0, or -errno with everything it acquired released in
 * reverse order (-EIO for a bad EEPROM checksum or MAC address, -ENOMEM, or a service's error).
 */
export function e1000_probe(k: KernelApi, pdev: Ptr, _ent?: number): number {
  let err = k.pci_enable_device(pdev);
  if (err) return err;
  // The 82540 needs its I/O BAR for the reset (e1000_is_need_ioport): claim memory and I/O BARs.
  const bars = k.pci_select_bars(pdev, IORESOURCE_MEM | IORESOURCE_IO);
  err = k.pci_request_selected_regions(pdev, bars, E1000_DRIVER_NAME);
  if (err) return probeUnwind(k, pdev, err, 0, bars, 0, 0);
  k.pci_set_master(pdev);

  const hwAddr = k.pci_ioremap_bar(pdev, BAR_0);
  if (!hwAddr) {
    k.dev_err(pdev, "cannot map BAR 0 (the register window)");
    return probeUnwind(k, pdev, -EIO, 1, bars, 0, 0);
  }
  let ioBase = 0;
  for (let i = BAR_1; i < PCI_NUM_RESOURCES; i++) {
    if (k.pci_resource_len(pdev, i) === 0) continue;
    if (k.pci_resource_flags(pdev, i) & IORESOURCE_IO) {
      ioBase = k.pci_resource_start(pdev, i);
      break;
    }
  }
  err = k.dma_set_mask_and_coherent(pdev, DMA_BIT_MASK(E1000_DMA_MASK_BITS));
  if (err) {
    k.dev_err(pdev, "No usable DMA configuration, aborting");
    return probeUnwind(k, pdev, err, 2, bars, hwAddr, 0);
  }

  const netdev = k.alloc_etherdev(Adapter.SIZE);
  if (!netdev) return probeUnwind(k, pdev, -ENOMEM, 2, bars, hwAddr, 0);
  k.storePtr(netdev + NetDevice.parent, pdev); // SET_NETDEV_DEV
  k.store32(netdev + NetDevice.irq, k.load32(pdev + PciDev.irq));
  k.store32(netdev + NetDevice.watchdogTimeo, E1000_TX_TIMEOUT);
  k.pci_set_drvdata(pdev, netdev);
  const adapter = k.netdev_priv(netdev);
  k.storePtr(adapter + Adapter.netdev, netdev);
  k.storePtr(adapter + Adapter.pdev, pdev);
  k.storePtr(adapter + Adapter.hwAddr, hwAddr);
  k.store32(adapter + Adapter.ioBase, ioBase);
  k.store32(adapter + Adapter.bars, bars);
  setupNetdevOps(k, netdev, adapter);
  swInit(k, adapter);

  // e1000_alloc_queues
  const txRing = k.kzalloc(Ring.SIZE, GFP_KERNEL);
  if (!txRing) return probeUnwind(k, pdev, -ENOMEM, 3, bars, hwAddr, netdev);
  k.storePtr(adapter + Adapter.txRing, txRing);
  const rxRing = k.kzalloc(Ring.SIZE, GFP_KERNEL);
  if (!rxRing) return probeUnwind(k, pdev, -ENOMEM, 4, bars, hwAddr, netdev);
  k.storePtr(adapter + Adapter.rxRing, rxRing);
  k.spin_lock_init(adapter + Adapter.statsLock);

  irqDisable(k, adapter);
  initEepromParams(k, adapter);
  // Put the MAC in a known state before reading the EEPROM.
  err = resetHw(k, adapter);
  if (err) {
    k.dev_err(pdev, "reset did not complete (CTRL.RST still set)");
    return probeUnwind(k, pdev, err, 4, bars, hwAddr, netdev);
  }
  const sum = eepromSum(k, adapter);
  if (sum < 0) {
    k.dev_err(pdev, "EEPROM read failed (no grant from the EEPROM)");
    return probeUnwind(k, pdev, -EIO, 4, bars, hwAddr, netdev);
  }
  if (sum !== R.EEPROM_SUM) {
    k.dev_err(
      pdev,
      `The EEPROM Checksum Is Not Valid (sum 0x${sum.toString(16)}, expected 0x${R.EEPROM_SUM.toString(16)})`,
    );
    return probeUnwind(k, pdev, -EIO, 4, bars, hwAddr, netdev);
  }
  if (readMacAddr(k, adapter) < 0) {
    k.dev_err(pdev, "EEPROM Read Error (MAC address)");
    return probeUnwind(k, pdev, -EIO, 4, bars, hwAddr, netdev);
  }
  if (!k.is_valid_ether_addr(netdev + NetDevice.devAddr)) {
    k.dev_err(pdev, `Invalid MAC Address ${macString(k, netdev + NetDevice.devAddr)}`);
    return probeUnwind(k, pdev, -EIO, 4, bars, hwAddr, netdev);
  }

  e1000Reset(k, adapter); // a PHY error is logged, not fatal (Linux's "Hardware Error")

  k.netif_napi_add(netdev, adapter + Adapter.napi, k.fn("e1000_clean"), NAPI_POLL_WEIGHT);
  k.timer_setup(adapter + Adapter.watchdogTimer, k.fn("e1000_watchdog"), 0);
  k.INIT_WORK(adapter + Adapter.resetTask, k.fn("e1000_reset_task"));
  // Tell the stack to leave us alone until e1000_open() is called.
  k.netif_carrier_off(netdev);
  k.netif_stop_queue(netdev);

  err = k.register_netdev(netdev);
  if (err) {
    k.netif_napi_del(adapter + Adapter.napi);
    return probeUnwind(k, pdev, err, 4, bars, hwAddr, netdev);
  }
  k.netdev_info(
    netdev,
    `(PCI) ${macString(k, netdev + NetDevice.devAddr)} Intel(R) PRO/1000 Network Connection`,
  );
  return 0;
}

/**
 * The error ladder of e1000_probe. `stage` says how far probe got: 0 = device enabled,
 * 1 = regions held, 2 = BAR 0 mapped, 3 = net_device allocated, 4 = ring structs allocated
 * (each freed only if non-NULL). Releases everything at or below `stage`; returns `err`.
 */
function probeUnwind(
  k: KernelApi,
  pdev: Ptr,
  err: number,
  stage: number,
  bars: number,
  hwAddr: Ptr,
  netdev: Ptr,
): number {
  if (stage >= 4) {
    const adapter = k.netdev_priv(netdev);
    k.kfree(k.loadPtr(adapter + Adapter.rxRing));
    k.kfree(k.loadPtr(adapter + Adapter.txRing));
  }
  if (stage >= 3) {
    k.pci_set_drvdata(pdev, 0);
    k.free_netdev(netdev);
  }
  if (stage >= 2) k.iounmap(hwAddr);
  if (stage >= 1) k.pci_release_selected_regions(pdev, bars);
  k.pci_disable_device(pdev);
  return err;
}

/**
 * pci_driver.remove (e1000_remove): stop the reset work, unregister the interface (which
 * closes it if up), delete NAPI, free the ring structs, unmap BAR 0, release the BARs, free
 * the net_device and disable the device. Returns 0 (-EINVAL if the device has no driver data).
 */
export function e1000_remove(k: KernelApi, pdev: Ptr): number {
  const netdev = k.pci_get_drvdata(pdev);
  if (!netdev) return -EINVAL;
  const adapter = k.netdev_priv(netdev);
  setFlag(k, adapter, E1000_FLAG_DOWN);
  k.cancel_work_sync(adapter + Adapter.resetTask);
  k.unregister_netdev(netdev);
  k.netif_napi_del(adapter + Adapter.napi);
  const hwAddr = k.loadPtr(adapter + Adapter.hwAddr);
  const bars = k.load32(adapter + Adapter.bars);
  k.kfree(k.loadPtr(adapter + Adapter.txRing));
  k.kfree(k.loadPtr(adapter + Adapter.rxRing));
  k.iounmap(hwAddr);
  k.pci_release_selected_regions(pdev, bars);
  k.pci_set_drvdata(pdev, 0);
  k.free_netdev(netdev);
  k.pci_disable_device(pdev);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// ring resources
// ---------------------------------------------------------------------------------------------

/**
 * e1000_setup_{tx,rx}_resources: buffer_info array (vzalloc) and descriptor memory
 * (dma_alloc_coherent, 4 KiB-rounded; its bus address goes straight into ring->dma).
 * Returns 0 or -ENOMEM (nothing held).
 */
function setupRingResources(k: KernelApi, adapter: Ptr, ring: Ptr, count: number): number {
  const pdev = k.loadPtr(adapter + Adapter.pdev);
  const bi = k.vzalloc(count * BufferInfo.SIZE);
  if (!bi) return -ENOMEM;
  const size = ringBytes(count, E1000_RING_ALIGN);
  const desc = k.dma_alloc_coherent(pdev, size, ring + Ring.dma, GFP_KERNEL);
  if (!desc) {
    k.vfree(bi);
    return -ENOMEM;
  }
  k.memset(desc, 0, size);
  k.storePtr(ring + Ring.desc, desc);
  k.store32(ring + Ring.size, size);
  k.store32(ring + Ring.count, count);
  k.store32(ring + Ring.nextToUse, 0);
  k.store32(ring + Ring.nextToClean, 0);
  k.storePtr(ring + Ring.bufferInfo, bi);
  return 0;
}

/** Free what setupRingResources allocated (after the ring was cleaned). */
function freeRingResources(k: KernelApi, adapter: Ptr, ring: Ptr): void {
  const pdev = k.loadPtr(adapter + Adapter.pdev);
  const desc = k.loadPtr(ring + Ring.desc);
  if (desc) k.dma_free_coherent(pdev, k.load32(ring + Ring.size), desc, k.load64(ring + Ring.dma));
  k.vfree(k.loadPtr(ring + Ring.bufferInfo));
  k.storePtr(ring + Ring.desc, 0);
  k.storePtr(ring + Ring.bufferInfo, 0);
}

/**
 * e1000_clean_tx_ring / e1000_clean_rx_ring: unmap and free every buffer, zero the
 * descriptors, reset the indices and the hardware head and tail.
 */
function cleanRing(k: KernelApi, adapter: Ptr, ring: Ptr, dir: number): void {
  const pdev = k.loadPtr(adapter + Adapter.pdev);
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const bi = k.loadPtr(ring + Ring.bufferInfo);
  const desc = k.loadPtr(ring + Ring.desc);
  if (!bi || !desc) return;
  const count = k.load32(ring + Ring.count);
  for (let i = 0; i < count; i++) {
    const b = bi + i * BufferInfo.SIZE;
    const dma = k.load64(b + BufferInfo.dma);
    if (dma) k.dma_unmap_single(pdev, dma, k.load32(b + BufferInfo.length), dir);
    const skb = k.loadPtr(b + BufferInfo.skb);
    if (skb) k.dev_kfree_skb_any(skb);
  }
  k.memset(bi, 0, count * BufferInfo.SIZE);
  k.memset(desc, 0, k.load32(ring + Ring.size));
  k.store32(ring + Ring.nextToUse, 0);
  k.store32(ring + Ring.nextToClean, 0);
  ew32(k, hw, k.load32(ring + Ring.head), 0);
  ew32(k, hw, k.load32(ring + Ring.tail), 0);
}

// ---------------------------------------------------------------------------------------------
// configure (e1000_configure_tx, e1000_setup_rctl, e1000_configure_rx)
// ---------------------------------------------------------------------------------------------

/**
 * Give the device a descriptor ring: its length, bus address (high then low half), tail and
 * head reset to 0; and remember in the ring which head/tail registers it uses.
 */
function programRing(
  k: KernelApi,
  hw: Ptr,
  ring: Ptr,
  len: number,
  bah: number,
  bal: number,
  head: number,
  tail: number,
): void {
  const dma = k.load64(ring + Ring.dma);
  ew32(k, hw, len, k.load32(ring + Ring.count) * R.E1000_DESC_SIZE);
  ew32(k, hw, bah, Math.floor(dma / LOW_32_BITS));
  ew32(k, hw, bal, dma % LOW_32_BITS);
  ew32(k, hw, tail, 0);
  ew32(k, hw, head, 0);
  k.store32(ring + Ring.head, head);
  k.store32(ring + Ring.tail, tail);
}

function configureTx(k: KernelApi, adapter: Ptr): void {
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const ring = k.loadPtr(adapter + Adapter.txRing);
  programRing(k, hw, ring, R.E1000_TDLEN, R.E1000_TDBAH, R.E1000_TDBAL, R.E1000_TDH, R.E1000_TDT);
  ew32(
    k,
    hw,
    R.E1000_TIPG,
    R.DEFAULT_82543_TIPG_IPGT_COPPER |
      (R.DEFAULT_82543_TIPG_IPGR1 << R.E1000_TIPG_IPGR1_SHIFT) |
      (R.DEFAULT_82543_TIPG_IPGR2 << R.E1000_TIPG_IPGR2_SHIFT),
  );
  const tidv = k.load32(adapter + Adapter.txIntDelay);
  ew32(k, hw, R.E1000_TIDV, tidv);
  ew32(k, hw, R.E1000_TADV, k.load32(adapter + Adapter.txAbsIntDelay));
  // TCTL: pad short packets, retransmit on late collision, collision threshold and distance;
  // EN stays clear until the watchdog sees link up.
  let tctl = er32(k, hw, R.E1000_TCTL) & ~(R.E1000_TCTL_CT | R.E1000_TCTL_COLD);
  tctl |= R.E1000_TCTL_PSP | R.E1000_TCTL_RTLC | (R.E1000_COLLISION_THRESHOLD << R.E1000_CT_SHIFT);
  tctl |= R.E1000_COLLISION_DISTANCE << R.E1000_COLD_SHIFT;
  ew32(k, hw, R.E1000_TCTL, tctl);
  let cmd = R.E1000_TXD_CMD_EOP | R.E1000_TXD_CMD_IFCS | R.E1000_TXD_CMD_RS;
  if (tidv) cmd |= R.E1000_TXD_CMD_IDE;
  k.store32(adapter + Adapter.txdCmd, cmd >>> 0);
}

function setupRctl(k: KernelApi, adapter: Ptr): void {
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  let rctl = er32(k, hw, R.E1000_RCTL) & ~R.E1000_RCTL_MO_MASK;
  rctl |= R.E1000_RCTL_BAM | R.E1000_RCTL_LBM_NO | R.E1000_RCTL_RDMTS_HALF;
  rctl &= ~(R.E1000_RCTL_SBP | R.E1000_RCTL_LPE | R.E1000_RCTL_SECRC);
  // 2048-byte buffers: BSIZE 00 with BSEX clear.
  rctl &= ~(R.E1000_RCTL_SZ_MASK | R.E1000_RCTL_BSEX);
  rctl |= R.E1000_RCTL_SZ_2048;
  ew32(k, hw, R.E1000_RCTL, rctl);
}

function configureRx(k: KernelApi, adapter: Ptr): void {
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const ring = k.loadPtr(adapter + Adapter.rxRing);
  const rctl = er32(k, hw, R.E1000_RCTL);
  ew32(k, hw, R.E1000_RCTL, rctl & ~R.E1000_RCTL_EN);
  ew32(k, hw, R.E1000_RDTR, k.load32(adapter + Adapter.rxIntDelay));
  ew32(k, hw, R.E1000_RADV, k.load32(adapter + Adapter.rxAbsIntDelay));
  const itr = k.load32(adapter + Adapter.itr);
  if (itr) ew32(k, hw, R.E1000_ITR, itrRegister(itr));
  programRing(k, hw, ring, R.E1000_RDLEN, R.E1000_RDBAH, R.E1000_RDBAL, R.E1000_RDH, R.E1000_RDT);
  ew32(k, hw, R.E1000_RXCSUM, er32(k, hw, R.E1000_RXCSUM) | R.E1000_RXCSUM_TUOFL);
  ew32(k, hw, R.E1000_RCTL, rctl | R.E1000_RCTL_EN);
}

/**
 * e1000_alloc_rx_buffers: give up to `cleanedCount` buffers to the hardware from next_to_use
 * on (reusing an skb a dropped frame left in place), then write RDT = the last filled index.
 */
function allocRxBuffers(k: KernelApi, adapter: Ptr, cleanedCount: number): void {
  const netdev = k.loadPtr(adapter + Adapter.netdev);
  const pdev = k.loadPtr(adapter + Adapter.pdev);
  const ring = k.loadPtr(adapter + Adapter.rxRing);
  const bi = k.loadPtr(ring + Ring.bufferInfo);
  const desc = k.loadPtr(ring + Ring.desc);
  const count = k.load32(ring + Ring.count);
  const bufLen = k.load32(adapter + Adapter.rxBufferLen);
  const start = k.load32(ring + Ring.nextToUse);
  let i = start;
  while (cleanedCount-- > 0) {
    const b = bi + i * BufferInfo.SIZE;
    let skb = k.loadPtr(b + BufferInfo.skb);
    if (skb) {
      k.skb_trim(skb, 0);
    } else {
      skb = k.netdev_alloc_skb(netdev, bufLen + NET_IP_ALIGN);
      if (!skb) {
        k.store32(adapter + Adapter.allocRxBuffFailed, k.load32(adapter + Adapter.allocRxBuffFailed) + 1);
        break;
      }
      k.skb_reserve(skb, NET_IP_ALIGN);
      k.storePtr(b + BufferInfo.skb, skb);
      k.store32(b + BufferInfo.length, bufLen);
    }
    const dma = k.dma_map_single(pdev, k.loadPtr(skb + SkBuff.data), bufLen, DMA_FROM_DEVICE);
    if (k.dma_mapping_error(pdev, dma)) {
      k.dev_kfree_skb_any(skb);
      k.storePtr(b + BufferInfo.skb, 0);
      k.store64(b + BufferInfo.dma, 0);
      k.store32(adapter + Adapter.allocRxBuffFailed, k.load32(adapter + Adapter.allocRxBuffFailed) + 1);
      break;
    }
    k.store64(b + BufferInfo.dma, dma);
    k.store64(desc + i * R.E1000_DESC_SIZE + R.RXD_ADDR, dma);
    if (++i === count) i = 0;
  }
  if (i !== start) {
    k.store32(ring + Ring.nextToUse, i);
    const tail = i === 0 ? count - 1 : i - 1;
    k.writel(tail, k.loadPtr(adapter + Adapter.hwAddr) + k.load32(ring + Ring.tail));
  }
}

/** e1000_configure: rx mode, TX, RCTL, RX, then fill the RX ring. */
function configure(k: KernelApi, adapter: Ptr): void {
  const netdev = k.loadPtr(adapter + Adapter.netdev);
  e1000_set_rx_mode(k, netdev);
  configureTx(k, adapter);
  setupRctl(k, adapter);
  configureRx(k, adapter);
  const ring = k.loadPtr(adapter + Adapter.rxRing);
  allocRxBuffers(
    k,
    adapter,
    descUnused(
      k.load32(ring + Ring.nextToClean),
      k.load32(ring + Ring.nextToUse),
      k.load32(ring + Ring.count),
    ),
  );
}

/** The second half of open and of a reinit: unmask, start the queue, kick the watchdog. */
function up(k: KernelApi, adapter: Ptr): void {
  const netdev = k.loadPtr(adapter + Adapter.netdev);
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  clearFlag(k, adapter, E1000_FLAG_DOWN);
  k.napi_enable(adapter + Adapter.napi);
  irqEnable(k, hw);
  k.netif_start_queue(netdev);
  // Fire a link status change interrupt to start the watchdog.
  ew32(k, hw, R.E1000_ICS, R.E1000_ICS_LSC);
  k.mod_timer(adapter + Adapter.watchdogTimer, k.jiffies() + E1000_WATCHDOG_KICK);
}

/**
 * e1000_down: stop RX and TX in the hardware and the stack, disable NAPI and interrupts,
 * stop the watchdog, reset the MAC and free every buffer on the rings (descriptor memory stays).
 */
function down(k: KernelApi, adapter: Ptr): void {
  const netdev = k.loadPtr(adapter + Adapter.netdev);
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  setFlag(k, adapter, E1000_FLAG_DOWN);
  ew32(k, hw, R.E1000_RCTL, er32(k, hw, R.E1000_RCTL) & ~R.E1000_RCTL_EN);
  k.netif_stop_queue(netdev);
  ew32(k, hw, R.E1000_TCTL, er32(k, hw, R.E1000_TCTL) & ~R.E1000_TCTL_EN);
  writeFlush(k, hw);
  k.msleep(E1000_QUIESCE_MS);
  k.netif_carrier_off(netdev);
  k.napi_disable(adapter + Adapter.napi);
  irqDisable(k, adapter);
  k.del_timer_sync(adapter + Adapter.watchdogTimer);
  k.store32(adapter + Adapter.linkSpeed, 0);
  k.store32(adapter + Adapter.linkDuplex, 0);
  e1000Reset(k, adapter);
  cleanRing(k, adapter, k.loadPtr(adapter + Adapter.txRing), DMA_TO_DEVICE);
  cleanRing(k, adapter, k.loadPtr(adapter + Adapter.rxRing), DMA_FROM_DEVICE);
  clearFlag(k, adapter, E1000_FLAG_DISCARDING);
}

// ---------------------------------------------------------------------------------------------
// net_device_ops
// ---------------------------------------------------------------------------------------------

/**
 * ndo_open (e1000_open): allocate the rings, configure the MAC, fill the RX ring, install the
 * shared interrupt handler, enable NAPI and interrupts, start the queue and kick the watchdog.
 * Returns 0, or -ENOMEM / request_irq's -errno with the rings freed and the MAC reset.
 */
export function e1000_open(k: KernelApi, netdev: Ptr): number {
  const adapter = k.netdev_priv(netdev);
  const pdev = k.loadPtr(adapter + Adapter.pdev);
  const txRing = k.loadPtr(adapter + Adapter.txRing);
  const rxRing = k.loadPtr(adapter + Adapter.rxRing);
  k.netif_carrier_off(netdev);
  let err = setupRingResources(k, adapter, txRing, E1000_DEFAULT_TXD);
  if (err) {
    k.netdev_err(netdev, "Unable to allocate memory for the Tx descriptor ring");
    e1000Reset(k, adapter);
    return err;
  }
  err = setupRingResources(k, adapter, rxRing, E1000_DEFAULT_RXD);
  if (err) {
    k.netdev_err(netdev, "Unable to allocate memory for the Rx descriptor ring");
    freeRingResources(k, adapter, txRing);
    e1000Reset(k, adapter);
    return err;
  }
  configure(k, adapter);
  err = k.request_irq(
    k.load32(pdev + PciDev.irq),
    k.fn("e1000_intr"),
    IRQF_SHARED,
    netdevName(k, netdev),
    netdev,
  );
  if (err) {
    k.netdev_err(netdev, `Unable to allocate interrupt, error ${err}`);
    cleanRing(k, adapter, rxRing, DMA_FROM_DEVICE);
    freeRingResources(k, adapter, rxRing);
    cleanRing(k, adapter, txRing, DMA_TO_DEVICE);
    freeRingResources(k, adapter, txRing);
    e1000Reset(k, adapter);
    return err;
  }
  setFlag(k, adapter, E1000_FLAG_UP);
  up(k, adapter);
  return 0;
}

/**
 * ndo_stop (e1000_close): e1000_down (RX/TX off, queue stopped, carrier off, NAPI and
 * interrupts off, watchdog stopped, MAC reset, rings cleaned), free the IRQ and the rings.
 * Returns 0; does nothing if the interface is not open.
 */
export function e1000_close(k: KernelApi, netdev: Ptr): number {
  const adapter = k.netdev_priv(netdev);
  if (!(k.load32(adapter + Adapter.flags) & E1000_FLAG_UP)) return 0;
  down(k, adapter);
  clearFlag(k, adapter, E1000_FLAG_UP);
  k.free_irq(k.load32(k.loadPtr(adapter + Adapter.pdev) + PciDev.irq), netdev);
  freeRingResources(k, adapter, k.loadPtr(adapter + Adapter.txRing));
  freeRingResources(k, adapter, k.loadPtr(adapter + Adapter.rxRing));
  return 0;
}

/**
 * ndo_start_xmit (e1000_xmit_frame): pad runts, map the frame, fill one legacy descriptor
 * (EOP | IFCS | RS, + IDE with a TX delay), account it to BQL and write TDT. Returns
 * NETDEV_TX_BUSY (queue stopped) with fewer than 2 free descriptors; otherwise NETDEV_TX_OK,
 * also when the frame was dropped (padding or mapping failure, or a frame over 4096 bytes).
 */
export function e1000_xmit_frame(k: KernelApi, skb: Ptr, netdev: Ptr): number {
  const adapter = k.netdev_priv(netdev);
  // The minimum packet size with TCTL.PSP set is 17 bytes, so pad in software (eth_skb_pad frees
  // the skb on failure).
  if (k.eth_skb_pad(skb)) return NETDEV_TX_OK;
  const ring = k.loadPtr(adapter + Adapter.txRing);
  const count = k.load32(ring + Ring.count);
  const ntu = k.load32(ring + Ring.nextToUse);
  const ntc = k.load32(ring + Ring.nextToClean);
  if (descUnused(ntc, ntu, count) < TX_BUSY_THRESHOLD) {
    k.netif_stop_queue(netdev);
    return NETDEV_TX_BUSY;
  }
  const len = k.load32(skb + SkBuff.len);
  if (len > E1000_MAX_DATA_PER_TXD) {
    k.dev_kfree_skb_any(skb);
    statAdd(k, netdev, NetDeviceStats.txDropped, 1);
    return NETDEV_TX_OK;
  }
  const pdev = k.loadPtr(adapter + Adapter.pdev);
  const dma = k.dma_map_single(pdev, k.loadPtr(skb + SkBuff.data), len, DMA_TO_DEVICE);
  if (k.dma_mapping_error(pdev, dma)) {
    k.dev_kfree_skb_any(skb);
    statAdd(k, netdev, NetDeviceStats.txDropped, 1);
    return NETDEV_TX_OK;
  }
  const b = k.loadPtr(ring + Ring.bufferInfo) + ntu * BufferInfo.SIZE;
  k.storePtr(b + BufferInfo.skb, skb);
  k.store64(b + BufferInfo.dma, dma);
  k.store32(b + BufferInfo.length, len);
  k.store32(b + BufferInfo.nextToWatch, ntu);
  const d = k.loadPtr(ring + Ring.desc) + ntu * R.E1000_DESC_SIZE;
  k.store64(d + R.TXD_ADDR, dma);
  k.store32(d + R.TXD_LOWER, (len | k.load32(adapter + Adapter.txdCmd)) >>> 0);
  k.store32(d + R.TXD_UPPER, 0);
  k.netdev_sent_queue(netdev, len);
  const next = ntu + 1 === count ? 0 : ntu + 1;
  k.store32(ring + Ring.nextToUse, next);
  k.writel(next, k.loadPtr(adapter + Adapter.hwAddr) + k.load32(ring + Ring.tail));
  if (descUnused(ntc, next, count) < TX_STOP_THRESHOLD) k.netif_stop_queue(netdev);
  return NETDEV_TX_OK;
}

/**
 * ndo_set_rx_mode (e1000_set_rx_mode): RCTL.UPE/MPE from IFF_PROMISC / IFF_ALLMULTI, RAR[0]
 * from dev_addr, the other receive addresses and the multicast table cleared (the kernel API
 * has no address lists). Returns 0.
 */
export function e1000_set_rx_mode(k: KernelApi, netdev: Ptr): number {
  const adapter = k.netdev_priv(netdev);
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const flags = k.load32(netdev + NetDevice.flags);
  let rctl = er32(k, hw, R.E1000_RCTL);
  if (flags & IFF_PROMISC) {
    rctl |= R.E1000_RCTL_UPE | R.E1000_RCTL_MPE;
    rctl &= ~R.E1000_RCTL_VFE;
  } else {
    if (flags & IFF_ALLMULTI) rctl |= R.E1000_RCTL_MPE;
    else rctl &= ~R.E1000_RCTL_MPE;
    rctl &= ~R.E1000_RCTL_UPE;
  }
  ew32(k, hw, R.E1000_RCTL, rctl);
  rarSet(k, hw, netdev + NetDevice.devAddr, 0);
  for (let i = 1; i < R.E1000_RAR_ENTRIES; i++) {
    ew32(k, hw, R.E1000_RAL(i), 0);
    ew32(k, hw, R.E1000_RAH(i), 0);
  }
  for (let i = R.E1000_NUM_MTA_REGISTERS - 1; i >= 0; i--) ew32(k, hw, R.E1000_MTA + i * 4, 0);
  writeFlush(k, hw);
  return 0;
}

/**
 * ndo_set_mac_address (e1000_set_mac): `addr` points at the 6 bytes of the new address.
 * Returns 0, or -EADDRNOTAVAIL (nothing changed) for a multicast or all-zero address.
 */
export function e1000_set_mac(k: KernelApi, netdev: Ptr, addr: Ptr): number {
  if (!k.is_valid_ether_addr(addr)) return -EADDRNOTAVAIL;
  const adapter = k.netdev_priv(netdev);
  k.memcpy(netdev + NetDevice.devAddr, addr, ETH_ALEN);
  rarSet(k, k.loadPtr(adapter + Adapter.hwAddr), netdev + NetDevice.devAddr, 0);
  return 0;
}

/** ndo_tx_timeout (e1000_tx_timeout): count it and schedule the reset work. Returns 0. */
export function e1000_tx_timeout(k: KernelApi, netdev: Ptr): number {
  const adapter = k.netdev_priv(netdev);
  k.store32(adapter + Adapter.txTimeoutCount, k.load32(adapter + Adapter.txTimeoutCount) + 1);
  k.schedule_work(adapter + Adapter.resetTask);
  return 0;
}

/**
 * Work function (e1000_reset_task): reinitialise an open interface (e1000_reinit_locked:
 * down, then configure and up). Returns 0; does nothing if the interface is down.
 */
export function e1000_reset_task(k: KernelApi, work: Ptr): number {
  const adapter = work - Adapter.resetTask;
  const flags = k.load32(adapter + Adapter.flags);
  if (flags & E1000_FLAG_DOWN || !(flags & E1000_FLAG_UP)) return 0;
  k.netdev_err(k.loadPtr(adapter + Adapter.netdev), "Reset adapter");
  down(k, adapter);
  configure(k, adapter);
  up(k, adapter);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// interrupt, NAPI poll, watchdog
// ---------------------------------------------------------------------------------------------

/**
 * Interrupt handler (e1000_intr), on a shared line: read ICR (which clears it); 0 is someone
 * else's interrupt (IRQ_NONE). A link change kicks the watchdog; then mask every cause and
 * schedule NAPI. Returns IRQ_HANDLED otherwise.
 */
export function e1000_intr(k: KernelApi, _irq: number, netdev: Ptr): number {
  const adapter = k.netdev_priv(netdev);
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const icr = er32(k, hw, R.E1000_ICR);
  if (icr === 0) return IRQ_NONE;
  // We may have caused it, but the read cleared it: if down, there is nothing to do.
  if (k.load32(adapter + Adapter.flags) & E1000_FLAG_DOWN) return IRQ_HANDLED;
  if (icr & (R.E1000_ICR_RXSEQ | R.E1000_ICR_LSC)) {
    k.mod_timer(adapter + Adapter.watchdogTimer, k.jiffies() + E1000_WATCHDOG_KICK);
  }
  ew32(k, hw, R.E1000_IMC, R.E1000_IMC_ALL);
  writeFlush(k, hw);
  k.napi_schedule(adapter + Adapter.napi);
  return IRQ_HANDLED;
}

/**
 * e1000_clean_tx_irq: reclaim descriptors the hardware reports done (DD), from next_to_clean
 * up to next_to_use: unmap, free the skb, account BQL and statistics, wake the queue once 32
 * descriptors are free. Returns true if it did not have to stop at a full ring's worth.
 */
function cleanTxIrq(k: KernelApi, adapter: Ptr): boolean {
  const netdev = k.loadPtr(adapter + Adapter.netdev);
  const pdev = k.loadPtr(adapter + Adapter.pdev);
  const ring = k.loadPtr(adapter + Adapter.txRing);
  const count = k.load32(ring + Ring.count);
  const ntu = k.load32(ring + Ring.nextToUse);
  const desc = k.loadPtr(ring + Ring.desc);
  const bi = k.loadPtr(ring + Ring.bufferInfo);
  let i = k.load32(ring + Ring.nextToClean);
  let cleaned = 0;
  let pkts = 0;
  let bytes = 0;
  while (i !== ntu && cleaned < count) {
    const d = desc + i * R.E1000_DESC_SIZE;
    if (!(k.load32(d + R.TXD_UPPER) & R.E1000_TXD_STAT_DD)) break;
    const b = bi + i * BufferInfo.SIZE;
    const len = k.load32(b + BufferInfo.length);
    const dma = k.load64(b + BufferInfo.dma);
    if (dma) k.dma_unmap_single(pdev, dma, len, DMA_TO_DEVICE);
    const skb = k.loadPtr(b + BufferInfo.skb);
    if (skb) {
      k.dev_kfree_skb_any(skb);
      pkts++;
      bytes += len;
    }
    k.storePtr(b + BufferInfo.skb, 0);
    k.store64(b + BufferInfo.dma, 0);
    k.store32(d + R.TXD_UPPER, 0);
    i = i + 1 === count ? 0 : i + 1;
    cleaned++;
  }
  k.store32(ring + Ring.nextToClean, i);
  if (pkts) {
    k.netdev_completed_queue(netdev, pkts, bytes);
    statAdd(k, netdev, NetDeviceStats.txPackets, pkts);
    statAdd(k, netdev, NetDeviceStats.txBytes, bytes);
  }
  if (
    cleaned &&
    k.netif_carrier_ok(netdev) &&
    descUnused(i, ntu, count) >= TX_WAKE_THRESHOLD &&
    k.netif_queue_stopped(netdev) &&
    !(k.load32(adapter + Adapter.flags) & E1000_FLAG_DOWN)
  ) {
    k.netif_wake_queue(netdev);
  }
  return cleaned < count;
}

/**
 * e1000_clean_rx_irq: hand up to `budget` received frames to the stack. Frames that span
 * buffers (!EOP), carry a frame error or have an impossible length are dropped and their skb
 * reused; good frames lose their 4 FCS bytes, get skb_put, eth_type_trans and napi_gro_receive.
 * Buffers go back to the hardware every 16 and at the end. Returns the frames processed.
 */
function cleanRxIrq(k: KernelApi, adapter: Ptr, budget: number): number {
  const netdev = k.loadPtr(adapter + Adapter.netdev);
  const pdev = k.loadPtr(adapter + Adapter.pdev);
  const ring = k.loadPtr(adapter + Adapter.rxRing);
  const count = k.load32(ring + Ring.count);
  const desc = k.loadPtr(ring + Ring.desc);
  const bi = k.loadPtr(ring + Ring.bufferInfo);
  const napi = adapter + Adapter.napi;
  let i = k.load32(ring + Ring.nextToClean);
  let work = 0;
  let cleanedCount = 0;
  let pkts = 0;
  let bytes = 0;
  let dropped = 0;
  while (work < budget) {
    const d = desc + i * R.E1000_DESC_SIZE;
    const status = k.load8(d + R.RXD_STATUS);
    if (!(status & R.E1000_RXD_STAT_DD)) break;
    work++;
    const b = bi + i * BufferInfo.SIZE;
    const skb = k.loadPtr(b + BufferInfo.skb);
    const bufLen = k.load32(b + BufferInfo.length);
    k.storePtr(b + BufferInfo.skb, 0);
    if (++i === count) i = 0;
    cleanedCount++;
    const dma = k.load64(b + BufferInfo.dma);
    if (dma) k.dma_unmap_single(pdev, dma, bufLen, DMA_FROM_DEVICE);
    k.store64(b + BufferInfo.dma, 0);
    let length = k.load16(d + R.RXD_LENGTH);
    const errors = k.load8(d + R.RXD_ERRORS);

    let drop = false;
    if (!(status & R.E1000_RXD_STAT_EOP)) setFlag(k, adapter, E1000_FLAG_DISCARDING);
    if (k.load32(adapter + Adapter.flags) & E1000_FLAG_DISCARDING) {
      // All receives must fit into a single buffer: drop up to and including the EOP buffer.
      if (status & R.E1000_RXD_STAT_EOP) clearFlag(k, adapter, E1000_FLAG_DISCARDING);
      drop = true;
    } else if (errors & R.E1000_RXD_ERR_FRAME_ERR_MASK) {
      drop = true;
    } else if (length < ETH_HLEN + ETH_FCS_LEN || length > bufLen || !skb) {
      drop = true;
    }
    if (drop) {
      dropped++;
      if (skb) k.storePtr(b + BufferInfo.skb, skb); // recycle
    } else {
      length -= ETH_FCS_LEN;
      k.skb_put(skb, length);
      // e1000_rx_checksum: IXSM means the hardware did not check; TCPCS without TCPE is good.
      if (
        !(status & R.E1000_RXD_STAT_IXSM) &&
        status & R.E1000_RXD_STAT_TCPCS &&
        !(errors & R.E1000_RXD_ERR_TCPE)
      ) {
        k.store8(skb + SkBuff.ipSummed, CHECKSUM_UNNECESSARY);
      }
      k.store16(skb + SkBuff.protocol, k.eth_type_trans(skb, netdev));
      k.napi_gro_receive(napi, skb);
      pkts++;
      bytes += length;
    }
    k.store8(d + R.RXD_STATUS, 0);
    if (cleanedCount >= E1000_RX_BUFFER_WRITE) {
      k.store32(ring + Ring.nextToClean, i);
      allocRxBuffers(k, adapter, cleanedCount);
      cleanedCount = 0;
    }
  }
  k.store32(ring + Ring.nextToClean, i);
  const unused = descUnused(i, k.load32(ring + Ring.nextToUse), count);
  if (unused) allocRxBuffers(k, adapter, unused);
  if (pkts) {
    statAdd(k, netdev, NetDeviceStats.rxPackets, pkts);
    statAdd(k, netdev, NetDeviceStats.rxBytes, bytes);
  }
  if (dropped) statAdd(k, netdev, NetDeviceStats.rxDropped, dropped);
  return work;
}

/**
 * NAPI poll (e1000_clean): clean TX, then RX up to `budget`. If the work fits the budget,
 * leave polling (napi_complete_done) and unmask interrupts. Returns the RX frames processed,
 * or `budget` to stay in polling mode.
 */
export function e1000_clean(k: KernelApi, napi: Ptr, budget: number): number {
  const adapter = napi - Adapter.napi;
  const txDone = cleanTxIrq(k, adapter);
  const work = cleanRxIrq(k, adapter, budget);
  if (!txDone || work >= budget) return budget;
  if (k.napi_complete_done(napi, work) && !(k.load32(adapter + Adapter.flags) & E1000_FLAG_DOWN)) {
    irqEnable(k, k.loadPtr(adapter + Adapter.hwAddr));
  }
  return work;
}

/**
 * Watchdog timer (e1000_watchdog, every 2 s): on link up with the carrier off, enable TX
 * (TCTL.EN), carrier on and wake the queue; on link down, carrier off. Then update the
 * statistics, force an RX-descriptor interrupt (ICS = RXDMT0) so a stalled RX ring gets
 * cleaned, and re-arm. Returns 0; does nothing once the interface is going down.
 */
export function e1000_watchdog(k: KernelApi, timer: Ptr): number {
  const adapter = timer - Adapter.watchdogTimer;
  if (k.load32(adapter + Adapter.flags) & E1000_FLAG_DOWN) return 0;
  const netdev = k.loadPtr(adapter + Adapter.netdev);
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const status = er32(k, hw, R.E1000_STATUS);
  if (status & R.E1000_STATUS_LU) {
    if (!k.netif_carrier_ok(netdev)) {
      const speedBits = status & R.E1000_STATUS_SPEED_MASK;
      const speed =
        speedBits & R.E1000_STATUS_SPEED_1000 ? 1000 : speedBits & R.E1000_STATUS_SPEED_100 ? 100 : 10;
      const full = (status & R.E1000_STATUS_FD) !== 0;
      k.store32(adapter + Adapter.linkSpeed, speed);
      k.store32(adapter + Adapter.linkDuplex, full ? 2 : 1);
      k.netdev_info(
        netdev,
        `NIC Link is Up ${speed} Mbps ${full ? "Full" : "Half"} Duplex, Flow Control: None`,
      );
      ew32(k, hw, R.E1000_TCTL, er32(k, hw, R.E1000_TCTL) | R.E1000_TCTL_EN);
      k.netif_carrier_on(netdev);
      k.netif_wake_queue(netdev);
    }
  } else if (k.netif_carrier_ok(netdev)) {
    k.store32(adapter + Adapter.linkSpeed, 0);
    k.store32(adapter + Adapter.linkDuplex, 0);
    k.netdev_info(netdev, `NIC Link is Down`);
    k.netif_carrier_off(netdev);
  }
  updateStats(k, adapter);
  ew32(k, hw, R.E1000_ICS, R.E1000_ICS_RXDMT0);
  k.mod_timer(timer, k.jiffies() + E1000_WATCHDOG_INTERVAL);
  return 0;
}
