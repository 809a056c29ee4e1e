import { describe, expect, it } from "vitest";
import * as R from "../src/regs.js";

describe("register constants (reference/hardware.md section 5)", () => {
  it("has the offsets of the register map (5.2)", () => {
    expect([R.E1000_CTRL, R.E1000_STATUS, R.E1000_EECD, R.E1000_MDIC, R.E1000_ICR]).toEqual([
      0, 8, 0x10, 0x20, 0xc0,
    ]);
    expect([R.E1000_RCTL, R.E1000_TCTL, R.E1000_RDBAL, R.E1000_TDBAL]).toEqual([
      0x100, 0x400, 0x2800, 0x3800,
    ]);
    expect([R.E1000_RDT, R.E1000_TDT, R.E1000_MTA, R.E1000_RA, R.E1000_MANC]).toEqual([
      0x2818, 0x3818, 0x5200, 0x5400, 0x5820,
    ]);
    expect([R.E1000_RAL(3), R.E1000_RAH(3)]).toEqual([0x5418, 0x541c]);
    expect([R.E1000_GPRC, R.E1000_TORH, R.E1000_BPTC]).toEqual([0x4074, 0x40c4, 0x40f4]);
  });

  it("has the bit fields of 5.3 and the defaults of section 6", () => {
    expect(R.IMS_ENABLE_MASK).toBe(0x9d);
    expect(R.E1000_CTRL_RST).toBe(1 << 26);
    expect(R.E1000_RCTL_BAM).toBe(1 << 15);
    expect(R.E1000_RCTL_SECRC).toBe(1 << 26);
    expect(R.E1000_TCTL_PSP).toBe(1 << 3);
    const tipg =
      R.DEFAULT_82543_TIPG_IPGT_COPPER |
      (R.DEFAULT_82543_TIPG_IPGR1 << R.E1000_TIPG_IPGR1_SHIFT) |
      (R.DEFAULT_82543_TIPG_IPGR2 << R.E1000_TIPG_IPGR2_SHIFT);
    expect(tipg).toBe(0x00602008);
    expect([R.E1000_EECD_SK, R.E1000_EECD_CS, R.E1000_EECD_DI, R.E1000_EECD_DO]).toEqual([1, 2, 4, 8]);
    expect([R.E1000_EECD_REQ, R.E1000_EECD_GNT, R.E1000_EECD_PRES, R.E1000_EECD_SIZE]).toEqual([
      0x40, 0x80, 0x100, 0x200,
    ]);
  });

  it("has the TX command bits of 5.4 as 32-bit words", () => {
    expect(R.E1000_TXD_CMD_EOP).toBe(0x01000000);
    expect(R.E1000_TXD_CMD_IFCS).toBe(0x02000000);
    expect(R.E1000_TXD_CMD_RS).toBe(0x08000000);
    expect(R.E1000_TXD_CMD_IDE).toBe(0x80000000);
    expect(R.E1000_RXD_ERR_FRAME_ERR_MASK).toBe(0x97);
  });
});
