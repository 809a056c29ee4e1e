/**
 * The kernel service table: every service a driver may call, declared once. The generated API
 * type (`KernelServices`), the checked-call layer's argument checks, the resource ledger's
 * bookkeeping and the docs all come from this table.
 *
 * Every argument and result is a number (pointers are 48-bit linear addresses, function
 * pointers are code addresses), except `str` arguments, which are host strings (a name or a
 * log line) copied by value, so they cannot point anywhere.
 */

import {
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  GFP_ALLOWED_MASK,
  IORESOURCE_IO,
  IORESOURCE_MEM,
  IRQF_SHARED,
} from "./constants.js";
import { DelayedWork, NapiStruct, PciDriver, Spinlock, TimerList, WorkStruct } from "./layouts.js";

/** Kinds of resource a driver domain can hold; the ledger keeps one set per kind. */
export const RESOURCE_KINDS = [
  "heap",
  "vmem",
  "dma-coherent",
  "dma-map",
  "pci-driver",
  "pci-enable",
  "pci-regions",
  "iomap",
  "irq",
  "netdev",
  "netdev-registered",
  "napi",
  "skb",
  "timer",
  "work",
  "lock",
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** Kernel objects the kernel hands a driver; a `handle` argument must be one this domain owns. */
export type HandleKind = ResourceKind | "pci-dev";

/** How an argument is checked when it crosses into the kernel. */
export type ArgSpec =
  /** A pointer to `len` bytes (a constant, or the value of argument `lenArg`, times `scale`) that must lie in the caller's region. */
  | {
      readonly kind: "ptr";
      readonly name: string;
      readonly access: "r" | "w" | "rw";
      readonly len?: number;
      readonly lenArg?: number;
      readonly nullable?: boolean;
    }
  /** A live object of this kind that the calling domain owns (0 allowed when nullable, as kfree(NULL)). */
  | { readonly kind: "handle"; readonly name: string; readonly of: HandleKind; readonly nullable?: boolean }
  /** A size or count in [min, max]. */
  | { readonly kind: "size"; readonly name: string; readonly min?: number; readonly max: number }
  /** Flags: no bit outside `mask`. */
  | { readonly kind: "flags"; readonly name: string; readonly mask: number }
  /** One of a set of values. */
  | { readonly kind: "enum"; readonly name: string; readonly values: readonly number[] }
  /** A function pointer: must be an entry point of the caller's module. */
  | { readonly kind: "fn"; readonly name: string }
  /** A host string of at most `max` characters. */
  | { readonly kind: "str"; readonly name: string; readonly max: number }
  /** An IRQ line that belongs to one of the caller's devices. */
  | { readonly kind: "irq"; readonly name: string }
  /** Any 32-bit or 48-bit value the kernel does not interpret (a cookie, jiffies, a mask). */
  | { readonly kind: "value"; readonly name: string };

/** What a service returns, for the docs and the fault report. */
export type ReturnKind = "void" | "ptr" | "errno" | "bool" | "int" | "dma";

/** The resource change an accepted call makes. `arg` is an argument index; "ret" the result. */
export type Effect =
  | { readonly acquires: ResourceKind; readonly key: number | "ret" }
  | { readonly releases: ResourceKind; readonly key: number };

/**
 * What the resource virtualization layer (RVL) may do with the call in isolated mode:
 * `local`: answered inside the domain with no crossing (spinlocks, skb helpers, macros);
 * `batch`: queued and handed over at the end of an interrupt or poll (SIDE's batched submit);
 * `pretranslate`: answered from the domain's pre-translated DMA pool (SIDE's optimization 3).
 */
export type RvlMode = "local" | "batch" | "pretranslate";

/** One kernel service. `cost` is the kernel's own work per call in cycles (see `costNote`). */
export interface ServiceSpec {
  readonly args: readonly ArgSpec[];
  readonly returns: ReturnKind;
  readonly effect?: Effect;
  readonly rvl?: RvlMode;
  readonly cost: number;
  readonly doc: string;
}

const MiB = 1024 * 1024;
const KMALLOC_MAX = 4 * MiB; // KMALLOC_MAX_SIZE with SLUB, order-10 pages (include/linux/slab.h)
const VMALLOC_MAX = 64 * MiB; // our limit for one vzalloc in a 256 MiB machine
const PKT_MAX = 16 * 1024; // largest buffer the 8254x can DMA per descriptor (BSEX 16384)
const JIFFY_MAX = 0x7fff_ffff;

const gfp = { kind: "flags", name: "gfp", mask: GFP_ALLOWED_MASK } as const;
const pdev = { kind: "handle", name: "pdev", of: "pci-dev" } as const;
const netdev = { kind: "handle", name: "dev", of: "netdev" } as const;
const skb = { kind: "handle", name: "skb", of: "skb" } as const;
const napi = { kind: "handle", name: "napi", of: "napi" } as const;
const dir = {
  kind: "enum",
  name: "dir",
  values: [DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE],
} as const;
const bar = { kind: "size", name: "bar", max: 5 } as const;
const lock = { kind: "ptr", name: "lock", access: "rw", len: Spinlock.SIZE } as const;
const msg = { kind: "str", name: "msg", max: 1024 } as const;

/*
 * Per-call kernel work, in cycles at 3 GHz. These are our estimates from the kind of work each
 * call does in Linux, not measurements: an allocator fast path (SLUB ~20-40 ns, i.e. ~100
 * cycles), a direct-mapped DMA mapping without an IOMMU (an address computation, ~20 cycles),
 * a list or bit update (~20-50 cycles), a PCI config access (~1 us through CF8/CFC, charged by
 * the bus model separately). Every figure can be overridden through the cost model.
 */
const C_TRIVIAL = 10;
const C_BITOP = 20;
const C_LIST = 50;
const C_ALLOC = 100;
const C_DMA_MAP = 20;
const C_REGISTER = 2_000;

/** The table. Names are Linux's. */
export const SERVICES = {
  // memory
  kmalloc: {
    args: [{ kind: "size", name: "size", min: 1, max: KMALLOC_MAX }, gfp],
    returns: "ptr",
    effect: { acquires: "heap", key: "ret" },
    cost: C_ALLOC,
    doc: "Allocate `size` bytes of kernel heap; NULL on failure.",
  },
  kzalloc: {
    args: [{ kind: "size", name: "size", min: 1, max: KMALLOC_MAX }, gfp],
    returns: "ptr",
    effect: { acquires: "heap", key: "ret" },
    cost: C_ALLOC,
    doc: "kmalloc, zeroed.",
  },
  kcalloc: {
    args: [
      { kind: "size", name: "n", max: KMALLOC_MAX },
      { kind: "size", name: "size", min: 1, max: KMALLOC_MAX },
      gfp,
    ],
    returns: "ptr",
    effect: { acquires: "heap", key: "ret" },
    cost: C_ALLOC,
    doc: "Zeroed array of n elements; NULL on overflow or failure.",
  },
  kfree: {
    args: [{ kind: "handle", name: "ptr", of: "heap", nullable: true }],
    returns: "void",
    effect: { releases: "heap", key: 0 },
    cost: C_ALLOC,
    doc: "Free a kmalloc block; kfree(NULL) does nothing.",
  },
  vzalloc: {
    args: [{ kind: "size", name: "size", min: 1, max: VMALLOC_MAX }],
    returns: "ptr",
    effect: { acquires: "vmem", key: "ret" },
    cost: C_ALLOC * 4,
    doc: "Zeroed virtually contiguous memory.",
  },
  vfree: {
    args: [{ kind: "handle", name: "ptr", of: "vmem", nullable: true }],
    returns: "void",
    effect: { releases: "vmem", key: 0 },
    cost: C_ALLOC * 4,
    doc: "Free vzalloc memory; vfree(NULL) does nothing.",
  },

  // DMA
  dma_set_mask_and_coherent: {
    args: [pdev, { kind: "value", name: "mask" }],
    returns: "errno",
    cost: C_TRIVIAL,
    doc: "Declare the device's DMA addressing limit; -EIO if memory cannot be reached with it.",
  },
  dma_alloc_coherent: {
    args: [
      pdev,
      { kind: "size", name: "size", min: 1, max: KMALLOC_MAX },
      { kind: "ptr", name: "dma_handle", access: "w", len: 8 },
      gfp,
    ],
    returns: "ptr",
    effect: { acquires: "dma-coherent", key: "ret" },
    cost: C_ALLOC * 4,
    doc: "Allocate page-aligned DMA-coherent memory; writes its bus address to *dma_handle.",
  },
  dma_free_coherent: {
    args: [
      pdev,
      { kind: "size", name: "size", min: 1, max: KMALLOC_MAX },
      { kind: "handle", name: "cpu_addr", of: "dma-coherent" },
      { kind: "value", name: "dma_handle" },
    ],
    returns: "void",
    effect: { releases: "dma-coherent", key: 2 },
    cost: C_ALLOC * 4,
    doc: "Free dma_alloc_coherent memory.",
  },
  dma_map_single: {
    args: [
      pdev,
      { kind: "ptr", name: "ptr", access: "rw", lenArg: 2 },
      { kind: "size", name: "size", min: 1, max: PKT_MAX },
      dir,
    ],
    returns: "dma",
    effect: { acquires: "dma-map", key: "ret" },
    rvl: "pretranslate",
    cost: C_DMA_MAP,
    doc: "Map a buffer for streaming DMA; DMA_MAPPING_ERROR on failure.",
  },
  dma_unmap_single: {
    args: [
      pdev,
      { kind: "handle", name: "dma", of: "dma-map" },
      { kind: "size", name: "size", min: 1, max: PKT_MAX },
      dir,
    ],
    returns: "void",
    effect: { releases: "dma-map", key: 1 },
    rvl: "pretranslate",
    cost: C_DMA_MAP,
    doc: "Unmap a streaming DMA mapping.",
  },
  dma_mapping_error: {
    args: [pdev, { kind: "value", name: "dma" }],
    returns: "bool",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "True if a dma_map_single result is DMA_MAPPING_ERROR.",
  },
  dma_sync_single_for_cpu: {
    args: [
      pdev,
      { kind: "handle", name: "dma", of: "dma-map" },
      { kind: "size", name: "size", min: 1, max: PKT_MAX },
      dir,
    ],
    returns: "void",
    rvl: "pretranslate",
    cost: C_TRIVIAL,
    doc: "Make device-written data visible to the CPU (a no-op on coherent x86).",
  },

  // PCI
  pci_register_driver: {
    args: [{ kind: "ptr", name: "drv", access: "r", len: PciDriver.SIZE }],
    returns: "errno",
    effect: { acquires: "pci-driver", key: 0 },
    cost: C_REGISTER,
    doc: "Register a PCI driver and probe every matching unclaimed device.",
  },
  pci_unregister_driver: {
    args: [{ kind: "handle", name: "drv", of: "pci-driver" }],
    returns: "void",
    effect: { releases: "pci-driver", key: 0 },
    cost: C_REGISTER,
    doc: "Call remove for every bound device and unregister the driver.",
  },
  pci_enable_device: {
    args: [pdev],
    returns: "errno",
    effect: { acquires: "pci-enable", key: 0 },
    cost: C_REGISTER,
    doc: "Enable I/O and memory decode of the device.",
  },
  pci_disable_device: {
    args: [pdev],
    returns: "void",
    effect: { releases: "pci-enable", key: 0 },
    cost: C_REGISTER,
    doc: "Disable decode and bus mastering.",
  },
  pci_select_bars: {
    args: [pdev, { kind: "flags", name: "flags", mask: IORESOURCE_IO | IORESOURCE_MEM }],
    returns: "int",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Bitmask of BARs whose resource flags match.",
  },
  pci_request_selected_regions: {
    args: [pdev, { kind: "flags", name: "bars", mask: 0x3f }, { kind: "str", name: "name", max: 64 }],
    returns: "errno",
    effect: { acquires: "pci-regions", key: 0 },
    cost: C_LIST,
    doc: "Claim the selected BARs' ranges; -EBUSY if another owner holds one.",
  },
  pci_release_selected_regions: {
    args: [pdev, { kind: "flags", name: "bars", mask: 0x3f }],
    returns: "void",
    effect: { releases: "pci-regions", key: 0 },
    cost: C_LIST,
    doc: "Release regions claimed by pci_request_selected_regions.",
  },
  pci_set_master: {
    args: [pdev],
    returns: "void",
    cost: C_REGISTER,
    doc: "Set Command.BusMaster so the device may DMA.",
  },
  pci_ioremap_bar: {
    args: [pdev, bar],
    returns: "ptr",
    effect: { acquires: "iomap", key: "ret" },
    cost: C_REGISTER,
    doc: "Map a memory BAR uncached into the caller's address space; NULL if it is not a memory BAR.",
  },
  iounmap: {
    args: [{ kind: "handle", name: "addr", of: "iomap" }],
    returns: "void",
    effect: { releases: "iomap", key: 0 },
    cost: C_REGISTER,
    doc: "Remove a mapping made by pci_ioremap_bar.",
  },
  pci_resource_start: {
    args: [pdev, bar],
    returns: "int",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Start of BAR `bar` (0 if absent).",
  },
  pci_resource_len: {
    args: [pdev, bar],
    returns: "int",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Length of BAR `bar` (0 if absent).",
  },
  pci_resource_flags: {
    args: [pdev, bar],
    returns: "int",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "IORESOURCE_* flags of BAR `bar`.",
  },
  pci_read_config_word: {
    args: [
      pdev,
      { kind: "size", name: "where", max: 0xffe },
      { kind: "ptr", name: "val", access: "w", len: 2 },
    ],
    returns: "errno",
    cost: C_LIST,
    doc: "Read a 16-bit configuration register into *val.",
  },
  pci_set_drvdata: {
    args: [pdev, { kind: "value", name: "data" }],
    returns: "void",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Store the driver's pointer in pdev->driver_data.",
  },
  pci_get_drvdata: {
    args: [pdev],
    returns: "int",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Read pdev->driver_data.",
  },
  pci_save_state: {
    args: [pdev],
    returns: "errno",
    cost: C_REGISTER,
    doc: "Save the configuration header for pci_restore_state.",
  },
  pci_restore_state: {
    args: [pdev],
    returns: "void",
    cost: C_REGISTER,
    doc: "Write back the configuration header saved by pci_save_state.",
  },

  // IRQ
  request_irq: {
    args: [
      { kind: "irq", name: "irq" },
      { kind: "fn", name: "handler" },
      { kind: "flags", name: "flags", mask: IRQF_SHARED },
      { kind: "str", name: "name", max: 64 },
      { kind: "value", name: "dev_id" },
    ],
    returns: "errno",
    effect: { acquires: "irq", key: 0 },
    cost: C_REGISTER,
    doc: "Install an interrupt handler; -EBUSY if the line is taken without IRQF_SHARED.",
  },
  free_irq: {
    args: [
      { kind: "handle", name: "irq", of: "irq" },
      { kind: "value", name: "dev_id" },
    ],
    returns: "void",
    effect: { releases: "irq", key: 0 },
    cost: C_REGISTER,
    doc: "Remove the handler installed with this dev_id, after it has finished running.",
  },
  synchronize_irq: {
    args: [{ kind: "irq", name: "irq" }],
    returns: "void",
    cost: C_LIST,
    doc: "Wait until no handler of this line is running.",
  },

  // netdev
  alloc_etherdev: {
    args: [{ kind: "size", name: "sizeof_priv", max: 64 * 1024 }],
    returns: "ptr",
    effect: { acquires: "netdev", key: "ret" },
    cost: C_ALLOC * 4,
    doc: "Allocate an Ethernet net_device with a zeroed private area; NULL on failure.",
  },
  free_netdev: {
    args: [netdev],
    returns: "void",
    effect: { releases: "netdev", key: 0 },
    cost: C_ALLOC * 4,
    doc: "Free a net_device that is not registered.",
  },
  netdev_priv: {
    args: [netdev],
    returns: "ptr",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Address of the driver's private area.",
  },
  register_netdev: {
    args: [netdev],
    returns: "errno",
    effect: { acquires: "netdev-registered", key: 0 },
    cost: C_REGISTER,
    doc: "Publish the interface (name eth%d); validates MAC, MTU and ops.",
  },
  unregister_netdev: {
    args: [netdev],
    returns: "void",
    effect: { releases: "netdev-registered", key: 0 },
    cost: C_REGISTER,
    doc: "Bring the interface down (ndo_stop) and withdraw it.",
  },
  netif_start_queue: {
    args: [netdev],
    returns: "void",
    cost: C_BITOP,
    doc: "Allow the stack to call ndo_start_xmit.",
  },
  netif_stop_queue: {
    args: [netdev],
    returns: "void",
    cost: C_BITOP,
    doc: "Stop the stack from calling ndo_start_xmit.",
  },
  netif_wake_queue: {
    args: [netdev],
    returns: "void",
    cost: C_LIST,
    doc: "Restart a stopped queue and reschedule pending transmits.",
  },
  netif_queue_stopped: {
    args: [netdev],
    returns: "bool",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "True if the TX queue is stopped.",
  },
  netif_carrier_on: { args: [netdev], returns: "void", cost: C_LIST, doc: "Report link up." },
  netif_carrier_off: { args: [netdev], returns: "void", cost: C_LIST, doc: "Report link down." },
  netif_carrier_ok: {
    args: [netdev],
    returns: "bool",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "True if the carrier is up.",
  },
  netdev_sent_queue: {
    args: [netdev, { kind: "size", name: "bytes", max: PKT_MAX }],
    returns: "void",
    rvl: "batch",
    cost: C_BITOP,
    doc: "Byte-queue-limit accounting of bytes handed to the device.",
  },
  netdev_completed_queue: {
    args: [
      netdev,
      { kind: "size", name: "pkts", max: 65536 },
      { kind: "size", name: "bytes", max: 0x7fff_ffff },
    ],
    returns: "void",
    rvl: "batch",
    cost: C_BITOP,
    doc: "Byte-queue-limit accounting of completed transmits.",
  },
  eth_type_trans: {
    args: [skb, netdev],
    returns: "int",
    rvl: "local",
    cost: C_BITOP,
    doc: "Set skb->dev and pkt_type, pull the Ethernet header, return the protocol (network order).",
  },
  is_valid_ether_addr: {
    args: [{ kind: "ptr", name: "addr", access: "r", len: 6 }],
    returns: "bool",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "True unless the address is multicast or all zeros.",
  },

  // NAPI
  netif_napi_add: {
    args: [
      netdev,
      { kind: "ptr", name: "napi", access: "rw", len: NapiStruct.SIZE },
      { kind: "fn", name: "poll" },
      { kind: "size", name: "weight", min: 1, max: 64 },
    ],
    returns: "void",
    effect: { acquires: "napi", key: 1 },
    cost: C_LIST,
    doc: "Register a NAPI context with its poll function.",
  },
  netif_napi_del: {
    args: [napi],
    returns: "void",
    effect: { releases: "napi", key: 0 },
    cost: C_LIST,
    doc: "Unregister a NAPI context.",
  },
  napi_enable: {
    args: [napi],
    returns: "void",
    cost: C_BITOP,
    doc: "Allow the NAPI context to be scheduled.",
  },
  napi_disable: {
    args: [napi],
    returns: "void",
    cost: C_LIST,
    doc: "Wait for a running poll to finish and prevent scheduling.",
  },
  napi_schedule: {
    args: [napi],
    returns: "void",
    cost: C_LIST,
    doc: "Schedule the poll function in softirq context.",
  },
  napi_complete_done: {
    args: [napi, { kind: "size", name: "work_done", max: 64 }],
    returns: "bool",
    cost: C_LIST,
    doc: "Leave polling mode; false if the poll must continue.",
  },
  napi_gro_receive: {
    args: [napi, skb],
    returns: "int",
    effect: { releases: "skb", key: 1 },
    rvl: "batch",
    cost: C_LIST,
    doc: "Hand a received skb to the stack (its ownership passes to the kernel).",
  },
  netif_receive_skb: {
    args: [skb],
    returns: "int",
    effect: { releases: "skb", key: 0 },
    rvl: "batch",
    cost: C_LIST,
    doc: "Hand a received skb to the stack (its ownership passes to the kernel).",
  },

  // skb
  netdev_alloc_skb: {
    args: [netdev, { kind: "size", name: "length", min: 1, max: PKT_MAX }],
    returns: "ptr",
    effect: { acquires: "skb", key: "ret" },
    cost: C_ALLOC,
    doc: "Allocate an skb with `length` bytes of data room and NET_SKB_PAD headroom; NULL on failure.",
  },
  napi_alloc_skb: {
    args: [napi, { kind: "size", name: "length", min: 1, max: PKT_MAX }],
    returns: "ptr",
    effect: { acquires: "skb", key: "ret" },
    cost: C_ALLOC,
    doc: "netdev_alloc_skb for the NAPI context's device, with NET_IP_ALIGN.",
  },
  dev_kfree_skb_any: {
    args: [skb],
    returns: "void",
    effect: { releases: "skb", key: 0 },
    rvl: "batch",
    cost: C_ALLOC,
    doc: "Free an skb from any context.",
  },
  skb_put: {
    args: [skb, { kind: "size", name: "len", max: PKT_MAX }],
    returns: "ptr",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Extend the data by len bytes at the tail; returns the old tail. Overrunning the buffer is a fault (skb_over_panic).",
  },
  skb_reserve: {
    args: [skb, { kind: "size", name: "len", max: PKT_MAX }],
    returns: "void",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Reserve headroom in an empty skb.",
  },
  skb_trim: {
    args: [skb, { kind: "size", name: "len", max: PKT_MAX }],
    returns: "void",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Cut the data to len bytes.",
  },
  eth_skb_pad: {
    args: [skb],
    returns: "errno",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Zero-pad a frame to ETH_ZLEN.",
  },

  // timers and work
  timer_setup: {
    args: [
      { kind: "ptr", name: "timer", access: "rw", len: TimerList.SIZE },
      { kind: "fn", name: "callback" },
      { kind: "flags", name: "flags", mask: 0 },
    ],
    returns: "void",
    cost: C_BITOP,
    doc: "Initialise a timer with its callback.",
  },
  mod_timer: {
    args: [
      { kind: "ptr", name: "timer", access: "rw", len: TimerList.SIZE },
      { kind: "value", name: "expires" },
    ],
    returns: "int",
    effect: { acquires: "timer", key: 0 },
    cost: C_LIST,
    doc: "(Re)arm a timer for `expires` jiffies; 1 if it was pending.",
  },
  del_timer_sync: {
    args: [{ kind: "ptr", name: "timer", access: "rw", len: TimerList.SIZE }],
    returns: "int",
    effect: { releases: "timer", key: 0 },
    cost: C_LIST,
    doc: "Deactivate a timer and wait for its callback; 1 if it was pending.",
  },
  INIT_WORK: {
    args: [
      { kind: "ptr", name: "work", access: "rw", len: WorkStruct.SIZE },
      { kind: "fn", name: "func" },
    ],
    returns: "void",
    cost: C_BITOP,
    doc: "Initialise a work item.",
  },
  INIT_DELAYED_WORK: {
    args: [
      { kind: "ptr", name: "dwork", access: "rw", len: DelayedWork.SIZE },
      { kind: "fn", name: "func" },
    ],
    returns: "void",
    cost: C_BITOP,
    doc: "Initialise a delayed work item.",
  },
  schedule_work: {
    args: [{ kind: "ptr", name: "work", access: "rw", len: WorkStruct.SIZE }],
    returns: "bool",
    effect: { acquires: "work", key: 0 },
    cost: C_LIST,
    doc: "Queue a work item; false if already queued.",
  },
  schedule_delayed_work: {
    args: [
      { kind: "ptr", name: "dwork", access: "rw", len: DelayedWork.SIZE },
      { kind: "size", name: "delay", max: JIFFY_MAX },
    ],
    returns: "bool",
    effect: { acquires: "work", key: 0 },
    cost: C_LIST,
    doc: "Queue a work item after `delay` jiffies; false if already queued.",
  },
  cancel_work_sync: {
    args: [{ kind: "ptr", name: "work", access: "rw", len: WorkStruct.SIZE }],
    returns: "bool",
    effect: { releases: "work", key: 0 },
    cost: C_LIST,
    doc: "Cancel a work item and wait for it; true if it was pending.",
  },
  cancel_delayed_work_sync: {
    args: [{ kind: "ptr", name: "dwork", access: "rw", len: DelayedWork.SIZE }],
    returns: "bool",
    effect: { releases: "work", key: 0 },
    cost: C_LIST,
    doc: "Cancel a delayed work item and wait for it; true if it was pending.",
  },

  // locks (answered by the RVL in isolated mode, against a virtual interrupt flag)
  spin_lock_init: {
    args: [lock],
    returns: "void",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Initialise a spinlock.",
  },
  spin_lock: {
    args: [lock],
    returns: "void",
    effect: { acquires: "lock", key: 0 },
    rvl: "local",
    cost: C_BITOP,
    doc: "Take a spinlock (preempt count + 1). Taking a held lock on one CPU is a deadlock fault.",
  },
  spin_unlock: {
    args: [lock],
    returns: "void",
    effect: { releases: "lock", key: 0 },
    rvl: "local",
    cost: C_BITOP,
    doc: "Release a spinlock.",
  },
  spin_lock_irqsave: {
    args: [lock],
    returns: "int",
    effect: { acquires: "lock", key: 0 },
    rvl: "local",
    cost: C_BITOP,
    doc: "Disable interrupts, take the lock, return the previous interrupt state.",
  },
  spin_unlock_irqrestore: {
    args: [lock, { kind: "value", name: "flags" }],
    returns: "void",
    effect: { releases: "lock", key: 0 },
    rvl: "local",
    cost: C_BITOP,
    doc: "Release the lock and restore the interrupt state.",
  },

  // delays and time
  msleep: {
    args: [{ kind: "size", name: "msecs", max: 60_000 }],
    returns: "void",
    cost: C_LIST,
    doc: "Sleep: simulated time passes and other work runs.",
  },
  udelay: {
    args: [{ kind: "size", name: "usecs", max: 5_000 }],
    returns: "void",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Busy-wait (the CPU is charged for the time). Over MAX_UDELAY_MS (5 ms on x86) is rejected.",
  },
  mdelay: {
    args: [{ kind: "size", name: "msecs", max: 1_000 }],
    returns: "void",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "Busy-wait in milliseconds.",
  },
  jiffies: {
    args: [],
    returns: "int",
    rvl: "local",
    cost: C_TRIVIAL,
    doc: "The tick counter (HZ per second).",
  },

  // logging
  printk: { args: [msg], returns: "void", cost: C_LIST, doc: "Log a line." },
  netdev_err: { args: [netdev, msg], returns: "void", cost: C_LIST, doc: "Log an error for the interface." },
  netdev_info: {
    args: [netdev, msg],
    returns: "void",
    cost: C_LIST,
    doc: "Log information for the interface.",
  },
  dev_err: { args: [pdev, msg], returns: "void", cost: C_LIST, doc: "Log an error for the device." },
} as const satisfies Record<string, ServiceSpec>;

/** Every service name. */
export type ServiceName = keyof typeof SERVICES;

type ArgValue<A> = A extends { readonly kind: "str" } ? string : number;
type ArgValues<T extends readonly unknown[]> = { -readonly [I in keyof T]: ArgValue<T[I]> };

/** The services as callable functions, derived from the table: what `k` carries besides accessors. */
export type KernelServices = {
  [N in ServiceName]: (...args: ArgValues<(typeof SERVICES)[N]["args"]>) => number;
};

/** Look up a service's spec by name; undefined for an unknown service. */
export function serviceSpec(name: string): ServiceSpec | undefined {
  return Object.hasOwn(SERVICES, name) ? (SERVICES as Record<string, ServiceSpec>)[name] : undefined;
}
