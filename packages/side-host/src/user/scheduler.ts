/**
 * The process scheduler and the run loop with processes in it. One CPU: the loop alternates
 * between kernel work at a boundary (due device and timer events, pending interrupts,
 * softirqs, work items: the kernel's RunHooks) and one step of the next runnable process
 * (round robin). When no process can run, the machine's own run loop idles the clock to the
 * next event until a sleeper wakes.
 *
 * Context switch: loading the process's CR3 (charged by the CPU as a MOV CR3 that flushes the
 * non-global TLB entries; the refill shows up as TLB misses). The kernel half is shared, so
 * kernel code keeps running in whichever process's CR3 is loaded (Linux's lazy TLB).
 *
 * Kernel work (due events, interrupts, softirqs) runs at each system call's exit, before SYSRET,
 * and between slices. Model limits: interrupts are not taken in the middle of user code, and a
 * program step is not preempted. A user-mode exception (a #PF from a user
 * access) kills the process (SIGSEGV) after charging an exception entry; the kernel goes on.
 */
import { AddressSpace, CpuException, PAGE_SIZE } from "@side-kernel/paging";
import { Livelock } from "../errors.js";
import type { Kernel } from "../kernel.js";
import { KERNEL_PML4_COUNT, KERNEL_PML4_FIRST } from "../layout.js";
import { LIVELOCK_STEPS } from "../limits.js";
import type { UdpStack } from "../net/stack.js";
import { ERESTARTSYS } from "./abi.js";
import {
  CODE_PAGES,
  DEFAULT_DATA_PAGES,
  DEFAULT_STACK_PAGES,
  MAX_DATA_PAGES,
  USER_CODE_BASE,
  USER_DATA_BASE,
  USER_STACK_TOP,
} from "./layout.js";
import { Process, type ProcessHost, type UserProgram } from "./process.js";
import { dispatchSyscall, type SyscallEnv } from "./syscall.js";
import { UserCopy } from "./uaccess.js";

/** Signal number of SIGSEGV; a killed process exits with 128 + signal. */
export const SIGSEGV = 11;
/** Signal number of SIGKILL. */
export const SIGKILL = 9;
/**
 * Most steps a process runs back to back before the scheduler looks at the run queue again
 * (a time slice; wakes of other processes end a slice at once).
 */
export const SLICE_STEPS = 1024;
/** Linux kernel/softirq.c MAX_SOFTIRQ_TIME: __do_softirq runs at most 2 ms before deferring to ksoftirqd. */
export const MAX_SOFTIRQ_TIME_NS = 2e6;
/** Linux kernel/softirq.c MAX_SOFTIRQ_RESTART: at most 10 rounds per __do_softirq. */
export const MAX_SOFTIRQ_RESTART = 10;
/**
 * Time slice of a process while ksoftirqd is runnable: 3 ms, CFS's sched_latency (6 ms on one
 * CPU, kernel/sched/fair.c sysctl_sched_latency) shared by the two runnable tasks.
 */
export const SCHED_SLICE_NS = 3e6;
/** Nanoseconds per second. */
const NS_PER_S = 1e9;
/** Exit status offset of a process killed by a signal (the shell's convention). */
const SIGNAL_EXIT_BASE = 128;

/** Options of `Scheduler.spawn`. */
export interface SpawnOptions {
  /** Data pages (user, RW, NX) at USER_DATA_BASE; default 16 (64 KiB), at most 4096. */
  dataPages?: number;
  /** Stack pages below USER_STACK_TOP; default 2. */
  stackPages?: number;
}

/** Options of `Scheduler.run`. */
export interface SchedulerRunOptions {
  /** Stop as soon as this holds (checked between steps and while idle). */
  until?: () => boolean;
  /** Stop at this simulated time (ns). */
  untilNs?: number;
}

/** Why `run` returned. */
export type SchedulerStop = "until" | "time" | "idle";

/** Scheduler counters. */
export interface SchedulerStats {
  /** Process steps run. */
  steps: number;
  /** System calls made (restarts after a sleep not counted twice). */
  syscalls: number;
  /** CR3 loads for a process switch. */
  contextSwitches: number;
  /** Processes killed by an exception. */
  killed: number;
  /** Times softirq work overran its budget at a boundary and was deferred to ksoftirqd. */
  ksoftirqdWakeups: number;
}

