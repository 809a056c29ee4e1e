/**
 * Intel 82540EM (e1000) device model.
 *
 * Implements the 8254x behaviour described in /work/shared/reference/hardware.md section 5 (QEMU
 * hw/net/e1000.c as the baseline), and the real-hardware behaviour where QEMU simplifies
 * (section 5.11): CTRL.RST and the IOADDR/IODATA port window perform a real reset, every
 * statistics register clears on read, ICR reads report INT_ASSERTED, TIDV/TADV/RDTR/RADV/ITR are
 * modelled as the 8254x's separate timers, EECD grants follow REQ.
 *
 * Structure (QEMU style): the register file is a Uint32Array indexed by offset >> 2; reads and
 * writes dispatch through two Uint8Array tables of handler kinds; power-on values are a table that
 * `reset()` copies; all interrupt logic goes through `setInterruptCause`; the wire is reached only
 * through a `NetBackend`, the bus only through the `PciDevicePort`.
 *
 * Transmit and back-pressure: the TX engine moves a descriptor's data into the TX FIFO, the TX
 * share of the 64 KiB packet buffer split by PBA (16 KiB at power-on), only while the FIFO has
 * room for it: a frame takes its length (no FCS) plus a 16-byte header, rounded up to 16 bytes
 * (Linux e1000_main.c E1000_FIFO_HDR). The FIFO drains at line rate: a frame's space frees when
 * its wire slot (preamble + frame + FCS + IFG, `wireTimeNs`) ends, the wire serialising frames
 * back to back at the backend's `bitsPerSecond` (1 Gbit/s by default). While the next descriptor
 * does not fit, TDH stays where it is, no DD is written, and one scheduler event at the time
 * enough space frees resumes the engine; so a driver that outruns the wire sees its ring fill.
 * DD is written (when RS is set) as soon as the descriptor has been processed, i.e. its data is
 * in the FIFO, not when the frame has left: 8254x SDM 3.3.3.2 "DD ... is written back after the
 * descriptor has been processed (with RS set)" and note 4 of 3.3.3.1 "the descriptor write-back
 * requested by setting the RS bit is performed without delay"; only the 82544GC/EI's RPS defers
 * DD "until the packet has been sent" (RPS is reserved on the 82540EM; like QEMU's
 * `txdesc_writeback` we treat it as RS). The frame is committed to the link when its EOP data is
 * in the FIFO; the link starts it when the wire is free, which is exactly when this FIFO model
 * says it leaves (the NIC is the link direction's only sender). TXQE is raised when the engine
 * has drained the ring (TDH = TDT), not when it stops for lack of FIFO space.
 * The post-RCTL-write one-second RX block of QEMU is not modelled: it is a QEMU artefact.
 */
import type {
  AccessSize,
  BarDefinition,
  PciDeviceModel,
  PciDevicePort,
  PciIdentity,
  ResetKind,
} from "@side-kernel/pci";
import { buildEepromImage, MicrowireEeprom, type MicrowireState } from "./eeprom.js";
import {
  AUTONEG_NS,
  DEFAULT_MAC,
  E1000_CACHE_LINE_SIZE,
  E1000_CLASS_CODE,
  E1000_DEVICE_ID,
  E1000_INTERRUPT_PIN,
  E1000_REVISION,
  E1000_SUBSYSTEM_ID,
  E1000_SUBSYSTEM_VENDOR_ID,
  E1000_VENDOR_ID,
  ETH_FCS_LEN,
  ETH_HEADER_LEN,
  ETH_ZLEN,
  MAX_ERRORS,
  NS_PER_SECOND,
  PACKET_BUFFER_KB,
  RX_MAX_FRAME,
  RX_MAX_FRAME_LPE,
  SPEED_1G,
  TX_FIFO_HDR_BYTES,
  TX_MAX_FRAME,
  TX_STAGING_SIZE,
  VLAN_TAG_LEN,
  WIRE_IFG_BYTES,
  WIRE_PREAMBLE_BYTES,
} from "./limits.js";
import type { NetBackend, NetClient } from "./net.js";
import { parseMac } from "./packet.js";
import { PHY_ACCESS, PHY_R, PHY_RESET_VALUES, PHY_W } from "./phy.js";
import * as R from "./regs.js";
import {
  type Scheduler,
  TRACE_EEPROM,
  TRACE_IRQ,
  TRACE_MMIO,
  TRACE_PHY,
  TRACE_RX,
  TRACE_TX,
  TRACE_UNKNOWN_REG,
  type TraceHook,
} from "./scheduler.js";

/** Options for `new E1000`. */
export interface E1000Options {
  /** Simulated clock and timers (autonegotiation, interrupt mitigation). */
  scheduler: Scheduler;
  /** MAC address as "52:54:00:12:34:56" or 6 bytes; default QEMU's 52:54:00:12:34:56. */
  mac?: string | Uint8Array;
  /** Whether a cable is plugged in at power-on (default true; a Link also reports it). */
  carrier?: boolean;
  /** Trace sink; nothing is formatted unless `traceMask` enables a category. */
  trace?: TraceHook;
  /** Bit mask of TRACE_* categories to report (default 0: off). */
  traceMask?: number;
}

/** Kinds of device errors recorded in `E1000.errors`. */
export type DeviceErrorKind =
  | "master-abort"
  | "bad-ring"
  | "rx-runt"
  | "rx-oversize"
  | "tx-runt"
  | "tx-oversize"
  | "tx-unsupported";

/** A recorded device error: bad input from software or the wire, never a host exception. */
export interface DeviceError {
  readonly timeNs: number;
  readonly kind: DeviceErrorKind;
  readonly message: string;
}

/** Device-internal counters that have no 8254x register. */
export interface E1000Counters {
  /** TX frames dropped (runt, oversize, DMA failure, unsupported offload). */
  txDropped: number;
  /** RX frames rejected by the address filters. */
  rxFiltered: number;
  /** Errors dropped from `errors` because the list was full. */
  errorsDropped: number;
}

/** Plain, JSON-able device state (`snapshot()` / `restore()`), format version 1. */
export interface E1000Snapshot {
  version: 1;
  /** Non-zero registers as [index (offset >> 2), value]. */
  regs: [number, number][];
  phy: number[];
  eeprom: number[];
  microwire: MicrowireState;
  ioaddr: number;
  carrier: boolean;
  phyLinkUp: boolean;
  irqLine: boolean;
  itrNextAllowedNs: number;
  /** Timer deadlines in ns, -1 when not armed. */
  timers: {
    autoneg: number;
    itr: number;
    rxPacket: number;
    rxAbsolute: number;
    txPacket: number;
    txAbsolute: number;
  };
  tx: {
    size: number;
    data: number[];
    sumNeeded: number;
    vlanNeeded: boolean;
    vlanSpecial: number;
    dropFrame: boolean;
    context: number[];
  };
  counters: E1000Counters;
  /**
   * The TX FIFO (absent in snapshots from before it was modelled: restored as empty): its size
   * latched from PBA at reset, when the wire is next free, the frames still occupying it as
   * [end of wire slot in ns, bytes], and the pending resume event (-1 when none).
   */
  txFifo?: {
    sizeBytes: number;
    wireBusyUntilNs: number;
    frames: [number, number][];
    wake: number;
  };
}

// Read handler kinds (index into the read dispatch table).
const RD_UNKNOWN = 0;
const RD_PLAIN = 1;
const RD_CLEAR = 2;
const RD_CLEAR64_HIGH = 3;
const RD_ICR = 4;
const RD_ICS = 5;
const RD_EECD = 6;
const RD_EERD = 7;
const RD_STATUS = 8;
const RD_WRITE_ONLY = 9;
// Write handler kinds.
const WR_UNKNOWN = 0;
const WR_PLAIN = 1;
const WR_READ_ONLY = 2;
const WR_CTRL = 3;
const WR_EECD = 4;
const WR_MDIC = 5;
const WR_ICR = 6;
const WR_ICS = 7;
const WR_IMS = 8;
const WR_IMC = 9;
const WR_RCTL = 10;
const WR_TCTL = 11;
const WR_TDT = 12;
const WR_RDT = 13;
const WR_LOW16 = 14;
const WR_DLEN = 15;
const WR_RDTR = 16;
const WR_TIDV = 17;
const WR_ITR = 18;

const READ_KIND = new Uint8Array(R.MMIO_REGS).fill(RD_UNKNOWN);
const WRITE_KIND = new Uint8Array(R.MMIO_REGS).fill(WR_UNKNOWN);
function reg(offset: number, read: number, write: number): void {
  READ_KIND[offset >> 2] = read;
  WRITE_KIND[offset >> 2] = write;
}
function regRange(offset: number, count: number, read: number, write: number): void {
  for (let i = 0; i < count; i++) reg(offset + 4 * i, read, write);
}
// The dispatch tables (QEMU macreg_readops / macreg_writeops).
reg(R.CTRL, RD_PLAIN, WR_CTRL);
reg(R.STATUS, RD_STATUS, WR_READ_ONLY);
reg(R.EECD, RD_EECD, WR_EECD);
reg(R.EERD, RD_EERD, WR_PLAIN);
reg(R.CTRL_EXT, RD_PLAIN, WR_PLAIN);
reg(R.FLA, RD_PLAIN, WR_PLAIN);
reg(R.MDIC, RD_PLAIN, WR_MDIC);
for (const o of [R.FCAL, R.FCAH, R.FCT, R.VET, R.FCTTV, R.TXCW, R.TIPG, R.LEDCTL, R.PBA, R.FCRTL, R.FCRTH])
  reg(o, RD_PLAIN, WR_PLAIN);
