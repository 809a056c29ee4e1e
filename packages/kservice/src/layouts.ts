/**
 * Struct layouts of the kernel objects a network driver touches, as byte offsets into simulated
 * memory (C's `offsetof`). Kernel objects are pointers with fixed layouts, not JS objects, so a
 * wild driver write lands in real bytes that the kernel later reads (DESIGN.md, "Execution
 * contexts and the kernel API").
 *
 * The layouts keep the fields a Linux network driver uses, under Linux's names, in an order
 * and size of our own; `SIZE` is the allocation size. Pointers and function pointers are 8
 * bytes (a function pointer is a code address in a module's text, see `CodeAddress`).
 *
 *   struct sk_buff                       struct net_device
 *   +0  next        *sk_buff             +0   name[16]
 *   +8  dev         *net_device          +16  netdev_ops   *net_device_ops
 *   +16 head        *u8  buffer start    +24  dev_addr[6]  (+ 2 pad)
 *   +24 data        *u8  packet start    +32  parent       *pci_dev
 *   +32 len         u32                  +40  flags u32 (IFF_*)   +44 mtu u32
 *   +36 tail        u32  offset from head +48  state u32 (__LINK_STATE_*, queue state)
 *   +40 end         u32  offset from head +52  irq u32     +56 features u32  +60 watchdog_timeo
 *   +44 protocol    u16 (network order)  +64  stats: rx/tx packets, bytes, dropped, errors (u64)
 *   +46 pkt_type u8  +47 ip_summed u8     +192 private area (netdev_priv), 32-byte aligned
 *   +48 truesize u32 +52 queue_mapping u32
 *   +56 cb[48]      driver scratch
 */

/** `struct sk_buff`. */
export const SkBuff = {
  next: 0,
  dev: 8,
  head: 16,
  data: 24,
  len: 32,
  tail: 36,
  end: 40,
  protocol: 44,
  pktType: 46,
  ipSummed: 47,
  truesize: 48,
  queueMapping: 52,
  cb: 56,
  CB_SIZE: 48,
  SIZE: 104,
} as const;

/** `struct net_device`; the driver's private area follows at `PRIV` (netdev_priv). */
export const NetDevice = {
  name: 0,
  NAME_SIZE: 16,
  netdevOps: 16,
  devAddr: 24,
  parent: 32,
  flags: 40,
  mtu: 44,
  state: 48,
  irq: 52,
  features: 56,
  watchdogTimeo: 60,
  stats: 64,
  PRIV: 192,
  SIZE: 192,
} as const;

/** `struct net_device_stats` inside net_device at `NetDevice.stats`; each counter a u64. */
export const NetDeviceStats = {
  rxPackets: 0,
  txPackets: 8,
  rxBytes: 16,
  txBytes: 24,
  rxErrors: 32,
  txErrors: 40,
  rxDropped: 48,
  txDropped: 56,
  multicast: 64,
  collisions: 72,
  rxCrcErrors: 80,
  rxMissedErrors: 88,
  rxOverErrors: 96,
  txAbortedErrors: 104,
  SIZE: 128,
} as const;

/** `struct net_device_ops`: function pointers (code addresses); 0 = not provided. */
export const NetDeviceOps = {
  ndoOpen: 0,
  ndoStop: 8,
  ndoStartXmit: 16,
  ndoSetRxMode: 24,
  ndoSetMacAddress: 32,
  ndoTxTimeout: 40,
  ndoChangeMtu: 48,
  ndoValidateAddr: 56,
  SIZE: 64,
} as const;

/** `struct pci_dev`: filled by the kernel, read by the driver (`resource[i]` is 24 bytes). */
export const PciDev = {
  vendor: 0,
  device: 2,
  subsystemVendor: 4,
  subsystemDevice: 6,
  class: 8,
  revision: 12,
  irq: 16,
  devfn: 20,
  bus: 22,
  dmaMask: 24,
  driverData: 32,
  resource: 40,
  RESOURCE_SIZE: 24,
  RESOURCE_COUNT: 6,
  SIZE: 184,
} as const;

/** `struct resource` inside pci_dev: start, end (inclusive) and flags (IORESOURCE_*). */
export const Resource = { start: 0, end: 8, flags: 16, SIZE: 24 } as const;

/** `struct pci_device_id`; a table ends with an all-zero entry. */
export const PciDeviceId = {
  vendor: 0,
  device: 4,
  subvendor: 8,
  subdevice: 12,
  class: 16,
  classMask: 20,
  driverData: 24,
  SIZE: 32,
} as const;

/** `struct pci_driver`: name (C string pointer), id table pointer, probe and remove. */
export const PciDriver = { name: 0, idTable: 8, probe: 16, remove: 24, SIZE: 32 } as const;

/** `struct napi_struct`. */
export const NapiStruct = { poll: 0, dev: 8, weight: 16, state: 20, SIZE: 32 } as const;

/** `struct timer_list`: `expires` is in jiffies. */
export const TimerList = { function: 0, expires: 8, flags: 16, SIZE: 24 } as const;

/** `struct work_struct`; `delayed_work` is a work_struct followed by a timer_list. */
export const WorkStruct = { func: 0, data: 8, SIZE: 16 } as const;

/** `struct delayed_work`. */
export const DelayedWork = {
  work: 0,
  timer: WorkStruct.SIZE,
  SIZE: WorkStruct.SIZE + TimerList.SIZE,
} as const;

/** `spinlock_t`: the lock word (0 = free, 1 = held). */
export const Spinlock = { locked: 0, SIZE: 4 } as const;