/** Runs user processes on the kernel's CPU. */
export class Scheduler implements ProcessHost, SyscallEnv {
  /** The stack sockets live in. */
  readonly stack: UdpStack;
  /** copy_from_user / copy_to_user. */
  readonly uaccess: UserCopy;
  /** Counters. */
  readonly stats: SchedulerStats = {
    steps: 0,
    syscalls: 0,
    contextSwitches: 0,
    killed: 0,
    ksoftirqdWakeups: 0,
  };
  /** True while softirq work waits for ksoftirqd (it overran its budget at a boundary). */
  softirqDeferred = false;
  /** Every process ever spawned, by pid (exited ones stay for their status). */
  readonly processes = new Map<number, Process>();
  private readonly kn: Kernel;
  private readonly runQueue: Process[] = [];
  private current: Process | null = null;
  private nextPid = 1;
  private readonly idleUntil: () => boolean;
  private userUntil: (() => boolean) | undefined = undefined;

  /** A scheduler for `kernel`'s CPU whose sockets live in `stack`. */
  constructor(kernel: Kernel, stack: UdpStack) {
    this.kn = kernel;
    this.stack = stack;
    this.uaccess = new UserCopy(kernel.machine.cpu, kernel.machine.mmu);
    this.idleUntil = () =>
      this.runQueue.length > 0 || this.stack.pollTxWake() > 0 || (this.userUntil?.() ?? false);
  }

  /** The MMU (ProcessHost). */
  get mmu(): Kernel["mmu"] {
    return this.kn.mmu;
  }

  /** Processes not yet exited. */
  get live(): number {
    let n = 0;
    for (const p of this.processes.values()) if (p.state !== "exited") n++;
    return n;
  }

  /**
   * Create a process running `program`: a new address space sharing the kernel's root entries
   * 256..511, code, data and stack pages from fresh frames (user pages), runnable at once.
   * Throws RangeError for bad page counts, and OutOfFramesError when memory runs out (nothing
   * is left allocated then).
   */
  spawn(program: UserProgram, options: SpawnOptions = {}): Process {
    const dataPages = options.dataPages ?? DEFAULT_DATA_PAGES;
    const stackPages = options.stackPages ?? DEFAULT_STACK_PAGES;
    if (!Number.isInteger(dataPages) || dataPages < 0 || dataPages > MAX_DATA_PAGES)
      throw new RangeError(`Scheduler.spawn: dataPages ${String(dataPages)} is not 0..${MAX_DATA_PAGES}`);
    if (!Number.isInteger(stackPages) || stackPages < 1 || stackPages > MAX_DATA_PAGES)
      throw new RangeError(`Scheduler.spawn: stackPages ${String(stackPages)} is not 1..${MAX_DATA_PAGES}`);
    const m = this.kn.machine;
    const space = new AddressSpace(m.memory, m.frames);
    const frames: number[] = [];
    try {
      space.shareRootEntries(this.kn.space, KERNEL_PML4_FIRST, KERNEL_PML4_COUNT);
      const mapPages = (base: number, n: number, writable: boolean, noExecute: boolean) => {
        for (let i = 0; i < n; i++) {
          const pa = m.frames.alloc(); // zeroed
          frames.push(pa);
          space.map(base + i * PAGE_SIZE, pa, PAGE_SIZE, { user: true, writable, noExecute });
        }
      };
      mapPages(USER_CODE_BASE, CODE_PAGES, false, false);
      mapPages(USER_DATA_BASE, dataPages, true, true);
      mapPages(USER_STACK_TOP - stackPages * PAGE_SIZE, stackPages, true, true);
    } catch (e) {
      space.destroy();
      for (const pa of frames) m.frames.free(pa);
      throw e;
    }
    const p = new Process(
      this.nextPid++,
      program,
      space,
      USER_CODE_BASE,
      USER_DATA_BASE,
      dataPages * PAGE_SIZE,
      USER_STACK_TOP,
      frames,
      this,
    );
    this.processes.set(p.pid, p);
    this.runQueue.push(p);
    return p;
  }

  /** ProcessHost: a woken process joins the run queue. */
  enqueue(p: Process): void {
    if (p.state === "runnable" && !this.runQueue.includes(p)) this.runQueue.push(p);
  }

  /** ProcessHost: `p` is on the CPU at CPL 3. */
  runningInUser(p: Process): boolean {
    return this.current === p && this.kn.machine.cpu.cpl === 3;
  }

  /** SyscallEnv: mark `p` exited with `code`; it is reaped after its step. */
  exit(p: Process, code: number): void {
    p.state = "exited";
    p.exitCode = code;
  }