reg(R.RXCW, RD_PLAIN, WR_READ_ONLY);
reg(R.ICR, RD_ICR, WR_ICR);
reg(R.ITR, RD_PLAIN, WR_ITR);
reg(R.ICS, RD_ICS, WR_ICS);
reg(R.IMS, RD_PLAIN, WR_IMS);
reg(R.IMC, RD_WRITE_ONLY, WR_IMC);
reg(R.RCTL, RD_PLAIN, WR_RCTL);
reg(R.TCTL, RD_PLAIN, WR_TCTL);
for (const o of [R.RDBAL, R.RDBAH, R.RXDCTL, R.RSRPD, R.TDBAL, R.TDBAH, R.TXDCTL, R.TSPMT])
  reg(o, RD_PLAIN, WR_PLAIN);
reg(R.RDLEN, RD_PLAIN, WR_DLEN);
reg(R.TDLEN, RD_PLAIN, WR_DLEN);
for (const o of [R.RDH, R.TDH, R.RADV, R.TADV]) reg(o, RD_PLAIN, WR_LOW16);
reg(R.RDT, RD_PLAIN, WR_RDT);
reg(R.TDT, RD_PLAIN, WR_TDT);
reg(R.RDTR, RD_PLAIN, WR_RDTR);
reg(R.TIDV, RD_PLAIN, WR_TIDV);
regRange(R.STATS_FIRST, (R.STATS_LAST - R.STATS_FIRST) / 4 + 1, RD_CLEAR, WR_READ_ONLY);
for (const o of R.STATS_HIGH_HALVES) {
  reg(o, RD_CLEAR64_HIGH, WR_READ_ONLY);
  reg(o - 4, RD_PLAIN, WR_READ_ONLY); // the low half clears with its high half
}
for (const o of [R.RXCSUM, R.WUC, R.WUFC, R.WUS, R.MANC, R.IPAV]) reg(o, RD_PLAIN, WR_PLAIN);
regRange(R.MTA, R.MTA_ENTRIES, RD_PLAIN, WR_PLAIN);
regRange(R.RA, 2 * R.RA_ENTRIES, RD_PLAIN, WR_PLAIN);
regRange(R.VFTA, R.VFTA_ENTRIES, RD_PLAIN, WR_PLAIN);
regRange(R.IP4AT, 8, RD_PLAIN, WR_PLAIN);
regRange(R.IP6AT, 4, RD_PLAIN, WR_PLAIN);
regRange(R.WUPM, 32, RD_PLAIN, WR_PLAIN);
regRange(R.FFLT, 8, RD_PLAIN, WR_PLAIN);
regRange(R.FFMT, 256, RD_PLAIN, WR_PLAIN);
regRange(R.FFVT, 256, RD_PLAIN, WR_PLAIN);

/**
 * Power-on register values (QEMU mac_reg_init, hardware.md 5.2/5.3). RAL0/RAH0 come from the
 * EEPROM's MAC after reset, as the 8254x's EEPROM auto-read does.
 */
export const RESET_VALUES: readonly (readonly [offset: number, value: number])[] = [
  [R.CTRL, R.CTRL_SWDPIN2 | R.CTRL_SWDPIN0 | R.CTRL_SPD_1000 | R.CTRL_SLU],
  [R.LEDCTL, 0x00000602],
  [R.PBA, 0x00100030],
  [R.VET, 0x00008100],
  [R.MANC, 0x00222300],
];
/** STATUS bits other than LU (which follows the PHY): QEMU's reset value minus LU. */
const STATUS_BASE =
  R.STATUS_BIT31 |
  R.STATUS_GIO_MASTER_ENABLE |
  R.STATUS_ASDV |
  R.STATUS_MTXCKOK |
  R.STATUS_SPEED_1000 |
  R.STATUS_FD;

/** RX buffer sizes by BSIZE for BSEX = 0 and BSEX = 1 (QEMU e1000x_rxbufsize; 0 = reserved -> 2048). */
const RX_BUF_SIZE = [2048, 1024, 512, 256];
const RX_BUF_SIZE_BSEX = [2048, 16384, 8192, 4096];
/** MTA hash shift by RCTL.MO (QEMU receive_filter mta_shift). */
const MTA_SHIFT = [4, 3, 2, 0];
/** Frame size (with FCS) upper bounds of the PRCxx/PTCxx buckets. */
const SIZE_BUCKET_LIMITS = [64, 127, 255, 511, 1023];
/** PCI Command register bus-master enable bit. */
const PCI_COMMAND_BUS_MASTER = 1 << 2;
/** The tx offload context: ipcss, ipcso, ipcse, tucss, tucso, tucse, tse. */
const CTX_IPCSS = 0;
const CTX_IPCSO = 1;
const CTX_IPCSE = 2;
const CTX_TUCSS = 3;
const CTX_TUCSO = 4;
const CTX_TUCSE = 5;
const CTX_TSE = 6;
const CTX_FIELDS = 7;
const TWO_32 = 0x100000000;
const NO_TIMER = -1;
const BITS_PER_BYTE = 8;
/**
 * Capacity of the ring of frames occupying the TX FIFO: the whole 64 KiB packet buffer divided
 * by the smallest FIFO entry (a 14-byte header frame + 16 = 32 bytes) is 2048.
 */
const TX_FIFO_SLOTS = 2048;
const TX_FIFO_SLOT_MASK = TX_FIFO_SLOTS - 1;

/** Bytes of TX FIFO a frame of `length` bytes (no FCS) occupies: header added, 16-byte aligned. */
function fifoEntryBytes(length: number): number {
  return (length + 2 * TX_FIFO_HDR_BYTES - 1) & -TX_FIFO_HDR_BYTES;
}

/**
 * The 64-bit bus address hi:lo (both unsigned 32-bit). Below 4 GiB it is `lo` itself, which
 * keeps DMA addresses small integers on the hot path instead of doubles.
 */
