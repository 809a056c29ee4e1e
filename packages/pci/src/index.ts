export type {
  AccessSize,
  BarDefinition,
  CapabilityDefinition,
  PciDeviceModel,
  PciDevicePort,
  PciIdentity,
  ResetKind,
} from "./device.js";
