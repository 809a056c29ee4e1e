/**
 * @side-kernel/privilege: x86-64 CPU privilege state (CPL, RFLAGS, control registers through
 * the MMU, MSRs), the TSS with its I/O permission bitmap, the IDT, privileged-instruction
 * checks, exception/interrupt delivery with real stack frames, the crossings (SYSCALL/SYSRET,
 * SYSENTER/SYSEXIT, INT n/IRET, MOV CR3), a cited cycle cost model, a simulated clock and an
 * event queue.
 */
export {
  type AccessCounters,
  ChargeCategory,
  COST_CATEGORIES,
  type CostCategory,
  SimClock,
  type SimClockOptions,
} from "./clock.js";
export {
  type CostModel,
  copyCycles,
  DEFAULT_COSTS,
  DEFAULT_HZ,
  MMIO_READ_NS,
  makeCostModel,
  NS_PER_SECOND,
} from "./costs.js";
export {
  Cpu,
  type CpuMmu,
  type CpuOptions,
  type DeliverOptions,
  FIRST_EXTERNAL_VECTOR,
  PMC_COUNT,
  type PortIo,
} from "./cpu.js";
export { type EventClock, EventQueue, type EventScheduler } from "./events.js";
export {
  becomesDoubleFault,
  DoubleFault,
  IDT_ERROR_CODE_EXT,
  IDT_ERROR_CODE_IDT,
  InvalidOpcode,
  idtErrorCode,
  isContributory,
  SegmentNotPresent,
  TripleFault,
  vectorHasErrorCode,
} from "./faults.js";
export {
  GATE_PRESENT,
  GATE_TYPE_INTERRUPT,
  GATE_TYPE_TRAP,
  type Gate,
  type GateOptions,
  type GateType,
  IDT_GATE_SIZE,
  IDT_VECTORS,
  Idt,
  MAX_IST,
} from "./idt.js";
export { PRIVILEGED_INSTRUCTIONS, type PrivilegedInstruction, type PrivilegeRule } from "./privileged.js";
export * from "./regs.js";
export {
  IO_BITMAP_BYTES,
  IST_SLOTS,
  TSS_HW_SIZE,
  TSS_IO_MAP_BASE,
  TSS_IST1,
  TSS_RSP0,
  Tss,
} from "./tss.js";