function addr64(hi: number, lo: number): number {
  return hi === 0 ? lo : hi * TWO_32 + lo;
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/** A port used before `attach()`: every DMA is a master abort, the IRQ goes nowhere. */
const DETACHED_PORT: PciDevicePort = {
  dmaRead: () => false,
  dmaWrite: () => false,
  setIrq: () => {},
  signalMsi: () => false,
  command: 0,
};

/**
 * The 82540EM device model. Plug it into a PCI bus (`PciDeviceModel`) and a link (`NetClient`).
 */
export class E1000 implements PciDeviceModel, NetClient {
  /** PCI identity of QEMU's `-device e1000` (hardware.md 5.1). */
  readonly identity: PciIdentity = {
    vendorId: E1000_VENDOR_ID,
    deviceId: E1000_DEVICE_ID,
    revision: E1000_REVISION,
    classCode: E1000_CLASS_CODE,
    subsystemVendorId: E1000_SUBSYSTEM_VENDOR_ID,
    subsystemId: E1000_SUBSYSTEM_ID,
    interruptPin: E1000_INTERRUPT_PIN,
    cacheLineSize: E1000_CACHE_LINE_SIZE,
  };
  /** BAR0: 128 KiB of 32-bit MMIO; BAR1: 64 bytes of I/O (IOADDR/IODATA). */
  readonly bars: readonly (BarDefinition | undefined)[] = [
    { kind: "mem32", size: R.MMIO_SIZE },
    { kind: "io", size: R.IO_SIZE },
  ];
  /** No capabilities (hardware.md 5.1). */
  readonly capabilities = [] as const;
  /** The register file, indexed by offset >> 2 (read it for inspection; writes bypass the model). */
  readonly regs = new Uint32Array(R.MMIO_REGS);
  /** PHY registers. */
  readonly phy = new Uint16Array(R.PHY_REGS);
  /** The EEPROM and its Microwire interface. */
  readonly eeprom: MicrowireEeprom;
  /** Recorded device errors, oldest first, at most MAX_ERRORS. */
  readonly errors: DeviceError[] = [];
  /** Internal counters without a register. */
  readonly counters: E1000Counters = { txDropped: 0, rxFiltered: 0, errorsDropped: 0 };

  private readonly scheduler: Scheduler;
  private port: PciDevicePort = DETACHED_PORT;
  private backend: NetBackend | null = null;
  private traceHook: TraceHook | null;
  private traceMask: number;

  private ioaddr = 0;
  private carrier: boolean;
  private phyLinkUp = false;
  private irqLine = false;
  private itrNextAllowedNs = 0;
  private rxBufSize = 2048;
  private rdmtsShift = 1;
  private txBusy = false;

  // Timers: scheduler ids and deadlines (ns), NO_TIMER when idle. Callbacks are bound once.
  private autonegId = NO_TIMER;
  private autonegAt = NO_TIMER;
  private itrId = NO_TIMER;
  private itrAt = NO_TIMER;
  private rxPacketId = NO_TIMER;
  private rxPacketAt = NO_TIMER;
  private rxAbsId = NO_TIMER;
  private rxAbsAt = NO_TIMER;
  private txPacketId = NO_TIMER;
  private txPacketAt = NO_TIMER;
  private txAbsId = NO_TIMER;
  private txAbsAt = NO_TIMER;
  private readonly onAutonegDone: () => void;
  private readonly onItrExpired: () => void;
  private readonly onRxTimer: () => void;
  private readonly onTxTimer: () => void;

  // Descriptor staging (one preallocated 16-byte buffer) and the TX frame assembly buffer.
  private readonly desc = new Uint8Array(R.DESC_SIZE);
  private readonly txData = new Uint8Array(TX_STAGING_SIZE + VLAN_TAG_LEN);
  private txSize = 0;
  private txSumNeeded = 0;
  private txVlanNeeded = false;
  private txVlanSpecial = 0;
  private txDropFrame = false;
  private readonly txContext = new Uint32Array(CTX_FIELDS);
  private readonly rxPad = new Uint8Array(ETH_ZLEN);

  // The TX FIFO: frames whose data is in the packet buffer and whose wire slot has not ended, as
  // a ring of (slot end ns, FIFO bytes); retired lazily when space is needed.
  private txFifoSize = 0;
  private txFifoUsed = 0;
  private txFifoHead = 0;
  private txFifoCount = 0;
  private readonly txFifoEnd = new Float64Array(TX_FIFO_SLOTS);
  private readonly txFifoBytes = new Int32Array(TX_FIFO_SLOTS);
  private wireBusyUntilNs = 0;
  // A frame's wire slot = max(length, 60) x ns per byte + the preamble, FCS and IFG bytes (the
  // same time as link.ts `wireTimeNs`, without a division per frame).
  private wireNsPerByte = 0;
  private wireOverheadNs = 0;
  private txWakeId = NO_TIMER;
  private txWakeAt = NO_TIMER;
  private readonly onTxWake: () => void;

  /** Build a powered-on device. Throws a RangeError for a malformed `mac`. */
  constructor(options: E1000Options) {
    this.scheduler = options.scheduler;
    const mac = options.mac === undefined ? DEFAULT_MAC : options.mac;
    const macBytes = typeof mac === "string" ? parseMac(mac) : mac;
    this.eeprom = new MicrowireEeprom(buildEepromImage(macBytes, E1000_DEVICE_ID));
    this.carrier = options.carrier ?? true;
    this.traceHook = options.trace ?? null;
    this.traceMask = this.traceHook === null ? 0 : (options.traceMask ?? 0);
    this.onAutonegDone = () => this.autonegDone();
    this.onItrExpired = () => {
      this.itrId = NO_TIMER;
      this.itrAt = NO_TIMER;
      this.updateIrq();
    };
    this.onRxTimer = () => this.fireRxDelay();
    this.onTxTimer = () => this.fireTxDelay();
    this.setWireSpeed(SPEED_1G);
    this.onTxWake = () => {
      this.txWakeId = NO_TIMER;
      this.txWakeAt = NO_TIMER;
      this.startXmit();
    };
    this.reset("power-on");
  }

  // ------------------------------------------------------------------ PCI seam

  /** Called by the bus when plugged in: keep the port for DMA and INTx. */
  attach(port: PciDevicePort): void {
    this.port = port;
    if (this.irqLine) port.setIrq(true);
  }

  /**
   * Reset. "power-on", "bus" and "flr" reset the MAC, the PHY (autonegotiation restarts) and the
   * interrupt line; the EEPROM contents are kept. Never throws.
   */
  reset(_kind: ResetKind): void {
    this.resetMac(false);
    this.resetPhy();
  }

  /** Optional PCI hook: nothing is queued while bus mastering is off, so nothing to flush. */
  commandChanged(_command: number): void {}

  /** A BAR read (BAR0 MMIO registers, BAR1 IOADDR/IODATA). Unknown offsets read 0. Never throws. */
  barRead(bar: number, offset: number, size: AccessSize): number {
    let v: number;
    if (bar === 0) {
      if (offset < 0 || offset >= R.MMIO_SIZE) return 0;
      v = this.readRegister(offset & ~3);
    } else if (bar === 1) {
      const o = offset & ~3;
      if (o === R.IOADDR) v = this.ioaddr;
      else if (o === R.IODATA) v = this.ioaddr < R.MMIO_SIZE ? this.readRegister(this.ioaddr & ~3) : 0;
      else v = 0;
    } else {
      return 0;
    }
    if (size === 4) return v >>> 0;
    const shift = (offset & 3) * 8;
    return (v >>> shift) & (size === 1 ? 0xff : 0xffff);
  }

  /** A BAR write. Sub-dword writes merge into the stored dword. Never throws. */
  barWrite(bar: number, offset: number, size: AccessSize, value: number): void {
    if (bar === 0) {
      if (offset < 0 || offset >= R.MMIO_SIZE) return;
      const o = offset & ~3;
      this.writeRegister(o, size === 4 ? value >>> 0 : this.merge(this.regs[o >> 2], offset, size, value));
    } else if (bar === 1) {
      const o = offset & ~3;
      if (o === R.IOADDR) {
        this.ioaddr = size === 4 ? value >>> 0 : this.merge(this.ioaddr, offset, size, value);
      } else if (o === R.IODATA) {
        if (this.ioaddr < R.MMIO_SIZE) {
          const r = this.ioaddr & ~3;
          this.writeRegister(
            r,
            size === 4 ? value >>> 0 : this.merge(this.regs[r >> 2], offset, size, value),
          );
        }
      }
    }
  }

  private merge(old: number, offset: number, size: number, value: number): number {
    const shift = (offset & 3) * 8;
    const mask = (size === 1 ? 0xff : 0xffff) << shift;
    return ((old & ~mask) | ((value << shift) & mask)) >>> 0;
  }

  // ------------------------------------------------------------------ register dispatch

  /** Read the register at byte `offset` of BAR0 with its side effects (ICR clears, stats clear). */
  readRegister(offset: number): number {
    const i = offset >> 2;
    const r = this.regs;
    switch (READ_KIND[i]) {
      case RD_PLAIN:
        return r[i];
      case RD_CLEAR: {
        const v = r[i];
        r[i] = 0;
        return v;
      }
      case RD_CLEAR64_HIGH: {
        const v = r[i];
        r[i] = 0;
        r[i - 1] = 0;
        return v;
      }
      case RD_ICR: {
        let v = r[i];
        if (v & r[R.IMS >> 2]) v = (v | R.ICR_INT_ASSERTED) >>> 0;
        r[i] = 0;
        this.updateIrq();
        return v;
      }
      case RD_ICS:
        return r[R.ICR >> 2];
      case RD_EECD:
        return this.eeprom.read();
      case RD_EERD:
        return this.readEerd();
      case RD_STATUS:
        return (STATUS_BASE | (this.phyLinkUp ? R.STATUS_LU : 0)) >>> 0;
      case RD_WRITE_ONLY:
        return 0;
      default:
        if (this.traceMask & TRACE_UNKNOWN_REG)
          this.trace(TRACE_UNKNOWN_REG, `read of unknown register ${hex(offset)}`);
        return 0;
    }
  }

  /** Write `value` to the register at byte `offset` of BAR0, with its side effects. */
  writeRegister(offset: number, value: number): void {
    const i = offset >> 2;
    const r = this.regs;
    if (this.traceMask & TRACE_MMIO) this.trace(TRACE_MMIO, `write ${hex(offset)} = ${hex(value)}`);
    switch (WRITE_KIND[i]) {
      case WR_PLAIN:
        r[i] = value;
        return;
      case WR_TDT:
        r[i] = value & R.RING_INDEX_MASK;
        this.startXmit();
        return;
      case WR_RDT:
        r[i] = value & R.RING_INDEX_MASK;
        return;
      case WR_LOW16:
        r[i] = value & R.DELAY_VALUE_MASK;
        return;
      case WR_ICR:
        r[i] &= ~value;
        this.updateIrq();
        return;
      case WR_ICS:
        this.setInterruptCause(value);
        return;
      case WR_IMS:
        r[i] |= value & R.ICR_VALID_MASK;
        this.updateIrq();
        return;
      case WR_IMC:
        r[R.IMS >> 2] &= ~value;
        this.updateIrq();
        return;
      case WR_CTRL:
        this.writeCtrl(value);
        return;
      case WR_EECD:
        if (this.traceMask & TRACE_EEPROM) this.trace(TRACE_EEPROM, `EECD = ${hex(value)}`);
        this.eeprom.write(value);
        return;
      case WR_MDIC:
        this.writeMdic(value);
        return;
      case WR_RCTL:
        this.writeRctl(value);
        return;
      case WR_TCTL:
        r[i] = value;
        this.startXmit();
        return;
      case WR_DLEN:
        if (value & ~R.DLEN_MASK)
          this.recordError(
            "bad-ring",
            `${offset === R.RDLEN ? "RDLEN" : "TDLEN"} ${hex(value)} is not a multiple of ${R.DLEN_ALIGN} bytes`,
          );
        r[i] = value & R.DLEN_MASK;
        return;
      case WR_RDTR:
        r[i] = value & R.DELAY_VALUE_MASK;
        if (value & R.DELAY_FPD && (this.rxPacketAt !== NO_TIMER || this.rxAbsAt !== NO_TIMER))
          this.fireRxDelay();
        return;
      case WR_TIDV:
        r[i] = value & R.DELAY_VALUE_MASK;
        if (value & R.DELAY_FPD && (this.txPacketAt !== NO_TIMER || this.txAbsAt !== NO_TIMER))
          this.fireTxDelay();
        return;
      case WR_ITR:
        r[i] = value & R.DELAY_VALUE_MASK;
        if (r[i] === 0 && this.itrId !== NO_TIMER) {
          this.cancelItr();
          this.itrNextAllowedNs = 0;
        }
        this.updateIrq();
        return;
      case WR_READ_ONLY:
        if (this.traceMask & TRACE_UNKNOWN_REG)
          this.trace(TRACE_UNKNOWN_REG, `write ${hex(value)} to read-only register ${hex(offset)} ignored`);
        return;
      default:
        if (this.traceMask & TRACE_UNKNOWN_REG)
          this.trace(TRACE_UNKNOWN_REG, `write ${hex(value)} to unknown register ${hex(offset)} ignored`);
        return;
    }
  }

  private readEerd(): number {
    const v = this.regs[R.EERD >> 2];
    if ((v & R.EERD_START) === 0) return v;
    const addr = (v >>> R.EERD_ADDR_SHIFT) & R.EERD_ADDR_MASK;
    if (addr >= R.EEPROM_WORDS) return (v | R.EERD_DONE) >>> 0;
    return ((this.eeprom.words[addr] << R.EERD_DATA_SHIFT) | R.EERD_DONE | (v & 0xffff)) >>> 0;
  }

  private writeCtrl(value: number): void {
    const ci = R.CTRL >> 2;
    const old = this.regs[ci];
    if (value & R.CTRL_RST) {
      // Global reset (8254x SDM; hardware.md 5.11): registers to power-on values, rings stopped,
      // EEPROM and MAC kept (RA0 reloaded from the EEPROM), PHY untouched. RST self-clears.
      if (this.traceMask & TRACE_MMIO) this.trace(TRACE_MMIO, "CTRL.RST: device reset");
      this.resetMac(true);
      return;
    }
    this.regs[ci] = value;
    if (value & R.CTRL_PHY_RST && !(old & R.CTRL_PHY_RST)) {
      // PHY held in reset: registers to power-on values, link down until released.
      this.cancelTimer("autoneg");
      this.loadPhyDefaults();
      this.setLink(false);
    } else if (!(value & R.CTRL_PHY_RST) && old & R.CTRL_PHY_RST) {
      this.startAutoneg();
    }
  }

  private writeRctl(value: number): void {
    this.regs[R.RCTL >> 2] = value;
    const bsize = (value & R.RCTL_BSIZE_MASK) >>> R.RCTL_BSIZE_SHIFT;
    this.rxBufSize = value & R.RCTL_BSEX ? RX_BUF_SIZE_BSEX[bsize] : RX_BUF_SIZE[bsize];
    this.rdmtsShift = ((value & R.RCTL_RDMTS_MASK) >>> R.RCTL_RDMTS_SHIFT) + 1;
  }

  // ------------------------------------------------------------------ PHY (MDIC)

  private writeMdic(value: number): void {
    const data = value & R.MDIC_DATA_MASK;
    const addr = (value >>> R.MDIC_REG_SHIFT) & R.MDIC_REG_MASK;
    const op = (value >>> R.MDIC_OP_SHIFT) & R.MDIC_OP_MASK;
    let v = value;
    if (((value >>> R.MDIC_PHY_SHIFT) & R.MDIC_PHY_MASK) !== R.PHY_ADDRESS) {
      v |= R.MDIC_ERROR;
    } else if (op === R.MDIC_OP_READ) {
      if (!(PHY_ACCESS[addr] & PHY_R)) v |= R.MDIC_ERROR;
      else v = (v & ~R.MDIC_DATA_MASK) | this.phy[addr];
    } else if (op === R.MDIC_OP_WRITE) {
      if (!(PHY_ACCESS[addr] & PHY_W)) v |= R.MDIC_ERROR;
      else this.writePhy(addr, data);
    } else {
      v |= R.MDIC_ERROR;
    }
    if (this.traceMask & TRACE_PHY) this.trace(TRACE_PHY, `MDIC ${hex(value)} -> ${hex(v | R.MDIC_READY)}`);
    this.regs[R.MDIC >> 2] = v | R.MDIC_READY;
    if (v & R.MDIC_INT_EN) this.setInterruptCause(R.ICR_MDAC);
  }

  private writePhy(addr: number, data: number): void {
    if (addr !== R.PHY_BMCR) {
      this.phy[addr] = data;
      return;
    }
    this.phy[R.PHY_BMCR] = data & ~(R.BMCR_RESET | R.BMCR_ANRESTART);
    if (data & R.BMCR_RESET) {
      // M88 software reset: configuration registers keep their values (Linux writes the M88
      // specific control registers, then sets BMCR.RESET "so all changes take effect"); the
      // link drops and autonegotiation restarts. Hardware reset is CTRL.PHY_RST.
      this.startAutoneg();
      return;
    }
    if (data & R.BMCR_ANRESTART && data & R.BMCR_ANENABLE) this.startAutoneg();
    else if (!(data & R.BMCR_ANENABLE) && this.carrier && this.autonegAt === NO_TIMER) this.setLink(true);
  }

  private loadPhyDefaults(): void {
    for (let i = 0; i < R.PHY_REGS; i++) this.phy[i] = PHY_RESET_VALUES[i];
  }

  private resetPhy(): void {
    this.cancelTimer("autoneg");
    this.loadPhyDefaults();
    this.phyLinkUp = false;
    this.startAutoneg();
  }

  /** Start (or restart) autonegotiation: link down now, link up + LSC after AUTONEG_NS. */
  private startAutoneg(): void {
    if (this.traceMask & TRACE_PHY) this.trace(TRACE_PHY, "autonegotiation started");
    this.setLink(false);
    this.phy[R.PHY_BMSR] &= ~R.BMSR_ANEGCOMPLETE;
    this.cancelTimer("autoneg");
    if (!this.carrier) return;
    if (!(this.phy[R.PHY_BMCR] & R.BMCR_ANENABLE)) {
      this.setLink(true);
      return;
    }
    this.autonegAt = this.scheduler.now() + AUTONEG_NS;
    this.autonegId = this.scheduler.schedule(this.autonegAt, this.onAutonegDone);
  }

  private autonegDone(): void {
    this.autonegId = NO_TIMER;
    this.autonegAt = NO_TIMER;
    this.phy[R.PHY_BMSR] |= R.BMSR_ANEGCOMPLETE;
    if (this.traceMask & TRACE_PHY) this.trace(TRACE_PHY, "autonegotiation complete");
    if (this.carrier) this.setLink(true);
  }

  /** Change the PHY link state; a change raises LSC. */
  private setLink(up: boolean): void {
    if (up === this.phyLinkUp) return;
    this.phyLinkUp = up;
    if (up) this.phy[R.PHY_BMSR] |= R.BMSR_LSTATUS;
    else this.phy[R.PHY_BMSR] &= ~R.BMSR_LSTATUS;
    this.setInterruptCause(R.ICR_LSC);
  }

  // ------------------------------------------------------------------ reset

  /**
   * MAC reset. A software reset (CTRL.RST, `keepPba`) keeps PBA, which only takes effect through
   * it (Linux e1000_reset: "Repartition Pba ... To take effect CTRL.RST is required"); the TX
   * FIFO size is latched from PBA here. Frames already committed to the wire still leave, so the
   * FIFO's drain schedule is kept; the resume event is cancelled (the rings are stopped).
   */
  private resetMac(keepPba: boolean): void {
    this.cancelTimer("itr");
    this.cancelTimer("rxPacket");
    this.cancelTimer("rxAbsolute");
    this.cancelTimer("txPacket");
    this.cancelTimer("txAbsolute");
    this.cancelTxWake();
    const pba = this.regs[R.PBA >> 2];
    this.regs.fill(0);
    for (const [offset, value] of RESET_VALUES) this.regs[offset >> 2] = value;
    if (keepPba) this.regs[R.PBA >> 2] = pba;
    const rxKb = this.regs[R.PBA >> 2] & R.PBA_RXA_MASK;
    this.txFifoSize = rxKb >= PACKET_BUFFER_KB ? 0 : (PACKET_BUFFER_KB - rxKb) << R.PBA_BYTES_SHIFT;
    const w = this.eeprom.words;
    this.regs[R.RA >> 2] = (w[0] | (w[1] << 16)) >>> 0;
    this.regs[(R.RA + 4) >> 2] = (w[2] | R.RAH_AV) >>> 0;
    this.writeRctl(0);
    this.eeprom.reset();
    this.ioaddr = 0;
    this.itrNextAllowedNs = 0;
    this.txSize = 0;
    this.txSumNeeded = 0;
    this.txVlanNeeded = false;
    this.txDropFrame = false;
    this.txContext.fill(0);
    this.updateIrq();
  }

  // ------------------------------------------------------------------ interrupts

  /** Set cause bits in ICR (ICS semantics) and re-evaluate the INTx line. */
  setInterruptCause(bits: number): void {
    const i = R.ICR >> 2;
    this.regs[i] |= bits & R.ICR_VALID_MASK;
    if (this.traceMask & TRACE_IRQ) this.trace(TRACE_IRQ, `cause ${hex(bits)} -> ICR ${hex(this.regs[i])}`);
    this.updateIrq();
  }

  /**
   * The INTx line is (ICR & IMS) != 0, with ITR as the 8254x's minimum inter-interrupt interval:
   * a new assertion within ITR x 256 ns of the previous one waits for the interval to end. (QEMU
   * instead applies a 128 us floor and merges TADV/RADV into one timer; we follow the SDM.)
   */
  private updateIrq(): void {
    const pending = (this.regs[R.ICR >> 2] & this.regs[R.IMS >> 2]) !== 0;
    if (pending === this.irqLine) return;
    if (pending) {
      const itr = this.regs[R.ITR >> 2];
      if (itr !== 0) {
        const now = this.scheduler.now();
        if (now < this.itrNextAllowedNs) {
          if (this.itrId === NO_TIMER) {
            this.itrAt = this.itrNextAllowedNs;
            this.itrId = this.scheduler.schedule(this.itrAt, this.onItrExpired);
          }
          return;
        }
        this.itrNextAllowedNs = now + itr * R.ITR_UNIT_NS;
      }
    }
    this.irqLine = pending;
    if (this.traceMask & TRACE_IRQ) this.trace(TRACE_IRQ, `INTx ${pending ? "asserted" : "deasserted"}`);
    this.port.setIrq(pending);
  }

  private cancelItr(): void {
    this.cancelTimer("itr");
  }

  /** RX frame done: RXT0 now (RDTR = 0) or after the packet/absolute delay timers. */
  private rxInterruptDelay(): void {
    const rdtr = this.regs[R.RDTR >> 2];
    if (rdtr === 0) {
      this.setInterruptCause(R.ICR_RXT0);
      return;
    }
    const now = this.scheduler.now();
    if (this.rxPacketId !== NO_TIMER) this.scheduler.cancel(this.rxPacketId);
    this.rxPacketAt = now + rdtr * R.DELAY_UNIT_NS;
    this.rxPacketId = this.scheduler.schedule(this.rxPacketAt, this.onRxTimer);
    const radv = this.regs[R.RADV >> 2];
    if (radv !== 0 && this.rxAbsId === NO_TIMER) {
      this.rxAbsAt = now + radv * R.DELAY_UNIT_NS;
      this.rxAbsId = this.scheduler.schedule(this.rxAbsAt, this.onRxTimer);
    }
  }

  private fireRxDelay(): void {
    this.cancelTimer("rxPacket");
    this.cancelTimer("rxAbsolute");
    this.setInterruptCause(R.ICR_RXT0);
  }

  /** TX descriptor with RS and IDE done: TXDW after the TIDV/TADV timers (TIDV = 0: now). */
  private txInterruptDelay(): void {
    const tidv = this.regs[R.TIDV >> 2];
    if (tidv === 0) {
      this.setInterruptCause(R.ICR_TXDW);
      return;
    }
    const now = this.scheduler.now();
    if (this.txPacketId !== NO_TIMER) this.scheduler.cancel(this.txPacketId);
    this.txPacketAt = now + tidv * R.DELAY_UNIT_NS;
    this.txPacketId = this.scheduler.schedule(this.txPacketAt, this.onTxTimer);
    const tadv = this.regs[R.TADV >> 2];
    if (tadv !== 0 && this.txAbsId === NO_TIMER) {
      this.txAbsAt = now + tadv * R.DELAY_UNIT_NS;
      this.txAbsId = this.scheduler.schedule(this.txAbsAt, this.onTxTimer);
    }
  }

  private fireTxDelay(): void {
    this.cancelTimer("txPacket");
    this.cancelTimer("txAbsolute");
    this.setInterruptCause(R.ICR_TXDW);
  }

  private cancelTimer(which: keyof E1000Snapshot["timers"]): void {
    let id: number;
    switch (which) {
      case "autoneg":
        id = this.autonegId;
        this.autonegId = this.autonegAt = NO_TIMER;
        break;
      case "itr":
        id = this.itrId;
        this.itrId = this.itrAt = NO_TIMER;
        break;
      case "rxPacket":
        id = this.rxPacketId;
        this.rxPacketId = this.rxPacketAt = NO_TIMER;
        break;
      case "rxAbsolute":
        id = this.rxAbsId;
        this.rxAbsId = this.rxAbsAt = NO_TIMER;
        break;
      case "txPacket":
        id = this.txPacketId;
        this.txPacketId = this.txPacketAt = NO_TIMER;
        break;
      default:
        id = this.txAbsId;
        this.txAbsId = this.txAbsAt = NO_TIMER;
        break;
    }
    if (id !== NO_TIMER) this.scheduler.cancel(id);
  }

  // ------------------------------------------------------------------ errors and tracing

  private recordError(kind: DeviceErrorKind, message: string): void {
    if (this.errors.length >= MAX_ERRORS) {
      this.errors.shift();
      this.counters.errorsDropped++;
    }
    this.errors.push({ timeNs: this.scheduler.now(), kind, message });
  }

  private trace(category: number, message: string): void {
    if (this.traceHook !== null) this.traceHook(category, message);
  }

  /** Enable the TRACE_* categories in `mask` (0 turns tracing off) and set the hook. */
  setTrace(hook: TraceHook | null, mask: number): void {
    this.traceHook = hook;
    this.traceMask = hook === null ? 0 : mask;
  }

  // ------------------------------------------------------------------ statistics helpers

  private add64(lowIndex: number, n: number): void {
    const r = this.regs;
    const lo = r[lowIndex] + n;
    r[lowIndex] = lo;
    if (lo > 0xffffffff) r[lowIndex + 1] += Math.floor(lo / TWO_32);
  }

  private static sizeBucket(sizeWithFcs: number): number {
    const l = SIZE_BUCKET_LIMITS;
    if (sizeWithFcs <= l[0]) return 0;
    if (sizeWithFcs <= l[1]) return 1;
    if (sizeWithFcs <= l[2]) return 2;
    if (sizeWithFcs <= l[3]) return 3;
    return sizeWithFcs <= l[4] ? 4 : 5;
  }

  // ------------------------------------------------------------------ ring helpers

  /**
   * Validate a ring; returns its descriptor count, or 0 after recording a bad-ring error when
   * the length is zero or the head or tail lies beyond the ring.
   */
  private ringCount(name: string, lenReg: number, headReg: number, tailReg: number): number {
    const r = this.regs;
    const len = r[lenReg >> 2];
    const count = len / R.DESC_SIZE;
    const head = r[headReg >> 2];
    const tail = r[tailReg >> 2];
    if (len === 0) {
      this.recordError(
        "bad-ring",
        `${name}DLEN is 0 while the ${name === "T" ? "transmit" : "receive"} unit is used`,
      );
      return 0;
    }
    if (head >= count || tail >= count) {
      this.recordError(
        "bad-ring",
        `${name}DH ${head} / ${name}DT ${tail} beyond the ring of ${count} descriptors (${name}DLEN ${hex(len)})`,
      );
      return 0;
    }
    return count;
  }

  // ------------------------------------------------------------------ transmit

  /**
   * Run the TX engine: process descriptors from TDH up to TDT while TCTL.EN is set and the TX
   * FIFO has room for each descriptor's data (see the file comment); when it has not, stop with
   * TDH on that descriptor and arm the resume event.
   */
  private startXmit(): void {
    const r = this.regs;
    if (!(r[R.TCTL >> 2] & R.TCTL_EN) || this.txBusy) return;
    const tdh0 = r[R.TDH >> 2];
    if (tdh0 === r[R.TDT >> 2]) return;
    const count = r[R.TDLEN >> 2] >>> R.DESC_SHIFT;
    if (count === 0 || tdh0 >= count || r[R.TDT >> 2] >= count) {
      this.ringCount("T", R.TDLEN, R.TDH, R.TDT); // records the bad-ring error
      return;
    }
    this.txBusy = true;
    const base = addr64(r[R.TDBAH >> 2], (r[R.TDBAL >> 2] & ~0xf) >>> 0);
    const port = this.port;
    let tdh = tdh0;
    let cause = 0;
    let drained = true;
    while (tdh !== r[R.TDT >> 2]) {
      const addr = base + tdh * R.DESC_SIZE;
      if (!port.dmaRead(addr, this.desc, 0, R.DESC_SIZE)) {
        this.recordError("master-abort", `TX descriptor fetch at ${hex(addr)} (TDH ${tdh}) aborted`);
        drained = false;
        break;
      }
      const d = this.desc;
      const lower = (d[8] | (d[9] << 8) | (d[10] << 16) | (d[11] << 24)) >>> 0;
      // FIFO room for this descriptor's data (with the frame's bytes fetched so far).
      const length = !(lower & R.TXD_CMD_DEXT)
        ? lower & R.TXD_LEGACY_LEN_MASK
        : ((lower >>> R.TXD_DTYP_SHIFT) & R.TXD_DTYP_MASK) === R.TXD_DTYP_CONTEXT
          ? 0
          : lower & R.TXD_DATA_LEN_MASK;
      if (length !== 0 && !this.txFifoHasRoom(fifoEntryBytes(this.txSize + length))) {
        drained = false;
        break;
      }
      this.processTxDescriptor(lower);
      if (lower & (R.TXD_CMD_RS | R.TXD_CMD_RPS)) {
        // Write back DD in the upper dword only (status byte; EC/LC/TU cleared).
        d[R.DESC_UPPER] = (d[R.DESC_UPPER] & ~R.TXD_STAT_MASK) | R.TXD_STAT_DD;
        if (!port.dmaWrite(addr + R.DESC_UPPER, this.desc, R.DESC_UPPER, 4))
          this.recordError("master-abort", `TX descriptor write-back at ${hex(addr)} aborted`);
        if (lower & R.TXD_CMD_IDE) this.txInterruptDelay();
        else cause |= R.ICR_TXDW;
      }
      tdh++;
      if (tdh >= count) tdh = 0;
      r[R.TDH >> 2] = tdh;
      if (tdh === tdh0) break; // a guard, as QEMU's: TDT moved under us in a loop
    }
    this.txBusy = false;
    if (drained && tdh === r[R.TDT >> 2]) cause |= R.ICR_TXQE;
    if (cause !== 0) this.setInterruptCause(cause);
  }

  /**
   * Whether `need` more bytes fit in the TX FIFO now, retiring frames whose wire slot has ended.
   * A frame larger than the whole FIFO is let in when the FIFO is empty (it streams through).
   * When they do not fit, arm the resume event at the end of the slot that frees enough space.
   */
  private txFifoHasRoom(need: number): boolean {
    const size = this.txFifoSize;
    if (this.txFifoUsed + need <= size) return true;
    const end = this.txFifoEnd;
    const bytes = this.txFifoBytes;
    const now = this.scheduler.now();
    let head = this.txFifoHead;
    let n = this.txFifoCount;
    let used = this.txFifoUsed;
    while (n > 0 && end[head] <= now) {
      used -= bytes[head];
      head = (head + 1) & TX_FIFO_SLOT_MASK;
      n--;
    }
    this.txFifoHead = head;
    this.txFifoCount = n;
    this.txFifoUsed = used;
    if (used + need <= size || n === 0) return true;
    if (this.txWakeId === NO_TIMER) {
      let i = head;
      let left = used;
      for (;;) {
        left -= bytes[i];
        if (left + need <= size || left === 0) break;
        i = (i + 1) & TX_FIFO_SLOT_MASK;
      }
      this.txWakeAt = end[i];
      this.txWakeId = this.scheduler.schedule(end[i], this.onTxWake);
    }
    return false;
  }

  private setWireSpeed(bitsPerSecond: number): void {
    this.wireNsPerByte = (BITS_PER_BYTE * NS_PER_SECOND) / bitsPerSecond;
    this.wireOverheadNs = (WIRE_PREAMBLE_BYTES + ETH_FCS_LEN + WIRE_IFG_BYTES) * this.wireNsPerByte;
  }

  private cancelTxWake(): void {
    if (this.txWakeId !== NO_TIMER) this.scheduler.cancel(this.txWakeId);
    this.txWakeId = NO_TIMER;
    this.txWakeAt = NO_TIMER;
  }

  /** A frame of `fifoBytes` FIFO bytes and `length` wire bytes goes out: it holds its space until its slot ends. */
  private txFifoPush(fifoBytes: number, length: number): void {
    const now = this.scheduler.now();
    const start = Math.max(this.wireBusyUntilNs, now);
    const endNs = start + Math.max(length, ETH_ZLEN) * this.wireNsPerByte + this.wireOverheadNs;
    this.wireBusyUntilNs = endNs;
    const i = (this.txFifoHead + this.txFifoCount) & TX_FIFO_SLOT_MASK;
    this.txFifoEnd[i] = endNs;
    this.txFifoBytes[i] = fifoBytes;
    this.txFifoCount++;
    this.txFifoUsed += fifoBytes;
  }

  private processTxDescriptor(lower: number): void {
    const d = this.desc;
    const upper = (d[12] | (d[13] << 8) | (d[14] << 16) | (d[15] << 24)) >>> 0;
    const bufAddr = addr64(
      (d[4] | (d[5] << 8) | (d[6] << 16) | (d[7] << 24)) >>> 0,
      (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0,
    );
    let length: number;
    if (lower & R.TXD_CMD_DEXT) {
      const dtyp = (lower >>> R.TXD_DTYP_SHIFT) & R.TXD_DTYP_MASK;
      if (dtyp === R.TXD_DTYP_CONTEXT) {
        const c = this.txContext;
        const d = this.desc;
        c[CTX_IPCSS] = d[0];
        c[CTX_IPCSO] = d[1];
        c[CTX_IPCSE] = d[2] | (d[3] << 8);
        c[CTX_TUCSS] = d[4];
        c[CTX_TUCSO] = d[5];
        c[CTX_TUCSE] = d[6] | (d[7] << 8);
        c[CTX_TSE] = lower & R.TXD_CMD_TSE ? 1 : 0;
        return;
      }
      if (this.txSize === 0) this.txSumNeeded = upper;
      length = lower & R.TXD_DATA_LEN_MASK;
      if (this.txContext[CTX_TSE] && !this.txDropFrame) {
        this.recordError("tx-unsupported", "TCP segmentation offload (TSE) is not modelled; frame dropped");
        this.txDropFrame = true;
      }
    } else {
      length = lower & R.TXD_LEGACY_LEN_MASK;
      if (this.txSize === 0) this.txSumNeeded = 0;
    }
    if (this.txSize === 0) {
      this.txVlanNeeded = (lower & R.TXD_CMD_VLE) !== 0 && (this.regs[R.CTRL >> 2] & R.CTRL_VME) !== 0;
      this.txVlanSpecial = upper >>> 16;
    }
    if (length > 0 && !this.txDropFrame) {
      if (this.txSize + length > TX_MAX_FRAME) {
        this.recordError(
          "tx-oversize",
          `TX frame of ${this.txSize + length} bytes exceeds ${TX_MAX_FRAME} bytes; dropped`,
        );
        this.txDropFrame = true;
      } else if (!this.port.dmaRead(bufAddr, this.txData, this.txSize, length)) {
        this.recordError(
          "master-abort",
          `TX buffer read of ${length} bytes at ${hex(bufAddr)} aborted; frame dropped`,
        );
        this.txDropFrame = true;
      } else {
        this.txSize += length;
      }
    }
    if (!(lower & R.TXD_CMD_EOP)) return;
    if (!(lower & R.TXD_CMD_DEXT) && lower & R.TXD_CMD_IC && !this.txDropFrame) {
      // Legacy checksum insertion: sum from CSS to the end, stored at CSO.
      const cso = (lower >>> 16) & 0xff;
      const css = (upper >>> 8) & 0xff;
      this.putChecksum(this.txSize, css, cso, 0);
    }
    this.finishTxFrame();
  }

  private putChecksum(size: number, start: number, at: number, end: number): void {
    const stop = end === 0 || end >= size ? size : end + 1;
    if (at + 1 >= size || start >= stop) return;
    const d = this.txData;
    let sum = 0;
    for (let i = start; i + 1 < stop; i += 2) sum += (d[i] << 8) | d[i + 1];
    if ((stop - start) & 1) sum += d[stop - 1] << 8;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff;
    d[at] = c >>> 8;
    d[at + 1] = c & 0xff;
  }

  private finishTxFrame(): void {
    const r = this.regs;
    const drop = this.txDropFrame;
    const fetched = this.txSize;
    let size = this.txSize;
    this.txSize = 0;
    this.txDropFrame = false;
    if (drop) {
      this.counters.txDropped++;
      return;
    }
    if (size < ETH_HEADER_LEN) {
      this.recordError("tx-runt", `TX frame of ${size} bytes is shorter than an Ethernet header; dropped`);
      this.counters.txDropped++;
      return;
    }
    const d = this.txData;
    if (this.txSumNeeded & R.TXD_POPTS_TXSM) {
      const c = this.txContext;
      this.putChecksum(size, c[CTX_TUCSS], c[CTX_TUCSO], c[CTX_TUCSE]);
    }
    if (this.txSumNeeded & R.TXD_POPTS_IXSM) {
      const c = this.txContext;
      // The IP header checksum field must start at 0 for the sum to be right (the driver zeroes it).
      this.putChecksum(size, c[CTX_IPCSS], c[CTX_IPCSO], c[CTX_IPCSE]);
    }
    if (this.txVlanNeeded) {
      d.copyWithin(16, 12, size);
      const vet = r[R.VET >> 2];
      d[12] = (vet >>> 8) & 0xff;
      d[13] = vet & 0xff;
      d[14] = this.txVlanSpecial >>> 8;
      d[15] = this.txVlanSpecial & 0xff;
      size += VLAN_TAG_LEN;
    }
    if (size < ETH_ZLEN && r[R.TCTL >> 2] & R.TCTL_PSP) {
      d.fill(0, size, ETH_ZLEN);
      size = ETH_ZLEN;
    }
    // Statistics (octet counts include the FCS the MAC appends).
    const wire = size + ETH_FCS_LEN;
    r[R.TPT >> 2]++;
    r[R.GPTC >> 2]++;
    this.add64(R.TOTL >> 2, wire);
    this.add64(R.GOTCL >> 2, wire);
    r[(R.PTC64 >> 2) + E1000.sizeBucket(wire)]++;
    if (d[0] & 1) {
      if ((d[0] & d[1] & d[2] & d[3] & d[4] & d[5]) === 0xff) r[R.BPTC >> 2]++;
      else r[R.MPTC >> 2]++;
    }
    if (this.traceMask & TRACE_TX) this.trace(TRACE_TX, `TX frame of ${size} bytes`);
    if ((r[R.RCTL >> 2] & R.RCTL_LBM_MASK) === R.RCTL_LBM_MAC || this.phy[R.PHY_BMCR] & R.BMCR_LOOPBACK) {
      this.receive(d, size);
      return;
    }
    if (this.backend !== null && this.phyLinkUp) {
      this.txFifoPush(fifoEntryBytes(fetched), size);
      this.backend.send(d, size);
    }
  }

  // ------------------------------------------------------------------ receive (NetClient)

  /** Link hands us the wire. */
  attachBackend(backend: NetBackend | null): void {
    this.backend = backend;
    const bps = backend?.bitsPerSecond;
    this.setWireSpeed(bps !== undefined && bps > 0 ? bps : SPEED_1G);
  }

  /** The cable's far end came up or went away: link down at once, or autonegotiate then up. */
  linkStatusChanged(up: boolean): void {
    this.carrier = up;
    if (!up) {
      this.cancelTimer("autoneg");
      this.setLink(false);
    } else if (!this.phyLinkUp && this.autonegAt === NO_TIMER) {
      this.startAutoneg();
    }
  }

  /** Whether frames are taken off the wire: STATUS.LU, RCTL.EN and PCI bus mastering. */
  canReceive(): boolean {
    return (
      this.phyLinkUp &&
      (this.regs[R.RCTL >> 2] & R.RCTL_EN) !== 0 &&
      (this.port.command & PCI_COMMAND_BUS_MASTER) !== 0
    );
  }

  /**
   * A frame (without FCS) arrives from the wire. Returns false when the receiver is not able to
   * take frames (see canReceive); true when the frame was consumed: stored in the ring, or
   * dropped by the filters, as a runt/oversize frame (counted and recorded), or for lack of
   * descriptors (RXO, RNBC, MPC).
   *
   * `errors` (default 0) makes the frame arrive damaged, as a test or a traffic peer may ask: a
   * mask of frame-error bits (R.RXD_ERR_FRAME_MASK: CE, SE, SEQ, CXE, RXE). Such a bad packet
   * is counted (CRCERRS for CE, SYMERRS for SE, SEC for SEQ, CEXTERR for CXE, RXERRC for RXE)
   * and dropped, unless RCTL.SBP is set: then it is stored like a good frame with `errors` in
   * its last descriptor's errors field, and not counted as a good packet (GPRC, GORC). Throws a
   * RangeError for bits outside R.RXD_ERR_FRAME_MASK.
   */
  receive(frame: Uint8Array, length: number, errors = 0): boolean {
    if (!this.canReceive()) return false;
    const r = this.regs;
    const rctl = r[R.RCTL >> 2];
    if (errors !== 0 && !this.badPacket(errors, rctl)) return true;
    let size = length;
    let data = frame;
    if (size < ETH_HEADER_LEN) {
      r[R.RUC >> 2]++;
      this.recordError("rx-runt", `RX frame of ${size} bytes is shorter than an Ethernet header; dropped`);
      return true;
    }
    if (size < ETH_ZLEN) {
      // Pad runts to 60 bytes, as QEMU does: the simulated wire carries unpadded frames.
      const pad = this.rxPad;
      pad.set(frame.subarray(0, size));
      pad.fill(0, size);
      data = pad;
      size = ETH_ZLEN;
    }
    const max = rctl & R.RCTL_LPE ? RX_MAX_FRAME_LPE : RX_MAX_FRAME;
    if (size > max && !(rctl & R.RCTL_SBP)) {
      r[R.ROC >> 2]++;
      this.recordError(
        "rx-oversize",
        `RX frame of ${size} bytes exceeds ${max} bytes (RCTL.LPE clear); dropped`,
      );
      return true;
    }
    if (!this.receiveFilter(data, rctl)) {
      this.counters.rxFiltered++;
      return true;
    }
    const count = r[R.RDLEN >> 2] >>> R.DESC_SHIFT;
    let rdh = r[R.RDH >> 2];
    const rdt = r[R.RDT >> 2];
    // A bad ring (length 0, head or tail beyond it) is recorded by ringCount and the frame dropped.
    if (count === 0 || rdh >= count || rdt >= count) {
      this.ringCount("R", R.RDLEN, R.RDH, R.RDT);
      return true;
    }
    const total = rctl & R.RCTL_SECRC ? size : size + ETH_FCS_LEN;
    const bufSize = this.rxBufSize;
    const free = rdt >= rdh ? rdt - rdh : count - rdh + rdt;
    if (free * bufSize < total) {
      r[R.RNBC >> 2]++;
      r[R.MPC >> 2]++;
      if (this.traceMask & TRACE_RX) this.trace(TRACE_RX, `RX overrun: ${free} free descriptors`);
      this.setInterruptCause(R.ICR_RXO);
      return true;
    }
    const base = addr64(r[R.RDBAH >> 2], (r[R.RDBAL >> 2] & ~0xf) >>> 0);
    const port = this.port;
    const desc = this.desc;
    let copied = 0; // bytes of `total` accounted to descriptors
    while (copied < total) {
      const addr = base + rdh * R.DESC_SIZE;
      // Only the buffer address matters on fetch: the rest of the descriptor is written back.
      if (!port.dmaRead(addr, desc, 0, R.DESC_LOWER)) {
        this.recordError(
          "master-abort",
          `RX descriptor fetch at ${hex(addr)} (RDH ${rdh}) aborted; frame dropped`,
        );
        return true;
      }
      const bufAddr = addr64(
        (desc[4] | (desc[5] << 8) | (desc[6] << 16) | (desc[7] << 24)) >>> 0,
        (desc[0] | (desc[1] << 8) | (desc[2] << 16) | (desc[3] << 24)) >>> 0,
      );
      let status = 0;
      let chunk = 0;
      if (bufAddr !== 0) {
        chunk = Math.min(total - copied, bufSize);
        // Only frame bytes are DMA-ed; the 4 FCS bytes are counted in the length but not written
        // (as QEMU: the simulated wire has no FCS to supply).
        const dataBytes = copied >= size ? 0 : copied + chunk > size ? size - copied : chunk;
        if (dataBytes > 0 && !port.dmaWrite(bufAddr, data, copied, dataBytes)) {
          this.recordError(
            "master-abort",
            `RX buffer write of ${dataBytes} bytes at ${hex(bufAddr)} aborted`,
          );
        }
        copied += chunk;
        if (copied >= total) status = R.RXD_STAT_EOP | R.RXD_STAT_IXSM;
      }
      const last = copied >= total;
      // Write the descriptor back without DD, then DD: data -> descriptor -> DD. Little-endian
      // fields: length, checksum 0, status, errors 0, special 0.
      desc[R.RXD_LENGTH] = chunk & 0xff;
      desc[R.RXD_LENGTH + 1] = chunk >>> 8;
      desc[R.RXD_CSUM] = 0;
      desc[R.RXD_CSUM + 1] = 0;
      desc[R.RXD_STATUS] = status;
      desc[R.RXD_ERRORS] = last ? errors : 0;
      desc[R.RXD_SPECIAL] = 0;
      desc[R.RXD_SPECIAL + 1] = 0;
      if (!port.dmaWrite(addr + R.RXD_LENGTH, desc, R.RXD_LENGTH, R.DESC_SIZE - R.RXD_LENGTH)) {
        this.recordError("master-abort", `RX descriptor write-back at ${hex(addr)} aborted`);
      }
      desc[R.RXD_STATUS] = status | R.RXD_STAT_DD;
      port.dmaWrite(addr + R.RXD_STATUS, desc, R.RXD_STATUS, 1);
      rdh++;
      if (rdh >= count) rdh = 0;
      if (rdh === rdt && copied < total) {
        // Only reachable when every descriptor had a null buffer: out of descriptors.
        r[R.RDH >> 2] = rdh;
        r[R.RNBC >> 2]++;
        r[R.MPC >> 2]++;
        this.setInterruptCause(R.ICR_RXO);
        return true;
      }
    }
    r[R.RDH >> 2] = rdh;
    // Statistics (octets include the FCS).
    const wire = size + ETH_FCS_LEN;
    r[R.TPR >> 2]++;
    this.add64(R.TORL >> 2, wire);
    if (errors === 0) {
      r[R.GPRC >> 2]++;
      this.add64(R.GORCL >> 2, wire);
    }
    r[(R.PRC64 >> 2) + E1000.sizeBucket(wire)]++;
    if (data[0] & 1) {
      if ((data[0] & data[1] & data[2] & data[3] & data[4] & data[5]) === 0xff) r[R.BPRC >> 2]++;
      else r[R.MPRC >> 2]++;
    }
    if (this.traceMask & TRACE_RX) this.trace(TRACE_RX, `RX frame of ${size} bytes, RDH ${rdh}`);
    const freeAfter = rdt >= rdh ? rdt - rdh : count - rdh + rdt;
    if (freeAfter * R.DESC_SIZE <= r[R.RDLEN >> 2] >>> this.rdmtsShift) this.setInterruptCause(R.ICR_RXDMT0);
    this.rxInterruptDelay();
    return true;
  }

  /**
   * A frame arrived with `errors` (see receive): count it in the error registers; true if it is
   * to be stored anyway (RCTL.SBP). Throws a RangeError for bits that are not frame errors.
   */
  private badPacket(errors: number, rctl: number): boolean {
    if (!Number.isInteger(errors) || (errors & ~R.RXD_ERR_FRAME_MASK) !== 0 || errors < 0) {
      throw new RangeError(
        `RX frame errors ${hex(errors)} are not a mask of frame-error bits ${hex(R.RXD_ERR_FRAME_MASK)}`,
      );
    }
    const r = this.regs;
    if (errors & R.RXD_ERR_CE) r[R.CRCERRS >> 2]++;
    if (errors & R.RXD_ERR_SE) r[R.SYMERRS >> 2]++;
    if (errors & R.RXD_ERR_SEQ) r[R.SEC >> 2]++;
    if (errors & R.RXD_ERR_CXE) r[R.CEXTERR >> 2]++;
    if (errors & R.RXD_ERR_RXE) r[R.RXERRC >> 2]++;
    if (this.traceMask & TRACE_RX) this.trace(TRACE_RX, `RX bad packet, errors ${hex(errors)}`);
    return (rctl & R.RCTL_SBP) !== 0;
  }

  /** The receive address filter (hardware.md 5.7 step 3). Returns true to accept. */
  private receiveFilter(d: Uint8Array, rctl: number): boolean {
    const r = this.regs;
    if (rctl & R.RCTL_VFE && ((d[12] << 8) | d[13]) === (r[R.VET >> 2] & 0xffff)) {
      const vid = ((d[14] << 8) | d[15]) & 0xfff;
      if (!((r[(R.VFTA >> 2) + (vid >>> 5)] >>> (vid & 31)) & 1)) return false;
    }
    const multicast = (d[0] & 1) !== 0;
    if (multicast) {
      if ((d[0] & d[1] & d[2] & d[3] & d[4] & d[5]) === 0xff && rctl & R.RCTL_BAM) return true;
      if (rctl & R.RCTL_MPE) return true;
    } else if (rctl & R.RCTL_UPE) {
      return true;
    }
    const lo = (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0;
    const hi = d[4] | (d[5] << 8);
    for (let n = 0, i = R.RA >> 2; n < R.RA_ENTRIES; n++, i += 2) {
      const rah = r[i + 1];
      if (rah & R.RAH_AV && r[i] === lo && (rah & 0xffff) === hi) return true;
    }
    if (multicast) {
      const shift = MTA_SHIFT[(rctl & R.RCTL_MO_MASK) >>> R.RCTL_MO_SHIFT];
      const hash = (((d[5] << 8) | d[4]) >>> shift) & 0xfff;
      if ((r[(R.MTA >> 2) + (hash >>> 5)] >>> (hash & 31)) & 1) return true;
    }
    return false;
  }

  // ------------------------------------------------------------------ inspection

  /** The current MAC address held in RAL0/RAH0, as 6 bytes. */
  macAddress(): Uint8Array {
    const lo = this.regs[R.RA >> 2];
    const hi = this.regs[(R.RA + 4) >> 2];
    return Uint8Array.of(
      lo & 0xff,
      (lo >>> 8) & 0xff,
      (lo >>> 16) & 0xff,
      lo >>> 24,
      hi & 0xff,
      (hi >>> 8) & 0xff,
    );
  }

  /** Whether the PHY reports link up (STATUS.LU). */
  get linkUp(): boolean {
    return this.phyLinkUp;
  }

  /** The level the device drives on its INTx line. */
  get interruptLine(): boolean {
    return this.irqLine;
  }

  // ------------------------------------------------------------------ snapshot / restore

  /** Every register, the PHY, the EEPROM and the internal FSM/timer state, as plain JSON-able data. */
  snapshot(): E1000Snapshot {
    const regs: [number, number][] = [];
    for (let i = 0; i < this.regs.length; i++) if (this.regs[i] !== 0) regs.push([i, this.regs[i]]);
    return {
      version: 1,
      regs,
      phy: Array.from(this.phy),
      eeprom: Array.from(this.eeprom.words),
      microwire: this.eeprom.snapshot(),
      ioaddr: this.ioaddr,
      carrier: this.carrier,
      phyLinkUp: this.phyLinkUp,
      irqLine: this.irqLine,
      itrNextAllowedNs: this.itrNextAllowedNs,
      timers: {
        autoneg: this.autonegAt,
        itr: this.itrAt,
        rxPacket: this.rxPacketAt,
        rxAbsolute: this.rxAbsAt,
        txPacket: this.txPacketAt,
        txAbsolute: this.txAbsAt,
      },
      tx: {
        size: this.txSize,
        data: Array.from(this.txData.subarray(0, this.txSize)),
        sumNeeded: this.txSumNeeded,
        vlanNeeded: this.txVlanNeeded,
        vlanSpecial: this.txVlanSpecial,
        dropFrame: this.txDropFrame,
        context: Array.from(this.txContext),
      },
      counters: { ...this.counters },
      txFifo: {
        sizeBytes: this.txFifoSize,
        wireBusyUntilNs: this.wireBusyUntilNs,
        frames: this.txFifoFrames(),
        wake: this.txWakeAt,
      },
    };
  }

  private txFifoFrames(): [number, number][] {
    const out: [number, number][] = [];
    for (let k = 0; k < this.txFifoCount; k++) {
      const i = (this.txFifoHead + k) & TX_FIFO_SLOT_MASK;
      out.push([this.txFifoEnd[i], this.txFifoBytes[i]]);
    }
    return out;
  }

  /**
   * Restore state from `snapshot()` output; timers are re-armed at their saved deadlines on this
   * device's scheduler. Throws an Error naming the problem for an unknown version or a malformed
   * snapshot (the device is left unchanged in that case).
   */
  restore(s: E1000Snapshot): void {
    const v = (s as { version?: unknown } | null)?.version;
    if (v !== 1) throw new Error(`E1000.restore: unsupported snapshot version ${String(v)} (expected 1)`);
    if (!Array.isArray(s.regs) || s.phy?.length !== R.PHY_REGS || s.eeprom?.length !== R.EEPROM_WORDS)
      throw new Error("E1000.restore: malformed snapshot (regs, phy[32] and eeprom[64] are required)");
    for (const entry of s.regs) {
      if (!Array.isArray(entry) || !(entry[0] >= 0 && entry[0] < R.MMIO_REGS))
        throw new Error(`E1000.restore: bad register entry ${JSON.stringify(entry)}`);
    }
    const fifo = s.txFifo;
    if (fifo !== undefined && (!Array.isArray(fifo.frames) || fifo.frames.length > TX_FIFO_SLOTS))
      throw new Error(
        `E1000.restore: malformed txFifo (frames must be an array of at most ${TX_FIFO_SLOTS})`,
      );
    for (const t of ["autoneg", "itr", "rxPacket", "rxAbsolute", "txPacket", "txAbsolute"] as const)
      this.cancelTimer(t);
    this.cancelTxWake();
    this.regs.fill(0);
    for (const [i, value] of s.regs) this.regs[i] = value;
    this.phy.set(s.phy);
    this.eeprom.words.set(s.eeprom);
    this.eeprom.restore(s.microwire);
    this.ioaddr = s.ioaddr;
    this.carrier = s.carrier;
    this.phyLinkUp = s.phyLinkUp;
    this.itrNextAllowedNs = s.itrNextAllowedNs;
    this.writeRctl(this.regs[R.RCTL >> 2]);
    this.txSize = s.tx.size;
    this.txData.set(s.tx.data);
    this.txSumNeeded = s.tx.sumNeeded;
    this.txVlanNeeded = s.tx.vlanNeeded;
    this.txVlanSpecial = s.tx.vlanSpecial;
    this.txDropFrame = s.tx.dropFrame;
    this.txContext.set(s.tx.context);
    Object.assign(this.counters, s.counters);
    this.txFifoHead = 0;
    this.txFifoCount = 0;
    this.txFifoUsed = 0;
    if (fifo === undefined) {
      const rxKb = this.regs[R.PBA >> 2] & R.PBA_RXA_MASK;
      this.txFifoSize = rxKb >= PACKET_BUFFER_KB ? 0 : (PACKET_BUFFER_KB - rxKb) << R.PBA_BYTES_SHIFT;
      this.wireBusyUntilNs = 0;
    } else {
      this.txFifoSize = fifo.sizeBytes;
      this.wireBusyUntilNs = fifo.wireBusyUntilNs;
      for (const [endNs, bytes] of fifo.frames) {
        this.txFifoEnd[this.txFifoCount] = endNs;
        this.txFifoBytes[this.txFifoCount++] = bytes;
        this.txFifoUsed += bytes;
      }
    }
    const now = this.scheduler.now();
    const at = (deadline: number) => Math.max(deadline, now);
    const t = s.timers;
    const sch = this.scheduler;
    if (t.autoneg !== NO_TIMER) {
      this.autonegAt = at(t.autoneg);
      this.autonegId = sch.schedule(this.autonegAt, this.onAutonegDone);
    }
    if (t.itr !== NO_TIMER) {
      this.itrAt = at(t.itr);
      this.itrId = sch.schedule(this.itrAt, this.onItrExpired);
    }
    if (t.rxPacket !== NO_TIMER) {
      this.rxPacketAt = at(t.rxPacket);
      this.rxPacketId = sch.schedule(this.rxPacketAt, this.onRxTimer);
    }
    if (t.rxAbsolute !== NO_TIMER) {
      this.rxAbsAt = at(t.rxAbsolute);
      this.rxAbsId = sch.schedule(this.rxAbsAt, this.onRxTimer);
    }
    if (t.txPacket !== NO_TIMER) {
      this.txPacketAt = at(t.txPacket);
      this.txPacketId = sch.schedule(this.txPacketAt, this.onTxTimer);
    }
    if (t.txAbsolute !== NO_TIMER) {
      this.txAbsAt = at(t.txAbsolute);
      this.txAbsId = sch.schedule(this.txAbsAt, this.onTxTimer);
    }
    if (fifo !== undefined && fifo.wake !== NO_TIMER) {
      this.txWakeAt = at(fifo.wake);
      this.txWakeId = sch.schedule(this.txWakeAt, this.onTxWake);
    }
    if (s.irqLine !== this.irqLine) {
      this.irqLine = s.irqLine;
      this.port.setIrq(s.irqLine);
    }
  }
}
