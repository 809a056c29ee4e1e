/**
 * The hardware layer (Linux's e1000_hw.c): register access, reset, the Microwire EEPROM, the
 * PHY through MDIC, receive addresses and statistics. Every function reaches the device and
 * memory only through `k`; the adapter is a pointer to `struct e1000_adapter`.
 */
import {
  EIO,
  ETH_ALEN,
  type KernelApi,
  NetDevice,
  NetDeviceStats,
  PciDev,
  type Ptr,
} from "@side-kernel/kservice";
import { Adapter, HwStats, STATS_REGISTERS } from "./layout.js";
import {
  E1000_AUTO_READ_DONE_MS,
  E1000_QUIESCE_MS,
  E1000_RESET_POLL_US,
  E1000_RESET_POLLS,
  EEPROM_GRANT_POLL_US,
  EEPROM_MICROWIRE_DELAY_US,
  LOW_32_BITS,
  PHY_MDIC_POLL_US,
} from "./limits.js";
import * as R from "./regs.js";

/** er32: read a 32-bit register of the device mapped at `hw`, as an unsigned number. */
export function er32(k: KernelApi, hw: Ptr, reg: number): number {
  return k.readl(hw + reg) >>> 0;
}

/** ew32: write a 32-bit register (Linux's writel order: value, then address). */
export function ew32(k: KernelApi, hw: Ptr, reg: number, value: number): void {
  k.writel(value >>> 0, hw + reg);
}

/** E1000_WRITE_FLUSH: a STATUS read forces posted writes out. */
export function writeFlush(k: KernelApi, hw: Ptr): void {
  k.readl(hw + R.E1000_STATUS);
}

/**
 * e1000_write_reg_io: write a register through the I/O BAR (IOADDR = offset, IODATA = value).
 * The 82540 reset goes this way because the part "can't ack the 64-bit write when issuing
 * the reset" (hardware.md 5.11).
 */
export function writeRegIo(k: KernelApi, ioBase: number, reg: number, value: number): void {
  k.outl(reg, ioBase + R.E1000_IOADDR);
  k.outl(value >>> 0, ioBase + R.E1000_IODATA);
}

/** e1000_irq_disable: mask every cause, flush, and wait for a running handler. */
export function irqDisable(k: KernelApi, adapter: Ptr): void {
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  ew32(k, hw, R.E1000_IMC, R.E1000_IMC_ALL);
  writeFlush(k, hw);
  k.synchronize_irq(k.load32(k.loadPtr(adapter + Adapter.pdev) + PciDev.irq));
}

/** e1000_irq_enable: unmask IMS_ENABLE_MASK (0x9D) and flush. */
export function irqEnable(k: KernelApi, hw: Ptr): void {
  ew32(k, hw, R.E1000_IMS, R.IMS_ENABLE_MASK);
  writeFlush(k, hw);
}

/**
 * e1000_reset_hw for the 82540: mask interrupts, stop RX and TX, wait 10 ms, issue CTRL.RST
 * through the I/O port (MMIO when the device has no I/O BAR), wait for the EEPROM auto-read
 * (5 ms) and for RST to self-clear, turn off hardware ARP, mask interrupts again and clear
 * pending causes. Returns 0, or -EIO if RST never clears.
 */
