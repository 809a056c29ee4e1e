/**
 * @side-kernel/side-host: the machine (memory, MMU, CPU, clock, interrupt controller, PCI bus
 * with an e1000 at 00:03.0, a wire to a peer) and the kernel core in which Linux-style network
 * drivers run natively (ring 0, direct calls) or isolated in SIDE driver domains (ring 3 in the
 * kernel address space, every kernel call a checked crossing).
 */

// UDP/IPv4 stack, user processes and the benchmark runner (src/net, src/user, src/bench).
export * from "./bench/index.js";
export { applyEffect, bindNative, SERVICE_IMPLS } from "./binding.js";
export {
  type DomainOptions,
  DRIVER_STACK_SIZE,
  DriverDomain,
  REGION_POOL_OFFSET,
  REGION_STACK_OFFSET,
  REGION_TEXT_OFFSET,
} from "./domain.js";
export {
  type CallHost,
  type DriverCounters,
  DriverInstance,
  type DriverMode,
  type ExecutionContext,
  type LoadOptions,
} from "./driver.js";
export { hex, hexAddr, KernelBug, KernelPanic, Livelock, ModuleLeak } from "./errors.js";
export { type FailpointOptions, Failpoints, failureValue, type InjectedFailure } from "./failpoints.js";
export {
  type BlockKind,
  Heap,
  type HeapBlock,
  type HeapStats,
  type PageSource,
  type ZeroableMemory,
} from "./heap.js";
export { IntegrityChecker, type IntegrityReport, type IntegritySnapshot } from "./integrity.js";
export { type IrqAction, IrqCore } from "./irq.js";
export { InterruptController, type MsiMessage } from "./irqchip.js";
export {
  bindIsolated,
  createIsolatedInstance,
  DEFAULT_UPCALL_ACCESS_BUDGET,
  type DriverFaultReport,
  type FaultListener,
  IsolatedDriverInstance,
  type IsolationCounters,
  type IsolationOptions,
  SIDE_GATE_VECTOR,
} from "./isolated-binding.js";
export {
  ENTRY_SYSCALL_64,
  KERNEL_OWNER,
  KERNEL_TEXT,
  Kernel,
  type KernelOptions,
  type LeakReport,
  MIN_DMA_MASK,
  NS_PER_JIFFY,
} from "./kernel.js";
export { KernelLog, type LogLevel, type LogLine } from "./klog.js";
export * from "./layout.js";
export * from "./limits.js";
export {
  Machine,
  type MachineOptions,
  NIC_PCI_DEVICE,
  type PeerKind,
  type RunHooks,
  type RunOptions,
  type RunResult,
} from "./machine.js";
export * from "./net/index.js";
export {
  NET_XMIT_DROP,
  NET_XMIT_SUCCESS,
  NetCore,
  type NetdevCounters,
  type NetdevRecord,
  type ProtocolHandler,
} from "./netdev.js";
export { PciCore, type PciDevRecord, type PciDriverRecord } from "./pci-core.js";
export { SkbCore, type SkbRecord } from "./skb.js";
export { type NapiRecord, Softirq } from "./softirq.js";
export { TimerCore, WorkQueue } from "./timers.js";
export * from "./user/index.js";
export { DirectMapPages, VirtualRegion } from "./vmem.js";
