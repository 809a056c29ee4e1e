/**
 * Constants of the kernel API, with Linux's names and values where a driver can see them
 * (include/linux/gfp.h, dma-direction.h, interrupt.h, netdevice.h, errno-base.h, ioport.h,
 * if.h, if_ether.h, skbuff.h, jiffies.h).
 */

/** Linear addresses are 48-bit numbers; a pointer of 0 is NULL. */
export type Ptr = number;
/** A bus address handed to a device (`dma_addr_t`). */
export type DmaAddr = number;
/** A function pointer: the code address of an entry point in a module's text. */
export type CodeAddress = number;

export const NULL = 0;

// errno (include/uapi/asm-generic/errno-base.h); services return -errno on failure.
export const EPERM = 1;
export const ENOENT = 2;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ETIMEDOUT = 110;

// gfp_t (include/linux/gfp_types.h): the bits a driver passes; anything else is rejected.
export const GFP_ATOMIC = 0x820;
export const GFP_KERNEL = 0xcc0;
export const __GFP_ZERO = 0x100;
export const GFP_DMA32 = 0x4;
/** Every gfp bit the kernel accepts from a driver. */
export const GFP_ALLOWED_MASK = GFP_ATOMIC | GFP_KERNEL | __GFP_ZERO | GFP_DMA32;

// enum dma_data_direction (include/linux/dma-direction.h)
export const DMA_BIDIRECTIONAL = 0;
export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
/** `DMA_MAPPING_ERROR` (include/linux/dma-mapping.h): all ones; as a 48-bit number here. */
export const DMA_MAPPING_ERROR = 0xffff_ffff_ffff;

/** DMA_BIT_MASK(n) for n <= 48 as a plain number. */
export function DMA_BIT_MASK(bits: number): number {
  return bits >= 48 ? 0xffff_ffff_ffff : 2 ** bits - 1;
}

// request_irq flags (include/linux/interrupt.h) and handler results
export const IRQF_SHARED = 0x80;
export const IRQ_NONE = 0;
export const IRQ_HANDLED = 1;

// ndo_start_xmit results (include/linux/netdevice.h)
export const NETDEV_TX_OK = 0;
export const NETDEV_TX_BUSY = 0x10;

// net_device.flags (include/uapi/linux/if.h)
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_PROMISC = 0x100;
export const IFF_ALLMULTI = 0x200;
export const IFF_MULTICAST = 0x1000;

/** net_device.state bits (ours; Linux keeps these in dev->state and the TX queue state). */
export const NETDEV_STATE_PRESENT = 0x1;
export const NETDEV_STATE_CARRIER_OK = 0x2;
export const NETDEV_STATE_QUEUE_STOPPED = 0x4;
export const NETDEV_STATE_REGISTERED = 0x8;

// pci resource flags (include/linux/ioport.h)
export const IORESOURCE_IO = 0x100;
export const IORESOURCE_MEM = 0x200;
export const IORESOURCE_PREFETCH = 0x2000;
export const IORESOURCE_MEM_64 = 0x100000;

// PCI
export const PCI_ANY_ID = 0xffff_ffff;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_NUM_RESOURCES = 6;

// Ethernet (include/uapi/linux/if_ether.h) and skb
export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const ETH_ZLEN = 60;
export const ETH_FRAME_LEN = 1514;
export const ETH_FCS_LEN = 4;
export const ETH_P_IP = 0x0800;
export const NET_IP_ALIGN = 2;
export const NET_SKB_PAD = 64;
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const CHECKSUM_NONE = 0;
export const CHECKSUM_UNNECESSARY = 1;

// NAPI
export const NAPI_POLL_WEIGHT = 64;
export const NAPI_STATE_SCHED = 0x1;
export const NAPI_STATE_DISABLED = 0x2;
export const NAPI_STATE_ENABLED = 0x4;

/** Timer ticks per second (CONFIG_HZ). */
export const HZ = 250;
