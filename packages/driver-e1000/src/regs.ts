/**
 * Intel 8254x (e1000) register offsets and bits the driver uses, under the names of Linux's
 * drivers/net/ethernet/intel/e1000/e1000_hw.h (E1000_*). The driver keeps its own copy, as
 * Linux does: it imports nothing but the kernel API.
 *
 * Sources: reference/hardware.md section 5.2 (register map), 5.3 (bit fields), 5.4
 * (descriptors), 5.8 (EEPROM), 5.9 (PHY) and 6 (driver defaults); values checked against
 * Linux e1000_hw.h / e1000.h and QEMU hw/net/e1000_regs.h.
 */

// ---------------------------------------------------------------------------------------------
// MMIO register offsets from BAR0 (hardware.md 5.2)
// ---------------------------------------------------------------------------------------------

/** Device Control (RW). */
export const E1000_CTRL = 0x00000;
/** Device Status (RO); reading it flushes posted writes (E1000_WRITE_FLUSH). */
export const E1000_STATUS = 0x00008;
/** EEPROM/Flash Control and Data: the Microwire bit-bang interface. */
export const E1000_EECD = 0x00010;
/** MDI Control: PHY register access. */
export const E1000_MDIC = 0x00020;
/** Flow Control Address Low / High and Type (written to 0 when flow control is off). */
export const E1000_FCAL = 0x00028;
export const E1000_FCAH = 0x0002c;
export const E1000_FCT = 0x00030;
/** VLAN Ether Type. */
export const E1000_VET = 0x00038;
/** Interrupt Cause Read (read clears). */
export const E1000_ICR = 0x000c0;
/** Interrupt Throttling Rate (units of 256 ns). */
export const E1000_ITR = 0x000c4;
/** Interrupt Cause Set. */
export const E1000_ICS = 0x000c8;
/** Interrupt Mask Set (write ORs bits into the mask). */
export const E1000_IMS = 0x000d0;
/** Interrupt Mask Clear (write clears bits of the mask). */
export const E1000_IMC = 0x000d8;
/** Receive Control. */
export const E1000_RCTL = 0x00100;
/** Flow Control Transmit Timer Value. */
export const E1000_FCTTV = 0x00170;
/** Transmit Control. */
export const E1000_TCTL = 0x00400;
/** Transmit Inter Packet Gap. */
export const E1000_TIPG = 0x00410;
/** Packet Buffer Allocation (RX share in KiB in the low 16 bits). */
export const E1000_PBA = 0x01000;
/** Flow Control Receive Threshold Low / High. */
export const E1000_FCRTL = 0x02160;
export const E1000_FCRTH = 0x02168;
/** RX descriptor ring: base low/high, length in bytes, head, tail. */
export const E1000_RDBAL = 0x02800;
export const E1000_RDBAH = 0x02804;
export const E1000_RDLEN = 0x02808;
export const E1000_RDH = 0x02810;
export const E1000_RDT = 0x02818;
/** RX Delay Timer and RX Interrupt Absolute Delay (units of 1.024 us). */
export const E1000_RDTR = 0x02820;
export const E1000_RADV = 0x0282c;
/** TX descriptor ring: base low/high, length in bytes, head, tail. */
export const E1000_TDBAL = 0x03800;
export const E1000_TDBAH = 0x03804;
export const E1000_TDLEN = 0x03808;
export const E1000_TDH = 0x03810;
export const E1000_TDT = 0x03818;
/** TX Interrupt Delay Value and TX Absolute Interrupt Delay (units of 1.024 us). */
export const E1000_TIDV = 0x03820;
export const E1000_TADV = 0x0382c;
/** Receive Checksum Control. */
export const E1000_RXCSUM = 0x05000;
/** Multicast Table Array: 128 registers of 32 bits (a 4096-bit hash filter). */
export const E1000_MTA = 0x05200;
/** Receive Address n: RAL at 0x5400 + 8n, RAH at 0x5404 + 8n. */
export const E1000_RA = 0x05400;
/** VLAN Filter Table Array: 128 registers. */
export const E1000_VFTA = 0x05600;
/** Wake Up Control. */
export const E1000_WUC = 0x05800;
/** Management Control. */
export const E1000_MANC = 0x05820;

