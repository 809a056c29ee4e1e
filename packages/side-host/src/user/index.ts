/** User processes and system calls: public surface of src/user. */
export * as abi from "./abi.js";
export {
  CODE_PAGES,
  DEFAULT_DATA_PAGES,
  DEFAULT_STACK_PAGES,
  MAX_DATA_PAGES,
  TASK_SIZE_MAX,
  USER_CODE_BASE,
  USER_DATA_BASE,
  USER_STACK_TOP,
} from "./layout.js";
export {
  Process,
  type ProcessHost,
  type ProcessState,
  type ProcessStats,
  type UserProgram,
} from "./process.js";
export {
  Scheduler,
  type SchedulerRunOptions,
  type SchedulerStats,
  type SchedulerStop,
  SIGKILL,
  SIGSEGV,
  type SpawnOptions,
} from "./scheduler.js";
export {
  dispatchSyscall,
  MAX_FDS,
  SYSCALL_NAMES,
  SYSCALL_TABLE,
  type SyscallEnv,
  type SyscallHandler,
} from "./syscall.js";
export { accessOk, UserCopy } from "./uaccess.js";
