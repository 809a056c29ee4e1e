/**
 * The driver's own structs in simulated memory, as byte offsets (Linux's e1000.h): the adapter
 * in the net_device's private area (netdev_priv), the TX and RX ring structs (kzalloc'd in
 * probe), and the per-descriptor buffer_info arrays (vzalloc'd in open). The driver keeps no
 * JS state: everything it remembers between calls lives here.
 *
 *   struct e1000_adapter (netdev_priv)           struct e1000_ring (tx and rx)
 *   +0   netdev        *net_device               +0  desc          *descriptors (CPU)
 *   +8   pdev          *pci_dev                  +8  dma           bus address of desc
 *   +16  hwAddr        *u8 ioremapped BAR0       +16 size u32      bytes (4 KiB-rounded)
 *   +24  ioBase u32    I/O BAR port base         +20 count u32     descriptors
 *   +28  flags u32     E1000_FLAG_*              +24 nextToUse u32
 *   +32  bars u32      BARs requested            +28 nextToClean u32
 *   +36  phyId u32                               +32 bufferInfo    *e1000_buffer[count]
 *   +40  txRing        *e1000_ring               +40 head u32      TDH / RDH offset
 *   +48  rxRing        *e1000_ring               +44 tail u32      TDT / RDT offset
 *   +56  napi          napi_struct (32)          +48 SIZE
 *   +88  watchdogTimer timer_list (24)
 *   +112 resetTask     work_struct (16)          struct e1000_buffer (buffer_info)
 *   +128 statsLock     spinlock_t                +0  skb   *sk_buff
 *   +132 txdCmd ... linkDuplex: u32 settings     +8  dma   bus address (0 = unmapped)
 *   +184 permAddr[6]                             +16 length u32 mapped bytes
 *   +192 netdevOps     net_device_ops (64)       +20 nextToWatch u32
 *   +256 hwStats       u64 per STATS_REGISTERS   +24 SIZE
 */
import { NapiStruct, NetDeviceOps, TimerList, WorkStruct } from "@side-kernel/kservice";
import * as R from "./regs.js";

/**
 * Statistics registers the watchdog accumulates (e1000_update_stats), in hwStats order: one
 * u64 counter each. A pair [low, high] is a 64-bit counter read low then high (GORC, GOTC,
 * TOR, TOT); a high of 0 means a 32-bit counter.
 */
export const STATS_REGISTERS: readonly (readonly [low: number, high: number])[] = [
  [R.E1000_CRCERRS, 0],
  [R.E1000_ALGNERRC, 0],
  [R.E1000_SYMERRS, 0],
  [R.E1000_RXERRC, 0],
  [R.E1000_MPC, 0],
  [R.E1000_SCC, 0],
  [R.E1000_ECOL, 0],
  [R.E1000_MCC, 0],
  [R.E1000_LATECOL, 0],
  [R.E1000_COLC, 0],
  [R.E1000_DC, 0],
  [R.E1000_TNCRS, 0],
  [R.E1000_SEC, 0],
  [R.E1000_CEXTERR, 0],
  [R.E1000_RLEC, 0],
  [R.E1000_XONRXC, 0],
  [R.E1000_XONTXC, 0],
  [R.E1000_XOFFRXC, 0],
  [R.E1000_XOFFTXC, 0],
  [R.E1000_FCRUC, 0],
  [R.E1000_PRC64, 0],
  [R.E1000_PRC127, 0],
  [R.E1000_PRC255, 0],
  [R.E1000_PRC511, 0],
  [R.E1000_PRC1023, 0],
  [R.E1000_PRC1522, 0],
  [R.E1000_GPRC, 0],
  [R.E1000_BPRC, 0],
  [R.E1000_MPRC, 0],
  [R.E1000_GPTC, 0],
  [R.E1000_GORCL, R.E1000_GORCH],
  [R.E1000_GOTCL, R.E1000_GOTCH],
  [R.E1000_RNBC, 0],
  [R.E1000_RUC, 0],
  [R.E1000_RFC, 0],
  [R.E1000_ROC, 0],
  [R.E1000_RJC, 0],
  [R.E1000_TORL, R.E1000_TORH],
  [R.E1000_TOTL, R.E1000_TOTH],
  [R.E1000_TPR, 0],
  [R.E1000_TPT, 0],
  [R.E1000_PTC64, 0],
  [R.E1000_PTC127, 0],
  [R.E1000_PTC255, 0],
  [R.E1000_PTC511, 0],
  [R.E1000_PTC1023, 0],
  [R.E1000_PTC1522, 0],
  [R.E1000_MPTC, 0],
  [R.E1000_BPTC, 0],
  [R.E1000_TSCTC, 0],
  [R.E1000_TSCTFC, 0],
];