/** Entries of the multicast table array (E1000_NUM_MTA_REGISTERS). */
export const E1000_NUM_MTA_REGISTERS = 128;
/** Entries of the VLAN filter table (E1000_VLAN_FILTER_TBL_SIZE). */
export const E1000_VLAN_FILTER_TBL_SIZE = 128;
/** Receive address registers on the 82540 (E1000_RAR_ENTRIES). */
export const E1000_RAR_ENTRIES = 15;
/** Byte stride of one RAL/RAH pair. */
export const E1000_RA_STRIDE = 8;

/** Offset of RAL[n]. */
export function E1000_RAL(n: number): number {
  return E1000_RA + n * E1000_RA_STRIDE;
}
/** Offset of RAH[n]. */
export function E1000_RAH(n: number): number {
  return E1000_RA + n * E1000_RA_STRIDE + 4;
}

// I/O BAR: indirect register access (e1000_io_write: outl(reg, IOADDR); outl(value, IODATA)).
/** I/O-port offset of IOADDR (the register offset to access). */
export const E1000_IOADDR = 0x00;
/** I/O-port offset of IODATA (the value). */
export const E1000_IODATA = 0x04;

// ---------------------------------------------------------------------------------------------
// Statistics registers (hardware.md 5.2; read-to-clear on real hardware)
// ---------------------------------------------------------------------------------------------

export const E1000_CRCERRS = 0x04000;
export const E1000_ALGNERRC = 0x04004;
export const E1000_SYMERRS = 0x04008;
export const E1000_RXERRC = 0x0400c;
export const E1000_MPC = 0x04010;
export const E1000_SCC = 0x04014;
export const E1000_ECOL = 0x04018;
export const E1000_MCC = 0x0401c;
export const E1000_LATECOL = 0x04020;
export const E1000_COLC = 0x04028;
export const E1000_DC = 0x04030;
export const E1000_TNCRS = 0x04034;
export const E1000_SEC = 0x04038;
export const E1000_CEXTERR = 0x0403c;
export const E1000_RLEC = 0x04040;
export const E1000_XONRXC = 0x04048;
export const E1000_XONTXC = 0x0404c;
export const E1000_XOFFRXC = 0x04050;
export const E1000_XOFFTXC = 0x04054;
export const E1000_FCRUC = 0x04058;
export const E1000_PRC64 = 0x0405c;
export const E1000_PRC127 = 0x04060;
export const E1000_PRC255 = 0x04064;
export const E1000_PRC511 = 0x04068;
export const E1000_PRC1023 = 0x0406c;
export const E1000_PRC1522 = 0x04070;
export const E1000_GPRC = 0x04074;
export const E1000_BPRC = 0x04078;
export const E1000_MPRC = 0x0407c;
export const E1000_GPTC = 0x04080;
export const E1000_GORCL = 0x04088;
export const E1000_GORCH = 0x0408c;
export const E1000_GOTCL = 0x04090;
export const E1000_GOTCH = 0x04094;
export const E1000_RNBC = 0x040a0;
export const E1000_RUC = 0x040a4;
export const E1000_RFC = 0x040a8;
export const E1000_ROC = 0x040ac;
export const E1000_RJC = 0x040b0;
export const E1000_TORL = 0x040c0;
export const E1000_TORH = 0x040c4;
export const E1000_TOTL = 0x040c8;
export const E1000_TOTH = 0x040cc;
export const E1000_TPR = 0x040d0;
export const E1000_TPT = 0x040d4;
export const E1000_PTC64 = 0x040d8;
export const E1000_PTC127 = 0x040dc;
export const E1000_PTC255 = 0x040e0;
export const E1000_PTC511 = 0x040e4;
export const E1000_PTC1023 = 0x040e8;
export const E1000_PTC1522 = 0x040ec;
export const E1000_MPTC = 0x040f0;
export const E1000_BPTC = 0x040f4;
export const E1000_TSCTC = 0x040f8;
export const E1000_TSCTFC = 0x040fc;

// ---------------------------------------------------------------------------------------------
// Register bits (hardware.md 5.3)
// ---------------------------------------------------------------------------------------------

// CTRL
/** Full duplex. */
export const E1000_CTRL_FD = 0x00000001;
/** Set Link Up. */
export const E1000_CTRL_SLU = 0x00000040;
/** Force speed / force duplex. */
export const E1000_CTRL_FRCSPD = 0x00000800;
export const E1000_CTRL_FRCDPX = 0x00001000;
/** Global device reset; self-clearing. */
export const E1000_CTRL_RST = 0x04000000;

