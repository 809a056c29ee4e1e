/**
 * The seam between the PCI bus and a device model (as QEMU's PCIDeviceClass and v86's
 * pci.register_device). A device declares its identity and BARs as data; the bus owns the
 * configuration space built from them, decodes accesses to the BARs, and gives the device a
 * port for DMA and interrupts. Device packages import these types only.
 */

/** A Base Address Register a device asks for. Sizes are powers of two. */
export type BarDefinition =
  | { readonly kind: "mem32"; readonly size: number; readonly prefetchable?: boolean }
  | { readonly kind: "mem64"; readonly size: number; readonly prefetchable?: boolean }
  | { readonly kind: "io"; readonly size: number };

/** The read-only identity fields of a type-0 configuration header. */
export interface PciIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly revision: number;
  /** 24-bit class code: base class << 16 | subclass << 8 | prog-if (0x020000 = Ethernet). */
  readonly classCode: number;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
  /** 0 = no INTx pin, 1 = INTA ... 4 = INTD. */
  readonly interruptPin: number;
  readonly cacheLineSize?: number;
}

/** Capabilities a device may advertise; the bus lays them out in configuration space. */
export type CapabilityDefinition =
  | { readonly kind: "pm" }
  | {
      readonly kind: "msi";
      readonly vectors: 1 | 2 | 4 | 8 | 16 | 32;
      readonly is64: boolean;
      readonly perVectorMask: boolean;
    }
  | {
      readonly kind: "msix";
      readonly tableSize: number;
      readonly bar: number;
      readonly tableOffset: number;
      readonly pbaOffset: number;
    }
  | { readonly kind: "pcie"; readonly flr: boolean };

/** Access width of an MMIO, port or configuration access, in bytes. */
export type AccessSize = 1 | 2 | 4;

/** Why a device is reset. */
export type ResetKind = "power-on" | "flr" | "bus";

/**
 * What a device model implements. `bars[i]` describes BAR i; a 64-bit BAR occupies slot i and
 * leaves slot i + 1 undefined.
 */
export interface PciDeviceModel {
  readonly identity: PciIdentity;
  readonly bars: readonly (BarDefinition | undefined)[];
  readonly capabilities?: readonly CapabilityDefinition[];
  /**
   * Optional expansion ROM image. The bus sizes the ROM BAR (0x30) to the next power of two of at
   * least 2 KiB and serves reads from this image while ROM enable and Memory space are set.
   * Absent: the ROM BAR reads 0. (Addition to the seam; optional, so existing models still fit.)
   */
  readonly rom?: Uint8Array;
  /** Called once when the device is plugged into a slot. */
  attach(port: PciDevicePort): void;
  /** A read that the bus decoded to `offset` within BAR `bar`. Never throws. */
  barRead(bar: number, offset: number, size: AccessSize): number;
  /** A write that the bus decoded to `offset` within BAR `bar`. Never throws. */
  barWrite(bar: number, offset: number, size: AccessSize, value: number): void;
  /** Return the device's own state to its power-on values (the bus resets config space). */
  reset(kind: ResetKind): void;
  /** Optional: the Command register changed (QEMU's e1000 flushes queued RX on bus-master enable). */
  commandChanged?(command: number): void;
}

/** What the bus gives a device: DMA through bus-master gating and the IOMMU hook, and interrupts. */
export interface PciDevicePort {
  /**
   * Read `length` bytes of bus address `addr` into `dst` at `dstOffset`. Returns false on a master
   * abort (bus master off, IOMMU fault, or an address outside memory); the abort is recorded.
   */
  dmaRead(addr: number, dst: Uint8Array, dstOffset: number, length: number): boolean;
  /** Write `length` bytes of `src` from `srcOffset` to bus address `addr`. Returns false on a master abort. */
  dmaWrite(addr: number, src: Uint8Array, srcOffset: number, length: number): boolean;
  /** Drive the INTx line of the device's interrupt pin (level-triggered). */
  setIrq(level: boolean): void;
  /** Send MSI/MSI-X message `vector` if enabled; returns false when MSI is not enabled or masked. */
  signalMsi(vector: number): boolean;
  /** The current Command register (bit 2 = bus master). */
  readonly command: number;
}
