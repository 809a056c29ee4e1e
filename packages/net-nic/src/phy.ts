/**
 * The 82540EM's internal PHY (Marvell 88E1011 class) as seen through MDIC: power-on register
 * values and per-register access rights (QEMU phy_reg_init / phy_regcap, hardware.md 5.9).
 */
import {
  BMSR_ANEGCOMPLETE,
  BMSR_LSTATUS,
  M88_EXT_PHY_SPEC_CTRL,
  M88_PHY_SPEC_CTRL,
  M88_PHY_SPEC_STATUS,
  M88_RX_ERR_CNTR,
  PHY_1000T_CTRL,
  PHY_1000T_STATUS,
  PHY_ANAR,
  PHY_ANER,
  PHY_ANLPAR,
  PHY_BMCR,
  PHY_BMSR,
  PHY_ID1,
  PHY_ID1_82540EM,
  PHY_ID2,
  PHY_ID2_82540EM,
  PHY_REGS,
} from "./regs.js";

/** Readable PHY register. */
export const PHY_R = 1;
/** Writable PHY register. */
export const PHY_W = 2;

/**
 * PHY power-on values. BMSR starts with link down and autonegotiation not complete: the model
 * runs autonegotiation at power-on (500 ms), which sets LSTATUS and ANEGCOMPLETE. QEMU starts
 * with the link bit set (0x794D); real PHYs report link only after negotiation.
 */
export const PHY_RESET_VALUES: readonly number[] = (() => {
  const v = new Array<number>(PHY_REGS).fill(0);
  v[PHY_BMCR] = 0x1140; // 1000 Mb/s, full duplex, autonegotiation enabled
  v[PHY_BMSR] = 0x796d & ~(BMSR_LSTATUS | BMSR_ANEGCOMPLETE);
  v[PHY_ID1] = PHY_ID1_82540EM;
  v[PHY_ID2] = PHY_ID2_82540EM;
  v[PHY_ANAR] = 0x0de1;
  v[PHY_ANLPAR] = 0x01e0;
  v[PHY_ANER] = 0x0001;
  v[PHY_1000T_CTRL] = 0x0e00;
  v[PHY_1000T_STATUS] = 0x3c00;
  v[M88_PHY_SPEC_CTRL] = 0x0360;
  v[M88_PHY_SPEC_STATUS] = 0xac00;
  v[M88_EXT_PHY_SPEC_CTRL] = 0x0d60;
  return v;
})();

/** Access rights per PHY register (0 = not implemented: MDIC reports ERROR). */
export const PHY_ACCESS: Uint8Array = (() => {
  const a = new Uint8Array(PHY_REGS);
  a[PHY_BMCR] = PHY_R | PHY_W;
  a[PHY_BMSR] = PHY_R;
  a[PHY_ID1] = PHY_R;
  a[PHY_ID2] = PHY_R;
  a[PHY_ANAR] = PHY_R | PHY_W;
  a[PHY_ANLPAR] = PHY_R;
  a[PHY_ANER] = PHY_R;
  a[PHY_1000T_CTRL] = PHY_R | PHY_W;
  a[PHY_1000T_STATUS] = PHY_R;
  a[M88_PHY_SPEC_CTRL] = PHY_R | PHY_W;
  a[M88_PHY_SPEC_STATUS] = PHY_R;
  a[M88_EXT_PHY_SPEC_CTRL] = PHY_R | PHY_W;
  a[M88_RX_ERR_CNTR] = PHY_R;
  return a;
})();
