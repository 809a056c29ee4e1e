/**
 * Intel 82540EM (8254x family) register map, bit fields and descriptor layouts.
 *
 * Sources: Intel "PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's Manual"
 * (8254x_GBe_SDM), as transcribed by QEMU hw/net/e1000_regs.h and Linux
 * drivers/net/ethernet/intel/e1000/e1000_hw.h; see /work/shared/reference/hardware.md sections
 * 5.2-5.4 and 5.8-5.9. Offsets are byte offsets from BAR0; the register file is indexed by
 * `offset >> 2`.
 */

// ---------------------------------------------------------------- general (hardware.md 5.2)
/** Device Control. */
export const CTRL = 0x00000;
/** Device Status (read only). */
export const STATUS = 0x00008;
/** EEPROM/Flash Control (Microwire bit-bang interface). */
export const EECD = 0x00010;
/** EEPROM Read (register interface). */
export const EERD = 0x00014;
/** Extended Device Control. */
export const CTRL_EXT = 0x00018;
/** Flash Access. */
export const FLA = 0x0001c;
/** MDI Control (PHY access). */
export const MDIC = 0x00020;
/** Flow Control Address Low / High, Type. */
export const FCAL = 0x00028;
export const FCAH = 0x0002c;
export const FCT = 0x00030;
/** VLAN Ether Type. */
export const VET = 0x00038;
/** Interrupt Cause Read (read clears). */
export const ICR = 0x000c0;
/** Interrupt Throttling Rate (minimum inter-interrupt interval, 256 ns units). */
export const ITR = 0x000c4;
/** Interrupt Cause Set. */
export const ICS = 0x000c8;
/** Interrupt Mask Set/Read. */
export const IMS = 0x000d0;
/** Interrupt Mask Clear. */
export const IMC = 0x000d8;
/** Receive Control. */
export const RCTL = 0x00100;
/** Flow Control Transmit Timer Value. */
export const FCTTV = 0x00170;
/** Transmit / Receive Configuration Word (TBI mode). */
export const TXCW = 0x00178;
export const RXCW = 0x00180;
/** Transmit Control. */
export const TCTL = 0x00400;
/** Transmit Inter Packet Gap. */
export const TIPG = 0x00410;
/** LED Control. */
export const LEDCTL = 0x00e00;
/** Packet Buffer Allocation (KiB for RX in bits 15:0; TX gets the rest of 64 KiB). */
export const PBA = 0x01000;
/** PBA bits 15:0: the receive share of the packet buffer in KiB (Linux E1000_PBA_* values). */
export const PBA_RXA_MASK = 0xffff;
/** PBA allocations are in KiB (Linux E1000_PBA_BYTES_SHIFT 0xA). */
export const PBA_BYTES_SHIFT = 10;
/** Flow Control Receive Threshold Low / High. */
export const FCRTL = 0x02160;
export const FCRTH = 0x02168;

// ---------------------------------------------------------------- receive ring
export const RDBAL = 0x02800;
export const RDBAH = 0x02804;
export const RDLEN = 0x02808;
export const RDH = 0x02810;
export const RDT = 0x02818;
/** Receive Delay Timer (packet timer, 1.024 us units; bit 31 FPD flushes). */
export const RDTR = 0x02820;
export const RXDCTL = 0x02828;
/** Receive Interrupt Absolute Delay Timer (1.024 us units). */
export const RADV = 0x0282c;
export const RSRPD = 0x02c00;

// ---------------------------------------------------------------- transmit ring
export const TDBAL = 0x03800;
export const TDBAH = 0x03804;
export const TDLEN = 0x03808;
export const TDH = 0x03810;
export const TDT = 0x03818;
/** Transmit Interrupt Delay Value (packet timer, 1.024 us units; bit 31 FPD flushes). */
export const TIDV = 0x03820;
export const TXDCTL = 0x03828;
/** Transmit Absolute Interrupt Delay Value (1.024 us units). */
export const TADV = 0x0382c;
export const TSPMT = 0x03830;