  /**
   * ProcessHost: the system call path. Entering from user mode charges SYSCALL (CPL 0, IF
   * cleared by FMASK, then re-enabled by the entry code as Linux's do_syscall_64 does); a
   * process woken inside a call re-enters the handler without a new SYSCALL. A result goes back
   * with SYSRET (charged); a sleep or exit returns -ERESTARTSYS and stays in the kernel.
   * Throws Error when `p` is not the running process.
   */
  syscall(
    p: Process,
    nr: number,
    a0: number,
    a1: number,
    a2: number,
    a3: number,
    a4: number,
    a5: number,
  ): number {
    if (this.current !== p) throw new Error(`syscall by process ${p.pid}, which is not running`);
    const m = this.kn.machine;
    const cpu = m.cpu;
    if (!p.inKernel) {
      if (cpu.cpl !== 3) throw new Error(`syscall by process ${p.pid} while not in user mode`);
      m.clock.chargeAccesses(m.mmu, "user");
      cpu.rip = p.rip;
      cpu.syscall();
      cpu.sti();
      p.inKernel = true;
      p.stats.syscalls++;
      this.stats.syscalls++;
    }
    const r = dispatchSyscall(this, p, nr, a0, a1, a2, a3, a4, a5);
    if (p.state !== "runnable") {
      m.clock.chargeAccesses(m.mmu, "kernel");
      return -ERESTARTSYS;
    }
    // Work pending on the way out (interrupts, softirqs, due device events) runs before SYSRET.
    this.kernelWork();
    m.clock.chargeAccesses(m.mmu, "kernel");
    p.inKernel = false;
    cpu.sysret();
    return r;
  }

  /** Kill `p` (as by a signal): it exits with 128 + `signal` and is reaped at once if not running. */
  kill(p: Process, signal: number): void {
    if (p.state === "exited") return;
    this.exit(p, SIGNAL_EXIT_BASE + signal);
    if (this.current !== p) this.reap(p);
  }

  /** Free an exited process: close its sockets, leave wait queues, drop its address space and frames. */
  private reap(p: Process): void {
    const i = this.runQueue.indexOf(p);
    if (i >= 0) this.runQueue.splice(i, 1);
    p.waitingOn?.remove(p);
    p.waitingOn = null;
    for (let fd = 0; fd < p.fds.length; fd++) {
      const s = p.fds[fd];
      if (s !== null) this.stack.close(s);
      p.fds[fd] = null;
    }
    const m = this.kn.machine;
    if (m.mmu.cr3 === p.space.root) m.cpu.switchAddressSpace(this.kn.space.root);
    p.space.destroy();
    for (const pa of p.frames) m.frames.free(pa);
    p.frames.length = 0;
  }

  /**
   * Run `p` for a slice: steps of its program, back to back while it stays runnable in user
   * mode, no other process is runnable, `until` does not hold and time is left (at most
   * SLICE_STEPS). Kernel work pending at each system call runs before its SYSRET, so the
   * process need not leave user mode between its steps.
   */
  private runSlice(p: Process, until: (() => boolean) | undefined, untilNs: number): void {
    const m = this.kn.machine;
    const cpu = m.cpu;
    if (m.mmu.cr3 !== p.space.root) {
      m.clock.chargeAccesses(m.mmu, "kernel");
      cpu.switchAddressSpace(p.space.root);
      this.stats.contextSwitches++;
    }
    this.current = p;
    if (!p.inKernel) cpu.cpl = 3;
    const sliceEnd = m.clock.busyCycles + (SCHED_SLICE_NS * m.clock.hz) / NS_PER_S;
    try {
      for (let i = 0; i < SLICE_STEPS; i++) {
        p.stats.steps++;
        this.stats.steps++;
        p.program.step(p);
        if (p.state !== "runnable" || p.inKernel || this.runQueue.length > 0) break;
        if (m.clock.nowNs >= untilNs || until?.()) break;
        if (this.softirqDeferred && m.clock.busyCycles >= sliceEnd) break; // ksoftirqd's turn
      }
    } catch (e) {
      if (!(e instanceof CpuException) || cpu.cpl !== 3) throw e;
      // A user-mode fault: exception entry into the kernel, then SIGSEGV.
      m.clock.chargeAccesses(m.mmu, "user");
      cpu.cpl = 0;
      m.clock.charge("exception", cpu.costs.exceptionEntry);
      p.fault = e;
      this.stats.killed++;
      this.exit(p, SIGNAL_EXIT_BASE + SIGSEGV);
      this.kn.log.write("warn", "kernel", `${p.name}[${p.pid}]: ${e.message}: killed (SIGSEGV)`);
    } finally {
      m.clock.chargeAccesses(m.mmu, cpu.cpl === 3 ? "user" : "kernel");
      if (cpu.cpl !== 0) cpu.cpl = 0;
      this.current = null;
    }
    if (p.state === "exited") this.reap(p);
  }

