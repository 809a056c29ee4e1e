/**
 * @side-kernel/net-nic: an Intel 82540EM (e1000) device model for a simulated PCI bus, with a
 * wire (`Link`), traffic peers (`TrafficGenerator`, `Sink`, `Loopback`), a pcap writer/reader and
 * Ethernet/IPv4/UDP helpers.
 */
export type { DeviceError, DeviceErrorKind, E1000Counters, E1000Options, E1000Snapshot } from "./e1000.js";
export { E1000, RESET_VALUES } from "./e1000.js";
export { buildEepromImage, MicrowireEeprom, type MicrowireState } from "./eeprom.js";
export * from "./limits.js";
export { Link, type LinkDirectionStats, type LinkOptions, Loopback, wireTimeNs } from "./link.js";
export type { NetBackend, NetClient } from "./net.js";
export * from "./packet.js";
export {
  DEFAULT_SNAPLEN,
  LINKTYPE_ETHERNET,
  PCAP_MAGIC_NS,
  PCAP_MAGIC_US,
  type PcapFile,
  PcapReader,
  type PcapRecord,
  PcapWriter,
  readPcap,
} from "./pcap.js";
export { PHY_ACCESS, PHY_RESET_VALUES } from "./phy.js";
export * as regs from "./regs.js";
export * from "./scheduler.js";
export {
  type LatencyStats,
  MAX_WIRE_FRAME,
  MIN_WIRE_FRAME,
  Sink,
  type SinkStats,
  TRAFFIC_HEADER_LEN,
  TrafficGenerator,
  type TrafficOptions,
} from "./traffic.js";
