/** Defaults and limits of @side-kernel/side-host. Every one is an option where it is used. */

/** Default physical memory: 256 MiB (the project's convention). */
export const DEFAULT_MEMORY_SIZE = 256 * 1024 * 1024;
/** Frames below 1 MiB are left to "firmware" (the legacy BIOS area on a PC) and never allocated. */
export const LOW_MEMORY_RESERVED = 1024 * 1024;

/** Number of interrupt lines of the interrupt controller (an IOAPIC has 24 redirection entries). */
export const IRQ_LINES = 24;
/**
 * Vector of IRQ line n: ISA_IRQ_VECTOR(n) = 0x30 + n (Linux arch/x86/include/asm/irq_vectors.h:
 * FIRST_EXTERNAL_VECTOR 0x20 rounded up to the next 16 after the 16 system vectors).
 */
export const IRQ_VECTOR_BASE = 0x30;
/**
 * Unhandled interrupts on a line before the kernel disables it ("irq N: nobody cared",
 * Linux kernel/irq/spurious.c: 99 900 of the last 100 000 unhandled).
 */
export const SPURIOUS_IRQ_LIMIT = 100_000;

/** Kernel stack size: 16 KiB (Linux THREAD_SIZE on x86-64 with KASAN off). */
export const KERNEL_STACK_SIZE = 16 * 1024;

/** NAPI budget of one softirq round: Linux netdev_budget = 300 (net/core/dev.c). */
export const NETDEV_BUDGET = 300;
/** Longest qdisc FIFO per device: Linux default txqueuelen 1000 (DEFAULT_TX_QUEUE_LEN). */
export const TX_QUEUE_LEN = 1000;
/** Default MTU of an Ethernet device (ETH_DATA_LEN). */
export const ETH_DATA_LEN = 1500;

/** Lines the kernel log keeps (Linux's log buffer is bytes; ours is lines). */
export const KLOG_LINES = 2048;

/**
 * Livelock guard of the run loop: steps (interrupt deliveries, softirq rounds, work items)
 * allowed in a row without a single device or timer event running. A healthy machine makes
 * progress through events; a storm that never lets one run is a livelock.
 */
export const LIVELOCK_STEPS = 200_000;

/** Addresses remembered after kfree/skb free to tell a double free from a wild free. */
export const FREED_HISTORY = 65_536;

/** Smallest kmalloc size class (SLUB's kmalloc-16 on x86-64 with 8-byte minimum alignment is 8; we use 16). */
export const KMALLOC_MIN = 16;
/** Largest slab size class; anything bigger gets whole pages (SLUB KMALLOC_MAX_CACHE_SIZE = 2 pages; ours 2048). */
export const KMALLOC_SLAB_MAX = 2048;