// STATUS
/** Full duplex. */
export const E1000_STATUS_FD = 0x00000001;
/** Link up. */
export const E1000_STATUS_LU = 0x00000002;
/** Speed field, bits 7:6 (00 = 10, 01 = 100, 10/11 = 1000 Mb/s). */
export const E1000_STATUS_SPEED_MASK = 0x000000c0;
export const E1000_STATUS_SPEED_100 = 0x00000040;
export const E1000_STATUS_SPEED_1000 = 0x00000080;

// EECD (Microwire)
/** Clock input to the EEPROM. */
export const E1000_EECD_SK = 0x00000001;
/** Chip select. */
export const E1000_EECD_CS = 0x00000002;
/** Data input to the EEPROM. */
export const E1000_EECD_DI = 0x00000004;
/** Data output from the EEPROM. */
export const E1000_EECD_DO = 0x00000008;
/** Software request for EEPROM access (82540+). */
export const E1000_EECD_REQ = 0x00000040;
/** Access granted. */
export const E1000_EECD_GNT = 0x00000080;
/** EEPROM present. */
export const E1000_EECD_PRES = 0x00000100;
/** EEPROM size: 0 = 64 words (6 address bits), 1 = 256 words (8 address bits). */
export const E1000_EECD_SIZE = 0x00000200;

// MDIC
export const E1000_MDIC_DATA_MASK = 0x0000ffff;
export const E1000_MDIC_REG_SHIFT = 16;
export const E1000_MDIC_PHY_SHIFT = 21;
export const E1000_MDIC_OP_WRITE = 0x04000000;
export const E1000_MDIC_OP_READ = 0x08000000;
export const E1000_MDIC_READY = 0x10000000;
export const E1000_MDIC_ERROR = 0x40000000;

// ICR / ICS / IMS / IMC
/** Transmit descriptor written back. */
export const E1000_ICR_TXDW = 0x00000001;
/** Transmit queue empty. */
export const E1000_ICR_TXQE = 0x00000002;
/** Link status change. */
export const E1000_ICR_LSC = 0x00000004;
/** RX sequence error. */
export const E1000_ICR_RXSEQ = 0x00000008;
/** RX descriptor minimum threshold reached. */
export const E1000_ICR_RXDMT0 = 0x00000010;
/** RX overrun. */
export const E1000_ICR_RXO = 0x00000040;
/** RX timer interrupt. */
export const E1000_ICR_RXT0 = 0x00000080;
export const E1000_ICS_LSC = E1000_ICR_LSC;
export const E1000_ICS_RXDMT0 = E1000_ICR_RXDMT0;
/** IMS_ENABLE_MASK (e1000.h): RXT0 | TXDW | RXDMT0 | RXSEQ | LSC = 0x9D. */
export const IMS_ENABLE_MASK =
  E1000_ICR_RXT0 | E1000_ICR_TXDW | E1000_ICR_RXDMT0 | E1000_ICR_RXSEQ | E1000_ICR_LSC;
/** Every interrupt cause: written to IMC to mask them all (`ew32(IMC, ~0)`). */
export const E1000_IMC_ALL = 0xffffffff;

// RCTL
export const E1000_RCTL_EN = 0x00000002;
/** Store bad packets. */
export const E1000_RCTL_SBP = 0x00000004;
/** Unicast promiscuous. */
export const E1000_RCTL_UPE = 0x00000008;
/** Multicast promiscuous. */
export const E1000_RCTL_MPE = 0x00000010;
/** Long packet enable. */
export const E1000_RCTL_LPE = 0x00000020;
/** Loopback mode field: no loopback. */
export const E1000_RCTL_LBM_NO = 0x00000000;
/** RX descriptor minimum threshold: half the ring. */
export const E1000_RCTL_RDMTS_HALF = 0x00000000;
/** Multicast offset field shift (bits 13:12). */
export const E1000_RCTL_MO_SHIFT = 12;
export const E1000_RCTL_MO_MASK = 0x00003000;
/** Broadcast accept. */
export const E1000_RCTL_BAM = 0x00008000;
/** Buffer size field (bits 17:16); 00 with BSEX = 0 is 2048 bytes. */
export const E1000_RCTL_SZ_MASK = 0x00030000;
export const E1000_RCTL_SZ_2048 = 0x00000000;
/** VLAN filter enable. */
export const E1000_RCTL_VFE = 0x00040000;
/** Buffer size extension. */
export const E1000_RCTL_BSEX = 0x02000000;
/** Strip Ethernet CRC: left clear, so descriptor lengths include the 4 FCS bytes. */
export const E1000_RCTL_SECRC = 0x04000000;

