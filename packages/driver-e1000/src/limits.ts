/**
 * Driver defaults and limits, with Linux's names where Linux has one (e1000.h, e1000_param.c,
 * e1000_hw.c; reference/hardware.md section 6 "Defaults").
 */
import { HZ } from "@side-kernel/kservice";

/** Module and PCI driver name (e1000_driver_name). */
export const E1000_DRIVER_NAME = "e1000";

/** Descriptors per TX ring and per RX ring (E1000_DEFAULT_TXD / E1000_DEFAULT_RXD). */
export const E1000_DEFAULT_TXD = 256;
export const E1000_DEFAULT_RXD = 256;
/** Descriptor ring memory is rounded up to a page (e1000_setup_tx_resources: ALIGN(size, 4096)). */
export const E1000_RING_ALIGN = 4096;

/** Largest frame with a VLAN tag and FCS: the RX buffer length (MAXIMUM_ETHERNET_VLAN_SIZE). */
export const MAXIMUM_ETHERNET_VLAN_SIZE = 1522;

/** Return RX buffers to the hardware in batches of this many (E1000_RX_BUFFER_WRITE). */
export const E1000_RX_BUFFER_WRITE = 16;
/** Wake a stopped TX queue once this many descriptors are free (TX_WAKE_THRESHOLD = 32). */
export const TX_WAKE_THRESHOLD = 32;
/**
 * Stop the TX queue after a transmit leaves fewer free descriptors than this. Linux uses
 * MAX_SKB_FRAGS + 2 for a frame of many fragments; our skbs are linear (one descriptor each),
 * so the driver's brief fixes it at 4.
 */
export const TX_STOP_THRESHOLD = 4;
/** A transmit needs at least this many free descriptors, or it returns NETDEV_TX_BUSY. */
export const TX_BUSY_THRESHOLD = 2;

/** TX Interrupt Delay Value, TIDV (e1000_param.c DEFAULT_TIDV = 8, units of 1.024 us). */
export const DEFAULT_TIDV = 8;
/** TX Absolute Interrupt Delay, TADV (DEFAULT_TADV = 32). */
export const DEFAULT_TADV = 32;
/** RX Delay Timer, RDTR (DEFAULT_RDTR = 0). */
export const DEFAULT_RDTR = 0;
/** RX Absolute Interrupt Delay, RADV (DEFAULT_RADV = 8). */
export const DEFAULT_RADV = 8;
/** Initial interrupt rate of InterruptThrottleRate = 3 (dynamic conservative): 20000 int/s. */
export const DEFAULT_ITR = 20_000;
/** ITR register units: 256 ns (e1000_configure_rx writes 10^9 / (itr * 256)). */
export const ITR_UNIT_NS = 256;
export const NS_PER_SECOND = 1_000_000_000;

/** Watchdog period: 2 s (the 2013-era driver's watchdog timer, mod_timer(jiffies + 2 * HZ)). */
export const E1000_WATCHDOG_INTERVAL = 2 * HZ;
/** Delay before the watchdog runs when an interrupt reports a link change (jiffies + 1). */
export const E1000_WATCHDOG_KICK = 1;

/** msleep after disabling RX/TX before a reset (e1000_reset_hw, e1000_down: msleep(10)). */
export const E1000_QUIESCE_MS = 10;
/** Wait for the EEPROM auto-read after a reset (e1000_get_auto_rd_done: msleep(5)). */
export const E1000_AUTO_READ_DONE_MS = 5;
/** Polls of CTRL.RST, 10 us apart, after the auto-read wait (ours: the reset must self-clear). */
export const E1000_RESET_POLLS = 100;
export const E1000_RESET_POLL_US = 10;

/**
 * Delay per Microwire clock phase (e1000_init_eeprom_params: delay_usec = 50). We keep the
 * real 50 us: reading one word costs about 64 delays (3.2 ms), so the probe's checksum pass
 * over 64 words plus the 3 MAC words busy-waits about 0.21 s of simulated time.
 */
export const EEPROM_MICROWIRE_DELAY_US = 50;
/** Delay between GNT polls (e1000_acquire_eeprom: udelay(5)). */
export const EEPROM_GRANT_POLL_US = 5;
/** Delay between MDIC ready polls (e1000_read_phy_reg_ex: udelay(50)). */
export const PHY_MDIC_POLL_US = 50;

/** The 82540 addresses 32 bits of DMA on a conventional PCI bus (DMA_BIT_MASK(32)). */
export const E1000_DMA_MASK_BITS = 32;
/** Bits in the low half of a 64-bit bus address (TDBAL / RDBAL). */
export const LOW_32_BITS = 2 ** 32;

/** errno EADDRNOTAVAIL (include/uapi/asm-generic/errno.h): ndo_set_mac_address of a bad address. */
export const EADDRNOTAVAIL = 99;
/** Largest buffer one legacy TX descriptor carries (E1000_MAX_DATA_PER_TXD = 1 << 12). */
export const E1000_MAX_DATA_PER_TXD = 4096;
/** net_device.watchdog_timeo: the stack calls ndo_tx_timeout after 5 s of a stopped queue. */
export const E1000_TX_TIMEOUT = 5 * HZ;