// ---------------------------------------------------------------- statistics (all clear on read)
export const CRCERRS = 0x04000;
export const ALGNERRC = 0x04004;
export const SYMERRS = 0x04008;
export const RXERRC = 0x0400c;
/** Missed Packets Count. */
export const MPC = 0x04010;
export const SCC = 0x04014;
export const ECOL = 0x04018;
export const MCC = 0x0401c;
export const LATECOL = 0x04020;
export const COLC = 0x04028;
export const DC = 0x04030;
export const TNCRS = 0x04034;
export const SEC = 0x04038;
export const CEXTERR = 0x0403c;
export const RLEC = 0x04040;
export const XONRXC = 0x04048;
export const XONTXC = 0x0404c;
export const XOFFRXC = 0x04050;
export const XOFFTXC = 0x04054;
export const FCRUC = 0x04058;
/** Packets Received by size (64, 65-127, 128-255, 256-511, 512-1023, 1024-1522 bytes incl. FCS). */
export const PRC64 = 0x0405c;
export const PRC127 = 0x04060;
export const PRC255 = 0x04064;
export const PRC511 = 0x04068;
export const PRC1023 = 0x0406c;
export const PRC1522 = 0x04070;
/** Good Packets Received Count. */
export const GPRC = 0x04074;
/** Broadcast / Multicast Packets Received Count. */
export const BPRC = 0x04078;
export const MPRC = 0x0407c;
/** Good Packets Transmitted Count. */
export const GPTC = 0x04080;
/** Good Octets Received / Transmitted Count, low and high halves. */
export const GORCL = 0x04088;
export const GORCH = 0x0408c;
export const GOTCL = 0x04090;
export const GOTCH = 0x04094;
/** Receive No Buffers Count. */
export const RNBC = 0x040a0;
/** Receive Undersize / Fragment / Oversize / Jabber Count. */
export const RUC = 0x040a4;
export const RFC = 0x040a8;
export const ROC = 0x040ac;
export const RJC = 0x040b0;
export const MGTPRC = 0x040b4;
export const MGTPDC = 0x040b8;
export const MGTPTC = 0x040bc;
/** Total Octets Received / Transmitted, low and high halves. */
export const TORL = 0x040c0;
export const TORH = 0x040c4;
export const TOTL = 0x040c8;
export const TOTH = 0x040cc;
/** Total Packets Received / Transmitted. */
export const TPR = 0x040d0;
export const TPT = 0x040d4;
/** Packets Transmitted by size (same buckets as PRCxx). */
export const PTC64 = 0x040d8;
export const PTC127 = 0x040dc;
export const PTC255 = 0x040e0;
export const PTC511 = 0x040e4;
export const PTC1023 = 0x040e8;
export const PTC1522 = 0x040ec;
/** Multicast / Broadcast Packets Transmitted Count. */
export const MPTC = 0x040f0;
export const BPTC = 0x040f4;
export const TSCTC = 0x040f8;
export const TSCTFC = 0x040fc;
/** First and last statistics register offsets (inclusive). */
export const STATS_FIRST = CRCERRS;
export const STATS_LAST = TSCTFC;
/** The 64-bit statistics pairs: reading the high half returns it and clears both halves. */
export const STATS_HIGH_HALVES: readonly number[] = [GORCH, GOTCH, TORH, TOTH];

// ---------------------------------------------------------------- filters and wake-up
export const RXCSUM = 0x05000;
/** Multicast Table Array, 128 x 32 bits. */
export const MTA = 0x05200;
export const MTA_ENTRIES = 128;
/** Receive Address Low/High n at RA + 8n / RA + 8n + 4, n = 0..15. */
export const RA = 0x05400;
export const RA_ENTRIES = 16;
/** VLAN Filter Table Array, 128 x 32 bits. */
export const VFTA = 0x05600;
export const VFTA_ENTRIES = 128;
export const WUC = 0x05800;
export const WUFC = 0x05808;
export const WUS = 0x05810;
export const MANC = 0x05820;
export const IPAV = 0x05838;
export const IP4AT = 0x05840;
export const IP6AT = 0x05880;
export const WUPL = 0x05900;
export const WUPM = 0x05a00;
export const FFLT = 0x05f00;
export const FFMT = 0x09000;
export const FFVT = 0x09800;

