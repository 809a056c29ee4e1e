/**
 * Defaults and limits of the net-nic package. Each value names its source.
 */

/** PCI identity of QEMU's `-device e1000` (hardware.md 5.1). */
export const E1000_VENDOR_ID = 0x8086;
export const E1000_DEVICE_ID = 0x100e;
export const E1000_REVISION = 0x03;
export const E1000_CLASS_CODE = 0x020000;
/** QEMU PCI-core default subsystem IDs (hardware.md 5.1, marked unverified there). */
export const E1000_SUBSYSTEM_VENDOR_ID = 0x1af4;
export const E1000_SUBSYSTEM_ID = 0x1100;
export const E1000_CACHE_LINE_SIZE = 0x10;
/** INTA. */
export const E1000_INTERRUPT_PIN = 1;
/** QEMU's default MAC address 52:54:00:12:34:56. */
export const DEFAULT_MAC = "52:54:00:12:34:56";

/** Autonegotiation time of the PHY, as QEMU's autoneg timer (hardware.md 5.9). */
export const AUTONEG_NS = 500_000_000;
/** How many device errors `E1000.errors` keeps; older ones are dropped and counted. */
export const MAX_ERRORS = 64;

/** Ethernet sizes (IEEE 802.3). Frames on the simulated wire carry no FCS. */
export const ETH_HEADER_LEN = 14;
export const ETH_FCS_LEN = 4;
/** Minimum frame without FCS (64 bytes on the wire). */
export const ETH_ZLEN = 60;
/** Maximum standard frame without FCS (1518 on the wire). */
export const ETH_MAX_FRAME = 1514;
export const VLAN_TAG_LEN = 4;
/**
 * Receive size limits without FCS (QEMU e1000_receive_iov, hardware.md 5.7): 1518 bytes
 * (14 + 4 VLAN + 1500) with LPE clear, 16384 - 4 with LPE set.
 */
export const RX_MAX_FRAME = 1518;
export const RX_MAX_FRAME_LPE = 16380;
/** Largest TX frame the 8254x sends without TSO (8254x SDM, jumbo frames: 16288 bytes). */
export const TX_MAX_FRAME = 16288;
/**
 * The 82540EM's on-chip packet buffer: 64 KiB shared by RX and TX, split by PBA (power-on
 * 0x00100030 = 48 KiB RX / 16 KiB TX; hardware.md 5.2 PBA row, Linux e1000_reset E1000_PBA_48K).
 */
export const PACKET_BUFFER_KB = 64;
/**
 * Bytes of TX FIFO a frame occupies beyond its data: a 16-byte header, and the total rounded up
 * to 16 bytes; the FCS is not stored (Linux e1000_main.c E1000_FIFO_HDR 0x10 and
 * `ALIGN(skb->len + E1000_FIFO_HDR, E1000_FIFO_HDR)`; e1000_reset: "the Tx fifo also stores 16
 * bytes of information about the Tx but don't include ethernet FCS because hardware appends it").
 */
export const TX_FIFO_HDR_BYTES = 16;
/** TX staging buffer, as QEMU's 64 KiB `tx.data`. */
export const TX_STAGING_SIZE = 0x10000;

/** Wire overhead per frame: 8 bytes of preamble + SFD and a 12-byte inter-frame gap (IEEE 802.3). */
export const WIRE_PREAMBLE_BYTES = 8;
export const WIRE_IFG_BYTES = 12;
/** Link speeds in bits per second. */
export const SPEED_1G = 1_000_000_000;
export const SPEED_10G = 10_000_000_000;
export const NS_PER_SECOND = 1_000_000_000;
