/**
 * @side-kernel/kservice: the kernel API that drivers import (types, struct layouts, constants),
 * the service table, the checked-call layer's argument checks, the resource ledger, and the
 * address map (AddrMap) the ledger and the host's per-packet bookkeeping are built on.
 */
export { AddrMap } from "./addrmap.js";
export type {
  ArchInstructions,
  DeviceAccessors,
  DriverModule,
  EntryPoint,
  KernelApi,
  MemoryAccessors,
} from "./api.js";
export {
  type CallCheck,
  type CallerDomain,
  checkArgument,
  checkCall,
  checkCompiledCall,
  compileCallCheck,
} from "./checks.js";
export * from "./constants.js";
export {
  DriverFault,
  type DriverFaultKind,
  type FaultSite,
  illegalArgument,
  unknownService,
} from "./faults.js";
export * from "./layouts.js";
export { Ledger, type LedgerEntry } from "./ledger.js";
export {
  type ArgSpec,
  type Effect,
  type HandleKind,
  type KernelServices,
  RESOURCE_KINDS,
  type ResourceKind,
  type ReturnKind,
  type RvlMode,
  SERVICES,
  type ServiceName,
  type ServiceSpec,
  serviceSpec,
} from "./spec.js";
