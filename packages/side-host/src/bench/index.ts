/** Benchmark apps and the runner: public surface of src/bench. */
export {
  APP_HEADER_LEN,
  MAX_APP_PAYLOAD,
  type TimeSource,
  UdpReceiverApp,
  type UdpReceiverOptions,
  UdpSenderApp,
  type UdpSenderOptions,
} from "./apps.js";
export { PacedScheduler } from "./pacing.js";
export {
  runUdpBenchmark,
  summariseLatency,
  type UdpBenchmarkLatency,
  type UdpBenchmarkLoss,
  type UdpBenchmarkOptions,
  type UdpBenchmarkResult,
  udpPayloadForFrame,
} from "./runner.js";
