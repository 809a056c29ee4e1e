/**
 * @side-kernel/pci: a PCI bus for simulators. Configuration space built from a device's
 * declared identity, BARs and capabilities (PM, MSI, MSI-X, PCI Express with FLR); ECAM and
 * CF8/CFC configuration access; decode of memory and I/O BARs gated by the Command register;
 * firmware-style enumeration; DMA with bus-master gating, an IOMMU hook and a master-abort log;
 * wired-OR INTx, MSI and MSI-X delivery.
 */
export { type AddressWindow, PciBus, type PciBusOptions, type PciSlot } from "./bus.js";
export type {
  AccessSize,
  BarDefinition,
  CapabilityDefinition,
  PciDeviceModel,
  PciDevicePort,
  PciIdentity,
  ResetKind,
} from "./device.js";
export {
  type EnumeratedBar,
  type EnumeratedCapability,
  type EnumeratedFunction,
  enumerate,
  PCI_INTERRUPT_LINE_NONE,
  walkCapabilities,
} from "./enumerate.js";
export {
  bdf,
  type DmaAbort,
  type DmaAbortReason,
  type DmaMemory,
  formatBdf,
  type InterruptSink,
  type Iommu,
  PciFunction,
} from "./function.js";
export {
  DEFAULT_ABORT_LOG_LIMIT,
  DEFAULT_ECAM_BASE,
  DEFAULT_ECAM_BUSES,
  DEFAULT_INTX_ROUTING,
  DEFAULT_IO_WINDOW,
  DEFAULT_MMIO_WINDOW,
} from "./limits.js";
export * from "./regs.js";
