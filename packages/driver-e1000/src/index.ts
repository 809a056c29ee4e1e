/**
 * @side-kernel/driver-e1000: a Linux-style driver for the Intel 82540EM (e1000), written only
 * against the kernel API of @side-kernel/kservice. It runs unchanged natively (ring 0) or
 * isolated (ring 3, every kernel call checked).
 */
export { e1000Driver } from "./driver.js";
export {
  decodeRxDescriptor,
  descUnused,
  eepromChecksum,
  eepromChecksumValid,
  eepromChecksumWord,
  encodeTxDescriptor,
  itrRegister,
  mtaBit,
  mtaHash,
  mtaRegister,
  newRxDescriptor,
  type RxDescriptor,
  ringBytes,
  rxDescVerdict,
  txDescDone,
  txDescLower,
} from "./helpers.js";
export {
  Adapter,
  BufferInfo,
  E1000_FLAG_DISCARDING,
  E1000_FLAG_DOWN,
  E1000_FLAG_UP,
  HwStats,
  ModuleData,
  Ring,
  RxRing,
  STATS_REGISTERS,
  TxRing,
} from "./layout.js";
export {
  E1000_DEFAULT_RXD,
  E1000_DEFAULT_TXD,
  E1000_DRIVER_NAME,
  E1000_WATCHDOG_INTERVAL,
  EEPROM_MICROWIRE_DELAY_US,
  MAXIMUM_ETHERNET_VLAN_SIZE,
} from "./limits.js";
export { E1000_ID_TABLE, type E1000DeviceId, MODULE_DATA_SIZE, PCI_VENDOR_ID_INTEL } from "./main.js";