/** BAR0 size: 128 KiB of MMIO (QEMU PNPMMIO_SIZE). */
export const MMIO_SIZE = 0x20000;
/** Number of 32-bit registers in BAR0. */
export const MMIO_REGS = MMIO_SIZE >> 2;
/** BAR1 size: 64 bytes of I/O ports (QEMU IOPORT_SIZE). */
export const IO_SIZE = 0x40;
/** BAR1 IOADDR: selects the register that IODATA accesses (hardware.md 5.11). */
export const IOADDR = 0x00;
/** BAR1 IODATA: reads/writes the register selected by IOADDR. */
export const IODATA = 0x04;

// ---------------------------------------------------------------- CTRL bits (hardware.md 5.3)
export const CTRL_FD = 1 << 0;
export const CTRL_LRST = 1 << 3;
export const CTRL_ASDE = 1 << 5;
export const CTRL_SLU = 1 << 6;
export const CTRL_ILOS = 1 << 7;
export const CTRL_SPD_1000 = 2 << 8;
export const CTRL_FRCSPD = 1 << 11;
export const CTRL_FRCDPX = 1 << 12;
export const CTRL_SWDPIN0 = 1 << 18;
export const CTRL_SWDPIN2 = 1 << 20;
/** Global device reset, self-clearing. */
export const CTRL_RST = 1 << 26;
export const CTRL_RFCE = 1 << 27;
export const CTRL_TFCE = 1 << 28;
/** VLAN mode enable (tag insertion on TX descriptors with VLE). */
export const CTRL_VME = 1 << 30;
/** PHY reset (asserted while set). */
export const CTRL_PHY_RST = 0x80000000;

// ---------------------------------------------------------------- STATUS bits
export const STATUS_FD = 1 << 0;
export const STATUS_LU = 1 << 1;
export const STATUS_SPEED_1000 = 2 << 6;
export const STATUS_ASDV = 3 << 8;
export const STATUS_MTXCKOK = 1 << 10;
export const STATUS_GIO_MASTER_ENABLE = 1 << 19;
/** QEMU's STATUS reset value sets bit 31 (reserved in the SDM); we keep it for compatibility. */
export const STATUS_BIT31 = 0x80000000;

// ---------------------------------------------------------------- EECD / EERD bits (5.3, 5.8)
export const EECD_SK = 1 << 0;
export const EECD_CS = 1 << 1;
export const EECD_DI = 1 << 2;
export const EECD_DO = 1 << 3;
export const EECD_FWE_MASK = 3 << 4;
export const EECD_REQ = 1 << 6;
export const EECD_GNT = 1 << 7;
export const EECD_PRES = 1 << 8;
/** EECD bits software drives and reads back. */
export const EECD_LATCHED = EECD_SK | EECD_CS | EECD_DI | EECD_FWE_MASK | EECD_REQ;
export const EERD_START = 1 << 0;
export const EERD_DONE = 1 << 4;
export const EERD_ADDR_SHIFT = 8;
export const EERD_ADDR_MASK = 0xff;
export const EERD_DATA_SHIFT = 16;

// ---------------------------------------------------------------- MDIC bits
export const MDIC_DATA_MASK = 0xffff;
export const MDIC_REG_SHIFT = 16;
export const MDIC_REG_MASK = 0x1f;
export const MDIC_PHY_SHIFT = 21;
export const MDIC_PHY_MASK = 0x1f;
export const MDIC_OP_SHIFT = 26;
export const MDIC_OP_MASK = 3;
export const MDIC_OP_WRITE = 1;
export const MDIC_OP_READ = 2;
export const MDIC_READY = 1 << 28;
export const MDIC_INT_EN = 1 << 29;
export const MDIC_ERROR = 1 << 30;
/** The only PHY address the 82540EM's internal PHY answers on. */
export const PHY_ADDRESS = 1;