/** Byte offset of a statistics register's u64 counter inside Adapter.hwStats. */
function statOffset(low: number): number {
  const i = STATS_REGISTERS.findIndex(([l]) => l === low);
  if (i < 0) throw new Error(`statistics register 0x${low.toString(16)} is not in STATS_REGISTERS`);
  return i * 8;
}

/** Offsets inside Adapter.hwStats of the counters the net_device statistics are built from. */
export const HwStats = {
  crcerrs: statOffset(R.E1000_CRCERRS),
  algnerrc: statOffset(R.E1000_ALGNERRC),
  rxerrc: statOffset(R.E1000_RXERRC),
  mpc: statOffset(R.E1000_MPC),
  ecol: statOffset(R.E1000_ECOL),
  latecol: statOffset(R.E1000_LATECOL),
  colc: statOffset(R.E1000_COLC),
  cexterr: statOffset(R.E1000_CEXTERR),
  mprc: statOffset(R.E1000_MPRC),
  rnbc: statOffset(R.E1000_RNBC),
  ruc: statOffset(R.E1000_RUC),
  roc: statOffset(R.E1000_ROC),
  gprc: statOffset(R.E1000_GPRC),
  gptc: statOffset(R.E1000_GPTC),
  gorc: statOffset(R.E1000_GORCL),
  gotc: statOffset(R.E1000_GOTCL),
  SIZE: STATS_REGISTERS.length * 8,
} as const;

/** `struct e1000_adapter`, in netdev_priv(netdev). */
export const Adapter = {
  netdev: 0,
  pdev: 8,
  hwAddr: 16,
  ioBase: 24,
  flags: 28,
  bars: 32,
  phyId: 36,
  txRing: 40,
  rxRing: 48,
  napi: 56,
  watchdogTimer: 56 + NapiStruct.SIZE,
  resetTask: 56 + NapiStruct.SIZE + TimerList.SIZE,
  statsLock: 56 + NapiStruct.SIZE + TimerList.SIZE + WorkStruct.SIZE,
  txdCmd: 132,
  txIntDelay: 136,
  txAbsIntDelay: 140,
  rxIntDelay: 144,
  rxAbsIntDelay: 148,
  itr: 152,
  rxBufferLen: 156,
  eepromWords: 160,
  eepromAddrBits: 164,
  allocRxBuffFailed: 168,
  linkSpeed: 172,
  linkDuplex: 176,
  txTimeoutCount: 180,
  permAddr: 184,
  netdevOps: 192,
  hwStats: 192 + NetDeviceOps.SIZE,
  SIZE: 192 + NetDeviceOps.SIZE + HwStats.SIZE,
} as const;

/** Adapter.flags bits (Linux's adapter->flags __E1000_* and adapter->discarding). */
export const E1000_FLAG_DOWN = 0x1;
/** A frame spanned several RX buffers: drop buffers until its EOP. */
export const E1000_FLAG_DISCARDING = 0x2;
/** The interface is up (open succeeded and close has not run): the reset task may reinit. */
export const E1000_FLAG_UP = 0x4;

/** `struct e1000_tx_ring` / `struct e1000_rx_ring` (one layout for both). */
export const Ring = {
  desc: 0,
  dma: 8,
  size: 16,
  count: 20,
  nextToUse: 24,
  nextToClean: 28,
  bufferInfo: 32,
  head: 40,
  tail: 44,
  SIZE: 48,
} as const;
/** The TX ring (same layout as Ring). */
export const TxRing = Ring;
/** The RX ring (same layout as Ring). */
export const RxRing = Ring;

/** `struct e1000_tx_buffer` / `e1000_rx_buffer` (buffer_info). */
export const BufferInfo = { skb: 0, dma: 8, length: 16, nextToWatch: 20, SIZE: 24 } as const;

/**
 * The module's static data, one kzalloc block made by module init and freed by module exit:
 * the `struct pci_driver`, its name string and its id table.
 */
export const ModuleData = {
  pciDriver: 0,
  name: 32,
  NAME_SIZE: 16,
  idTable: 48,
} as const;