// TCTL
export const E1000_TCTL_EN = 0x00000002;
/** Pad short packets. */
export const E1000_TCTL_PSP = 0x00000008;
/** Collision threshold field (bits 11:4). */
export const E1000_TCTL_CT = 0x00000ff0;
/** Collision distance field (bits 21:12). */
export const E1000_TCTL_COLD = 0x003ff000;
/** Re-transmit on late collision. */
export const E1000_TCTL_RTLC = 0x01000000;
export const E1000_CT_SHIFT = 4;
export const E1000_COLD_SHIFT = 12;
/** Linux E1000_COLLISION_THRESHOLD. */
export const E1000_COLLISION_THRESHOLD = 15;
/** Linux E1000_COLLISION_DISTANCE (0-based, half duplex only). */
export const E1000_COLLISION_DISTANCE = 63;

// TIPG: Linux defaults for 82543+ copper (hardware.md 5.3): IPGT 8, IPGR1 8, IPGR2 6.
export const DEFAULT_82543_TIPG_IPGT_COPPER = 8;
export const DEFAULT_82543_TIPG_IPGR1 = 8;
export const DEFAULT_82543_TIPG_IPGR2 = 6;
export const E1000_TIPG_IPGR1_SHIFT = 10;
export const E1000_TIPG_IPGR2_SHIFT = 20;

// RAH
/** Address valid. */
export const E1000_RAH_AV = 0x80000000;

// MANC
/** Hardware ARP filtering; cleared by e1000_reset_hw. */
export const E1000_MANC_ARP_EN = 0x00002000;

// RXCSUM
/** TCP/UDP checksum offload. */
export const E1000_RXCSUM_TUOFL = 0x00000200;

/** PBA value for the 82540: 48 KiB of the 64 KiB packet buffer for RX (E1000_PBA_48K). */
export const E1000_PBA_48K = 0x0030;

/** VLAN Ether Type written to VET (ETH_P_8021Q). */
export const ETH_P_8021Q = 0x8100;

// ---------------------------------------------------------------------------------------------
// Descriptors (hardware.md 5.4): 16 bytes, little-endian
// ---------------------------------------------------------------------------------------------

/** Size of one legacy TX or RX descriptor. */
export const E1000_DESC_SIZE = 16;

// Legacy TX descriptor: addr u64 @0, lower u32 @8 (length | CSO << 16 | CMD << 24),
// upper u32 @12 (STA | CSS << 8 | special << 16).
export const TXD_ADDR = 0;
export const TXD_LOWER = 8;
export const TXD_UPPER = 12;
/** Length field of the lower word. */
export const E1000_TXD_LEN_MASK = 0x0000ffff;
/** End of packet. */
export const E1000_TXD_CMD_EOP = 0x01000000;
/** Insert FCS. */
export const E1000_TXD_CMD_IFCS = 0x02000000;
/** Report status (DD written back). */
export const E1000_TXD_CMD_RS = 0x08000000;
/** Descriptor extension (0 = legacy). */
export const E1000_TXD_CMD_DEXT = 0x20000000;
/** Interrupt delay enable (use TIDV). */
export const E1000_TXD_CMD_IDE = 0x80000000;
/** Descriptor done, in the upper word. */
export const E1000_TXD_STAT_DD = 0x00000001;