// ---------------------------------------------------------------- interrupt causes (ICR/ICS/IMS/IMC)
/** Transmit descriptor written back. */
export const ICR_TXDW = 1 << 0;
/** Transmit queue empty. */
export const ICR_TXQE = 1 << 1;
/** Link status change. */
export const ICR_LSC = 1 << 2;
export const ICR_RXSEQ = 1 << 3;
/** Receive descriptor minimum threshold reached. */
export const ICR_RXDMT0 = 1 << 4;
/** Receiver overrun. */
export const ICR_RXO = 1 << 6;
/** Receiver timer interrupt. */
export const ICR_RXT0 = 1 << 7;
/** MDIO access complete. */
export const ICR_MDAC = 1 << 9;
export const ICR_RXCFG = 1 << 10;
export const ICR_TXD_LOW = 1 << 15;
export const ICR_SRPD = 1 << 16;
/** Valid interrupt cause bits of the 82540EM. */
export const ICR_VALID_MASK = 0x0001ffff;
/** Set in the value returned by an ICR read when an enabled cause was pending (real 8254x). */
export const ICR_INT_ASSERTED = 0x80000000;

// ---------------------------------------------------------------- RCTL bits
export const RCTL_RST = 1 << 0;
export const RCTL_EN = 1 << 1;
export const RCTL_SBP = 1 << 2;
export const RCTL_UPE = 1 << 3;
export const RCTL_MPE = 1 << 4;
export const RCTL_LPE = 1 << 5;
export const RCTL_LBM_SHIFT = 6;
export const RCTL_LBM_MASK = 3 << 6;
/** RCTL.LBM = 01: MAC loopback. */
export const RCTL_LBM_MAC = 1 << 6;
export const RCTL_RDMTS_SHIFT = 8;
export const RCTL_RDMTS_MASK = 3 << 8;
export const RCTL_MO_SHIFT = 12;
export const RCTL_MO_MASK = 3 << 12;
export const RCTL_BAM = 1 << 15;
export const RCTL_BSIZE_SHIFT = 16;
export const RCTL_BSIZE_MASK = 3 << 16;
export const RCTL_VFE = 1 << 18;
export const RCTL_CFIEN = 1 << 19;
export const RCTL_CFI = 1 << 20;
export const RCTL_BSEX = 1 << 25;
export const RCTL_SECRC = 1 << 26;

// ---------------------------------------------------------------- TCTL bits
export const TCTL_RST = 1 << 0;
export const TCTL_EN = 1 << 1;
/** Pad short packets to 64 bytes (60 without FCS). */
export const TCTL_PSP = 1 << 3;

// ---------------------------------------------------------------- RAH bits
/** Address valid. */
export const RAH_AV = 0x80000000;

// ---------------------------------------------------------------- interrupt delay registers
/** RDTR/TIDV bit 31: Flush Partial Descriptor block, fires the pending delayed interrupt. */
export const DELAY_FPD = 0x80000000;
/** The delay value field of RDTR/RADV/TIDV/TADV/ITR. */
export const DELAY_VALUE_MASK = 0xffff;
/** RDTR/RADV/TIDV/TADV count in units of 1.024 us (hardware.md 5.5, 6). */
export const DELAY_UNIT_NS = 1024;
/** ITR counts in units of 256 ns (hardware.md 5.5). */
export const ITR_UNIT_NS = 256;
/** RDLEN/TDLEN: ring length in bytes, a multiple of 128 (bits 19:7). */
export const DLEN_MASK = 0x000fff80;
export const DLEN_ALIGN = 128;
/** RDH/RDT/TDH/TDT hold a 16-bit descriptor index. */
export const RING_INDEX_MASK = 0xffff;