  /**
   * Kernel work at a boundary (an interrupt or system-call exit): due events, pending
   * interrupts, work items, and softirqs as Linux's irq_exit -> __do_softirq runs them: at most
   * MAX_SOFTIRQ_RESTART rounds or MAX_SOFTIRQ_TIME, after which the rest is deferred to
   * ksoftirqd (`softirqDeferred`), which the run loop schedules like a process. While deferred,
   * boundaries leave softirqs alone (Linux skips them at irq exit while ksoftirqd is pending).
   * Throws Livelock on an interrupt storm.
   */
  private kernelWork(): void {
    const m = this.kn.machine;
    const kn = this.kn;
    const clock = m.clock;
    m.events.runDue();
    const start = clock.busyCycles;
    const limit = (MAX_SOFTIRQ_TIME_NS * clock.hz) / NS_PER_S;
    let rounds = 0;
    let steps = 0;
    for (;;) {
      let did = kn.deliverInterrupts();
      if (!this.softirqDeferred && kn.runSoftirqs()) {
        did = true;
        if (++rounds >= MAX_SOFTIRQ_RESTART || clock.busyCycles - start >= limit) {
          this.softirqDeferred = true;
          this.stats.ksoftirqdWakeups++;
        }
      }
      did = kn.runWork() || did;
      if (!did) return;
      if (++steps > LIVELOCK_STEPS)
        throw new Livelock(`Scheduler: ${LIVELOCK_STEPS} rounds of kernel work without a process step`);
      m.events.runDue();
    }
  }

  /**
   * ksoftirqd's turn: softirq rounds (with interrupts and due events between them) until none
   * is pending or SCHED_SLICE_NS of busy time has passed. Clears `softirqDeferred` when done.
   */
  private runKsoftirqd(): void {
    const m = this.kn.machine;
    const kn = this.kn;
    const clock = m.clock;
    const start = clock.busyCycles;
    const slice = (SCHED_SLICE_NS * clock.hz) / NS_PER_S;
    for (;;) {
      m.events.runDue();
      kn.deliverInterrupts();
      if (!kn.runSoftirqs()) {
        this.softirqDeferred = false;
        return;
      }
      if (clock.busyCycles - start >= slice) return;
    }
  }

  /**
   * The run loop with processes: kernel work at each boundary, then one step of the next
   * runnable process; with none runnable, the machine idles to its next event until a sleeper
   * wakes. Returns "until" when `until()` holds, "time" at `untilNs`, "idle" when nothing can
   * run and no event is pending (every process exited, or all asleep with nothing to wake
   * them). Throws Livelock, KernelPanic and KernelBug from the kernel.
   */
  run(options: SchedulerRunOptions = {}): SchedulerStop {
    const until = options.until;
    const untilNs = options.untilNs ?? Number.POSITIVE_INFINITY;
    const m = this.kn.machine;
    this.userUntil = until;
    try {
      for (;;) {
        if (until?.()) return "until";
        if (m.clock.nowNs >= untilNs) return "time";
        this.kernelWork();
        if (this.softirqDeferred) this.runKsoftirqd();
        this.stack.pollTxWake();
        const p = this.runQueue.shift();
        if (p !== undefined) {
          this.runSlice(p, until, untilNs);
          if (p.state === "runnable") this.runQueue.push(p);
          continue;
        }
        // Idle: the machine's loop runs everything, softirqs included (ksoftirqd has the CPU).
        this.softirqDeferred = false;
        const r = m.run({ until: this.idleUntil, untilNs });
        if (r.reason === "idle" && this.runQueue.length === 0) return "idle";
      }
    } finally {
      this.userUntil = undefined;
    }
  }

  /** Kill every live process with SIGKILL and reap it (for teardown). */
  killAll(): void {
    for (const p of this.processes.values()) if (p.state !== "exited") this.kill(p, SIGKILL);
  }
}