export function resetHw(k: KernelApi, adapter: Ptr): number {
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const ioBase = k.load32(adapter + Adapter.ioBase);
  ew32(k, hw, R.E1000_IMC, R.E1000_IMC_ALL);
  ew32(k, hw, R.E1000_RCTL, 0);
  ew32(k, hw, R.E1000_TCTL, R.E1000_TCTL_PSP);
  writeFlush(k, hw);
  k.msleep(E1000_QUIESCE_MS);

  const ctrl = er32(k, hw, R.E1000_CTRL);
  if (ioBase !== 0) writeRegIo(k, ioBase, R.E1000_CTRL, ctrl | R.E1000_CTRL_RST);
  else ew32(k, hw, R.E1000_CTRL, ctrl | R.E1000_CTRL_RST);
  k.msleep(E1000_AUTO_READ_DONE_MS);
  let polls = 0;
  while (er32(k, hw, R.E1000_CTRL) & R.E1000_CTRL_RST) {
    if (++polls > E1000_RESET_POLLS) return -EIO;
    k.udelay(E1000_RESET_POLL_US);
  }

  const manc = er32(k, hw, R.E1000_MANC);
  ew32(k, hw, R.E1000_MANC, manc & ~R.E1000_MANC_ARP_EN);
  ew32(k, hw, R.E1000_IMC, R.E1000_IMC_ALL);
  er32(k, hw, R.E1000_ICR);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// EEPROM: Microwire bit-banging on EECD (e1000_read_eeprom and its helpers)
// ---------------------------------------------------------------------------------------------

/** e1000_raise_ee_clk: SK high, flush, wait. Returns the new EECD image. */
function raiseEeClk(k: KernelApi, hw: Ptr, eecd: number): number {
  const v = eecd | R.E1000_EECD_SK;
  ew32(k, hw, R.E1000_EECD, v);
  writeFlush(k, hw);
  k.udelay(EEPROM_MICROWIRE_DELAY_US);
  return v;
}

/** e1000_lower_ee_clk: SK low, flush, wait. Returns the new EECD image. */
function lowerEeClk(k: KernelApi, hw: Ptr, eecd: number): number {
  const v = eecd & ~R.E1000_EECD_SK;
  ew32(k, hw, R.E1000_EECD, v);
  writeFlush(k, hw);
  k.udelay(EEPROM_MICROWIRE_DELAY_US);
  return v;
}

/** e1000_shift_out_ee_bits: clock `count` bits of `data` out on DI, MSB first. */
function shiftOutEeBits(k: KernelApi, hw: Ptr, data: number, count: number): void {
  let eecd = er32(k, hw, R.E1000_EECD) & ~R.E1000_EECD_DO;
  for (let mask = 1 << (count - 1); mask !== 0; mask >>>= 1) {
    eecd &= ~R.E1000_EECD_DI;
    if (data & mask) eecd |= R.E1000_EECD_DI;
    ew32(k, hw, R.E1000_EECD, eecd);
    writeFlush(k, hw);
    k.udelay(EEPROM_MICROWIRE_DELAY_US);
    eecd = raiseEeClk(k, hw, eecd);
    eecd = lowerEeClk(k, hw, eecd);
  }
  ew32(k, hw, R.E1000_EECD, eecd & ~R.E1000_EECD_DI);
}

/** e1000_shift_in_ee_bits: clock `count` bits in from DO, MSB first. */
function shiftInEeBits(k: KernelApi, hw: Ptr, count: number): number {
  let eecd = er32(k, hw, R.E1000_EECD) & ~(R.E1000_EECD_DO | R.E1000_EECD_DI);
  let data = 0;
  for (let i = 0; i < count; i++) {
    data <<= 1;
    eecd = raiseEeClk(k, hw, eecd);
    eecd = er32(k, hw, R.E1000_EECD) & ~R.E1000_EECD_DI;
    if (eecd & R.E1000_EECD_DO) data |= 1;
    eecd = lowerEeClk(k, hw, eecd);
  }
  return data;
}

/** e1000_acquire_eeprom: REQ, wait for GNT, then DI/SK low and CS high. 0 or -EIO. */
function acquireEeprom(k: KernelApi, hw: Ptr): number {
  let eecd = er32(k, hw, R.E1000_EECD) | R.E1000_EECD_REQ;
  ew32(k, hw, R.E1000_EECD, eecd);
  eecd = er32(k, hw, R.E1000_EECD);
  for (let i = 0; !(eecd & R.E1000_EECD_GNT) && i < R.E1000_EEPROM_GRANT_ATTEMPTS; i++) {
    k.udelay(EEPROM_GRANT_POLL_US);
    eecd = er32(k, hw, R.E1000_EECD);
  }
  if (!(eecd & R.E1000_EECD_GNT)) {
    ew32(k, hw, R.E1000_EECD, eecd & ~R.E1000_EECD_REQ);
    return -EIO;
  }
  eecd &= ~(R.E1000_EECD_DI | R.E1000_EECD_SK);
  ew32(k, hw, R.E1000_EECD, eecd);
  ew32(k, hw, R.E1000_EECD, eecd | R.E1000_EECD_CS);
  return 0;
}

/** Write EECD, flush, and hold for one Microwire clock phase. */
function eecdPhase(k: KernelApi, hw: Ptr, eecd: number): void {
  ew32(k, hw, R.E1000_EECD, eecd);
  writeFlush(k, hw);
  k.udelay(EEPROM_MICROWIRE_DELAY_US);
}

/** e1000_standby_eeprom (Microwire): CS low, clock high, CS high, clock low. */
function standbyEeprom(k: KernelApi, hw: Ptr): void {
  let eecd = er32(k, hw, R.E1000_EECD) & ~(R.E1000_EECD_CS | R.E1000_EECD_SK);
  eecdPhase(k, hw, eecd);
  eecd |= R.E1000_EECD_SK;
  eecdPhase(k, hw, eecd);
  eecd |= R.E1000_EECD_CS;
  eecdPhase(k, hw, eecd);
  eecd &= ~R.E1000_EECD_SK;
  eecdPhase(k, hw, eecd);
}

/** e1000_release_eeprom (Microwire): CS and DI low, one clock pulse, drop REQ. */
function releaseEeprom(k: KernelApi, hw: Ptr): void {
  let eecd = er32(k, hw, R.E1000_EECD) & ~(R.E1000_EECD_CS | R.E1000_EECD_DI);
  ew32(k, hw, R.E1000_EECD, eecd);
  eecd = raiseEeClk(k, hw, eecd);
  eecd = lowerEeClk(k, hw, eecd);
  ew32(k, hw, R.E1000_EECD, eecd & ~R.E1000_EECD_REQ);
}

/**
 * Read one EEPROM word over Microwire (e1000_read_eeprom with words = 1): acquire, READ
 * opcode, address, 16 data bits, standby, release. Returns the word, or -EIO if the EEPROM
 * is never granted or the offset is past the part's size.
 */
export function readEepromWord(k: KernelApi, adapter: Ptr, offset: number): number {
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const words = k.load32(adapter + Adapter.eepromWords);
  const addrBits = k.load32(adapter + Adapter.eepromAddrBits);
  if (offset < 0 || offset >= words) return -EIO;
  if (acquireEeprom(k, hw) !== 0) return -EIO;
  shiftOutEeBits(k, hw, R.EEPROM_READ_OPCODE_MICROWIRE, R.EEPROM_MICROWIRE_OPCODE_BITS);
  shiftOutEeBits(k, hw, offset, addrBits);
  const word = shiftInEeBits(k, hw, R.EEPROM_WORD_BITS);
  standbyEeprom(k, hw);
  releaseEeprom(k, hw);
  return word;
}

/**
 * e1000_init_eeprom_params for a Microwire part: EECD.SIZE selects 256 words (8 address bits)
 * or 64 words (6 address bits). Stores both in the adapter.
 */
export function initEepromParams(k: KernelApi, adapter: Ptr): void {
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const big = (er32(k, hw, R.E1000_EECD) & R.E1000_EECD_SIZE) !== 0;
  k.store32(adapter + Adapter.eepromWords, big ? R.EEPROM_WORDS_256 : R.EEPROM_WORDS_64);
  k.store32(
    adapter + Adapter.eepromAddrBits,
    big ? R.EEPROM_MICROWIRE_ADDR_BITS_256 : R.EEPROM_MICROWIRE_ADDR_BITS_64,
  );
}

/**
 * e1000_validate_eeprom_checksum: the 16-bit sum of words 0..0x3F must be 0xBABA. Returns the
 * sum (a u16) on a read success, or -EIO if a word could not be read.
 */
export function eepromSum(k: KernelApi, adapter: Ptr): number {
  let sum = 0;
  for (let i = 0; i <= R.EEPROM_CHECKSUM_REG; i++) {
    const w = readEepromWord(k, adapter, i);
    if (w < 0) return w;
    sum = (sum + w) & 0xffff;
  }
  return sum;
}

/**
 * e1000_read_mac_addr: words 0-2, low byte first, into the adapter's permanent address and the
 * net_device's dev_addr. Returns 0 or -EIO.
 */
export function readMacAddr(k: KernelApi, adapter: Ptr): number {
  const netdev = k.loadPtr(adapter + Adapter.netdev);
  for (let i = 0; i < ETH_ALEN; i += 2) {
    const w = readEepromWord(k, adapter, R.EEPROM_NODE_ADDRESS_BYTE_0 + (i >> 1));
    if (w < 0) return w;
    k.store8(adapter + Adapter.permAddr + i, w & 0xff);
    k.store8(adapter + Adapter.permAddr + i + 1, w >>> 8);
  }
  k.memcpy(netdev + NetDevice.devAddr, adapter + Adapter.permAddr, ETH_ALEN);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Receive addresses, multicast table, VLAN filter
// ---------------------------------------------------------------------------------------------

/** e1000_rar_set: program RAL/RAH[index] from the 6 bytes at `addr`, with AV set. */
export function rarSet(k: KernelApi, hw: Ptr, addr: Ptr, index: number): void {
  const low =
    (k.load8(addr) | (k.load8(addr + 1) << 8) | (k.load8(addr + 2) << 16) | (k.load8(addr + 3) << 24)) >>> 0;
  const high = (k.load8(addr + 4) | (k.load8(addr + 5) << 8) | R.E1000_RAH_AV) >>> 0;
  ew32(k, hw, R.E1000_RAL(index), low);
  writeFlush(k, hw);
  ew32(k, hw, R.E1000_RAH(index), high);
  writeFlush(k, hw);
}

/** Clear receive addresses 1..E1000_RAR_ENTRIES-1 (no secondary unicast addresses). */
export function clearRar(k: KernelApi, hw: Ptr): void {
  for (let i = 1; i < R.E1000_RAR_ENTRIES; i++) {
    ew32(k, hw, R.E1000_RAL(i), 0);
    writeFlush(k, hw);
    ew32(k, hw, R.E1000_RAH(i), 0);
    writeFlush(k, hw);
  }
}

/** Zero the 128 multicast table registers (the kernel API carries no multicast list). */
export function clearMta(k: KernelApi, hw: Ptr): void {
  for (let i = 0; i < R.E1000_NUM_MTA_REGISTERS; i++) ew32(k, hw, R.E1000_MTA + i * 4, 0);
  writeFlush(k, hw);
}

// ---------------------------------------------------------------------------------------------
// PHY through MDIC (e1000_read_phy_reg_ex / e1000_write_phy_reg_ex)
// ---------------------------------------------------------------------------------------------

/** Poll MDIC until READY; returns the last MDIC value, or -EIO on timeout or ERROR. */
function mdicWait(k: KernelApi, hw: Ptr): number {
  let mdic = 0;
  for (let i = 0; i < R.PHY_MDIC_POLLS; i++) {
    k.udelay(PHY_MDIC_POLL_US);
    mdic = er32(k, hw, R.E1000_MDIC);
    if (mdic & R.E1000_MDIC_READY) break;
  }
  if (!(mdic & R.E1000_MDIC_READY) || mdic & R.E1000_MDIC_ERROR) return -EIO;
  return mdic;
}

/** Read PHY register `reg` of the 82540's PHY (address 1). Returns the u16, or -EIO. */
export function readPhyReg(k: KernelApi, hw: Ptr, reg: number): number {
  ew32(
    k,
    hw,
    R.E1000_MDIC,
    (reg << R.E1000_MDIC_REG_SHIFT) |
      (R.E1000_82540_PHY_ADDR << R.E1000_MDIC_PHY_SHIFT) |
      R.E1000_MDIC_OP_READ,
  );
  const mdic = mdicWait(k, hw);
  return mdic < 0 ? mdic : mdic & R.E1000_MDIC_DATA_MASK;
}

/** Write PHY register `reg`. Returns 0, or -EIO. */
export function writePhyReg(k: KernelApi, hw: Ptr, reg: number, value: number): number {
  ew32(
    k,
    hw,
    R.E1000_MDIC,
    (value & R.E1000_MDIC_DATA_MASK) |
      (reg << R.E1000_MDIC_REG_SHIFT) |
      (R.E1000_82540_PHY_ADDR << R.E1000_MDIC_PHY_SHIFT) |
      R.E1000_MDIC_OP_WRITE,
  );
  const mdic = mdicWait(k, hw);
  return Math.min(mdic, 0);
}

/**
 * e1000_setup_copper_link, reduced to what the 82540 needs: CTRL.SLU without forced speed or
 * duplex, the PHY ID check (M88E1011), the autonegotiation advertisement (10/100 half and
 * full, 1000 full, symmetric and asymmetric pause) and an autonegotiation restart. Returns 0,
 * or -EIO if a PHY access fails or the PHY is not the expected one.
 */
export function setupCopperLink(k: KernelApi, adapter: Ptr): number {
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const ctrl = er32(k, hw, R.E1000_CTRL);
  ew32(k, hw, R.E1000_CTRL, (ctrl | R.E1000_CTRL_SLU) & ~(R.E1000_CTRL_FRCSPD | R.E1000_CTRL_FRCDPX));

  const id1 = readPhyReg(k, hw, R.PHY_ID1);
  if (id1 < 0) return id1;
  const id2 = readPhyReg(k, hw, R.PHY_ID2);
  if (id2 < 0) return id2;
  const phyId = ((id1 * 0x10000 + id2) & R.PHY_REVISION_MASK) >>> 0;
  k.store32(adapter + Adapter.phyId, phyId);
  if (phyId !== R.M88E1011_I_PHY_ID) return -EIO;

  const adv = readPhyReg(k, hw, R.PHY_AUTONEG_ADV);
  if (adv < 0) return adv;
  const speeds =
    R.NWAY_AR_10T_HD_CAPS | R.NWAY_AR_10T_FD_CAPS | R.NWAY_AR_100TX_HD_CAPS | R.NWAY_AR_100TX_FD_CAPS;
  let err = writePhyReg(k, hw, R.PHY_AUTONEG_ADV, adv | speeds | R.NWAY_AR_PAUSE | R.NWAY_AR_ASM_DIR);
  if (err) return err;
  const gig = readPhyReg(k, hw, R.PHY_1000T_CTRL);
  if (gig < 0) return gig;
  err = writePhyReg(k, hw, R.PHY_1000T_CTRL, gig | R.CR_1000T_FD_CAPS);
  if (err) return err;

  const bmcr = readPhyReg(k, hw, R.PHY_CTRL);
  if (bmcr < 0) return bmcr;
  return writePhyReg(k, hw, R.PHY_CTRL, bmcr | R.MII_CR_AUTO_NEG_EN | R.MII_CR_RESTART_AUTO_NEG);
}

// ---------------------------------------------------------------------------------------------
// init_hw, statistics
// ---------------------------------------------------------------------------------------------

/** Read every statistics register once, discarding the values (e1000_clear_hw_cntrs). */
export function clearHwCounters(k: KernelApi, hw: Ptr): void {
  for (const [low, high] of STATS_REGISTERS) {
    er32(k, hw, low);
    if (high) er32(k, hw, high);
  }
}

/**
 * e1000_init_hw: RAR[0] from dev_addr and clear the other receive addresses, zero the MTA and
 * the VLAN filter table, set up the copper link, clear the statistics. Returns 0, or the
 * link setup's -EIO (the receive filters are programmed either way).
 */
export function initHw(k: KernelApi, adapter: Ptr): number {
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const netdev = k.loadPtr(adapter + Adapter.netdev);
  rarSet(k, hw, netdev + NetDevice.devAddr, 0);
  clearRar(k, hw);
  clearMta(k, hw);
  ew32(k, hw, R.E1000_VET, 0);
  for (let i = 0; i < R.E1000_VLAN_FILTER_TBL_SIZE; i++) ew32(k, hw, R.E1000_VFTA + i * 4, 0);
  writeFlush(k, hw);
  const err = setupCopperLink(k, adapter);
  clearHwCounters(k, hw);
  return err;
}

/**
 * e1000_reset (e1000_main.c): packet buffer split, reset_hw, WUC = 0, init_hw, VET = 0x8100.
 * Returns 0, or -EIO if the reset or init_hw failed (after logging a dev_err, as Linux's
 * "Hardware Error").
 */
export function e1000Reset(k: KernelApi, adapter: Ptr): number {
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const pdev = k.loadPtr(adapter + Adapter.pdev);
  ew32(k, hw, R.E1000_PBA, R.E1000_PBA_48K);
  let err = resetHw(k, adapter);
  if (err) {
    k.dev_err(pdev, "reset did not complete (CTRL.RST still set)");
    return err;
  }
  ew32(k, hw, R.E1000_WUC, 0);
  err = initHw(k, adapter);
  if (err) {
    k.dev_err(
      pdev,
      `Hardware Error: link setup failed (PHY ID 0x${k.load32(adapter + Adapter.phyId).toString(16)})`,
    );
  }
  ew32(k, hw, R.E1000_VET, R.ETH_P_8021Q);
  return err;
}

/**
 * e1000_update_stats: under the stats lock, add every statistics register into the adapter's
 * u64 counters and derive the net_device error statistics from them. Skipped while the link
 * is down (link speed 0), as Linux does.
 */
export function updateStats(k: KernelApi, adapter: Ptr): void {
  if (k.load32(adapter + Adapter.linkSpeed) === 0) return;
  const hw = k.loadPtr(adapter + Adapter.hwAddr);
  const netdev = k.loadPtr(adapter + Adapter.netdev);
  const lock = adapter + Adapter.statsLock;
  const irqFlags = k.spin_lock_irqsave(lock);
  const base = adapter + Adapter.hwStats;
  for (let i = 0; i < STATS_REGISTERS.length; i++) {
    const [low, high] = STATS_REGISTERS[i];
    let v = er32(k, hw, low);
    if (high) v += er32(k, hw, high) * LOW_32_BITS;
    const at = base + i * 8;
    k.store64(at, k.load64(at) + v);
  }
  const s = (off: number) => k.load64(base + off);
  const stats = netdev + NetDevice.stats;
  k.store64(stats + NetDeviceStats.multicast, s(HwStats.mprc));
  k.store64(stats + NetDeviceStats.collisions, s(HwStats.colc));
  k.store64(
    stats + NetDeviceStats.rxErrors,
    s(HwStats.rxerrc) +
      s(HwStats.crcerrs) +
      s(HwStats.algnerrc) +
      s(HwStats.ruc) +
      s(HwStats.roc) +
      s(HwStats.cexterr),
  );
  k.store64(stats + NetDeviceStats.rxCrcErrors, s(HwStats.crcerrs));
  k.store64(stats + NetDeviceStats.rxMissedErrors, s(HwStats.mpc));
  k.store64(stats + NetDeviceStats.txErrors, s(HwStats.ecol) + s(HwStats.latecol));
  k.store64(stats + NetDeviceStats.txAbortedErrors, s(HwStats.ecol));
  k.spin_unlock_irqrestore(lock, irqFlags);
}