// ---------------------------------------------------------------- descriptors (hardware.md 5.4)
/** Size of every descriptor in bytes. */
export const DESC_SIZE = 16;
/** log2(DESC_SIZE): ring lengths (multiples of 128) shift to descriptor counts exactly. */
export const DESC_SHIFT = 4;
/** Byte offsets inside a descriptor. */
export const DESC_ADDR_LO = 0;
export const DESC_ADDR_HI = 4;
export const DESC_LOWER = 8;
export const DESC_UPPER = 12;
/** TX descriptor CMD bits as seen in the lower dword. */
export const TXD_CMD_EOP = 0x01000000;
export const TXD_CMD_IFCS = 0x02000000;
export const TXD_CMD_IC = 0x04000000;
export const TXD_CMD_RS = 0x08000000;
export const TXD_CMD_RPS = 0x10000000;
export const TXD_CMD_DEXT = 0x20000000;
export const TXD_CMD_VLE = 0x40000000;
export const TXD_CMD_IDE = 0x80000000;
/** Extended descriptor type field (lower dword bits 23:20) and values. */
export const TXD_DTYP_SHIFT = 20;
export const TXD_DTYP_MASK = 0xf;
export const TXD_DTYP_CONTEXT = 0;
export const TXD_DTYP_DATA = 1;
/** Context descriptor TUCMD.TSE (TCP segmentation enable), in the lower dword. */
export const TXD_CMD_TSE = 0x04000000;
/** Legacy descriptor length field and data descriptor length field. */
export const TXD_LEGACY_LEN_MASK = 0xffff;
export const TXD_DATA_LEN_MASK = 0xfffff;
/** Upper dword: STA byte bit DD and the data descriptor POPTS bits. */
export const TXD_STAT_DD = 0x00000001;
export const TXD_STAT_MASK = 0x0000000f;
export const TXD_POPTS_IXSM = 0x00000100;
export const TXD_POPTS_TXSM = 0x00000200;
/** RX descriptor byte offsets and status/error bits. */
export const RXD_LENGTH = 8;
export const RXD_CSUM = 10;
export const RXD_STATUS = 12;
export const RXD_ERRORS = 13;
export const RXD_SPECIAL = 14;
export const RXD_STAT_DD = 0x01;
export const RXD_STAT_EOP = 0x02;
export const RXD_STAT_IXSM = 0x04;
export const RXD_STAT_VP = 0x08;
/**
 * RX descriptor error bits for frame errors the PHY/MAC detects on the wire (hardware.md 5.4):
 * CRC (CE), symbol (SE), sequence (SEQ), carrier extension (CXE) and RX_ER (RXE). A frame with
 * any of them is a "bad packet": counted, and stored only with RCTL.SBP (8254x SDM 13.4.22).
 */
export const RXD_ERR_CE = 0x01;
export const RXD_ERR_SE = 0x02;
export const RXD_ERR_SEQ = 0x04;
export const RXD_ERR_CXE = 0x10;
export const RXD_ERR_RXE = 0x80;
export const RXD_ERR_FRAME_MASK = RXD_ERR_CE | RXD_ERR_SE | RXD_ERR_SEQ | RXD_ERR_CXE | RXD_ERR_RXE;

// ---------------------------------------------------------------- PHY registers (hardware.md 5.9)
export const PHY_BMCR = 0x00;
export const PHY_BMSR = 0x01;
export const PHY_ID1 = 0x02;
export const PHY_ID2 = 0x03;
export const PHY_ANAR = 0x04;
export const PHY_ANLPAR = 0x05;
export const PHY_ANER = 0x06;
export const PHY_1000T_CTRL = 0x09;
export const PHY_1000T_STATUS = 0x0a;
export const M88_PHY_SPEC_CTRL = 0x10;
export const M88_PHY_SPEC_STATUS = 0x11;
export const M88_EXT_PHY_SPEC_CTRL = 0x14;
export const M88_RX_ERR_CNTR = 0x15;
export const PHY_REGS = 0x20;
export const BMCR_RESET = 0x8000;
export const BMCR_LOOPBACK = 0x4000;
export const BMCR_ANENABLE = 0x1000;
export const BMCR_ANRESTART = 0x0200;
export const BMSR_LSTATUS = 0x0004;
export const BMSR_ANEGCOMPLETE = 0x0020;
/** PHY identifier of the 82540EM's Marvell 88E1011-class PHY. */
export const PHY_ID1_82540EM = 0x0141;
export const PHY_ID2_82540EM = 0x0c20;

// ---------------------------------------------------------------- EEPROM (hardware.md 5.8)
/** 82540EM EEPROM: 64 16-bit words, 6 address bits. */
export const EEPROM_WORDS = 64;
export const EEPROM_ADDR_BITS = 6;
/** Microwire READ opcode 110b. */
export const EEPROM_READ_OPCODE = 0x6;
export const EEPROM_OPCODE_BITS = 3;
/** Word index holding the checksum and the required 16-bit sum of all 64 words. */
export const EEPROM_CHECKSUM_WORD = 0x3f;
export const EEPROM_SUM = 0xbaba;