// RX descriptor: addr u64 @0, length u16 @8, csum u16 @10, status u8 @12, errors u8 @13,
// special u16 @14.
export const RXD_ADDR = 0;
export const RXD_LENGTH = 8;
export const RXD_CSUM = 10;
export const RXD_STATUS = 12;
export const RXD_ERRORS = 13;
export const RXD_SPECIAL = 14;
/** Descriptor done. */
export const E1000_RXD_STAT_DD = 0x01;
/** End of packet. */
export const E1000_RXD_STAT_EOP = 0x02;
/** Ignore checksum indication. */
export const E1000_RXD_STAT_IXSM = 0x04;
export const E1000_RXD_ERR_CE = 0x01;
export const E1000_RXD_ERR_SE = 0x02;
export const E1000_RXD_ERR_SEQ = 0x04;
export const E1000_RXD_ERR_CXE = 0x10;
export const E1000_RXD_ERR_RXE = 0x80;
/** Errors that make Linux drop a frame (E1000_RXD_ERR_FRAME_ERR_MASK: CE | SE | SEQ | CXE | RXE). */
export const E1000_RXD_ERR_FRAME_ERR_MASK =
  E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | E1000_RXD_ERR_SEQ | E1000_RXD_ERR_CXE | E1000_RXD_ERR_RXE;

// ---------------------------------------------------------------------------------------------
// EEPROM (hardware.md 5.8) and PHY (5.9)
// ---------------------------------------------------------------------------------------------

/** Microwire READ opcode, 110b (EEPROM_READ_OPCODE_MICROWIRE). */
export const EEPROM_READ_OPCODE_MICROWIRE = 0x6;
/** Opcode bits of a Microwire command. */
export const EEPROM_MICROWIRE_OPCODE_BITS = 3;
/** Address bits of a 64-word (6) and a 256-word (8) Microwire part. */
export const EEPROM_MICROWIRE_ADDR_BITS_64 = 6;
export const EEPROM_MICROWIRE_ADDR_BITS_256 = 8;
/** Words of a 64-word and a 256-word part. */
export const EEPROM_WORDS_64 = 64;
export const EEPROM_WORDS_256 = 256;
/** Bits in an EEPROM word. */
export const EEPROM_WORD_BITS = 16;
/** Last word covered by the checksum (EEPROM_CHECKSUM_REG). */
export const EEPROM_CHECKSUM_REG = 0x3f;
/** Required 16-bit sum of words 0..EEPROM_CHECKSUM_REG (EEPROM_SUM). */
export const EEPROM_SUM = 0xbaba;
/** Polls of GNT after REQ, 5 us apart (E1000_EEPROM_GRANT_ATTEMPTS). */
export const E1000_EEPROM_GRANT_ATTEMPTS = 1000;
/** Words 0-2 hold the MAC address, low byte first (EEPROM_NODE_ADDRESS_BYTE_0). */
export const EEPROM_NODE_ADDRESS_BYTE_0 = 0;

/** MII registers (IEEE 802.3 clause 22) and the 82540's PHY address. */
export const E1000_82540_PHY_ADDR = 1;
export const PHY_CTRL = 0x00;
export const PHY_STATUS = 0x01;
export const PHY_ID1 = 0x02;
export const PHY_ID2 = 0x03;
export const PHY_AUTONEG_ADV = 0x04;
export const PHY_1000T_CTRL = 0x09;
/** PHY_CTRL: restart autonegotiation, autonegotiation enable. */
export const MII_CR_RESTART_AUTO_NEG = 0x0200;
export const MII_CR_AUTO_NEG_EN = 0x1000;
/** PHY_AUTONEG_ADV: 10/100 half and full duplex, pause and asymmetric pause. */
export const NWAY_AR_10T_HD_CAPS = 0x0020;
export const NWAY_AR_10T_FD_CAPS = 0x0040;
export const NWAY_AR_100TX_HD_CAPS = 0x0080;
export const NWAY_AR_100TX_FD_CAPS = 0x0100;
export const NWAY_AR_PAUSE = 0x0400;
export const NWAY_AR_ASM_DIR = 0x0800;
/** PHY_1000T_CTRL: advertise 1000BASE-T full duplex (the e1000 never advertises 1000 half). */
export const CR_1000T_FD_CAPS = 0x0200;
/** PHY ID of the 82540EM's Marvell 88E1011 (M88E1011_I_PHY_ID) and the revision mask. */
export const M88E1011_I_PHY_ID = 0x01410c20;
export const PHY_REVISION_MASK = 0xfffffff0;
/** MDIC polls, 50 us apart, before giving up (e1000_read_phy_reg_ex). */
export const PHY_MDIC_POLLS = 64;

/** RX status: TCP checksum calculated; RX error: TCP/UDP checksum error. */
export const E1000_RXD_STAT_TCPCS = 0x20;
export const E1000_RXD_ERR_TCPE = 0x20;
