/**
 * A user process: its own address space (the kernel half shared with the kernel's root entries
 * 256..511, the user half holding its code, data and stack pages with U/S = 1), a file table of
 * sockets, and a program: a small state machine the scheduler steps. A step runs user code at
 * CPL 3 in the process's CR3 (loads and stores through the MMU) and usually ends in a system
 * call, made with `syscall(nr, ...)`: SYSCALL, the kernel's table, SYSRET, each charged.
 *
 * Blocking: a call that must wait (recvfrom on an empty queue, sendto on a stopped device
 * queue) puts the process to sleep on a wait queue and returns -ERESTARTSYS to the program,
 * which must return from its step and issue the same call again on its next step; the process
 * is still in the kernel then (no second SYSCALL is charged), as a woken sleeper would be.
 */
import type { AddressSpace, CpuException } from "@side-kernel/paging";
import type { UdpSocket } from "../net/stack.js";
import type { Sleeper, WaitQueue } from "../net/wait.js";
import { ERESTARTSYS } from "./abi.js";

/** What a process is doing. */
export type ProcessState = "runnable" | "blocked" | "exited";

/** A user program: a state machine stepped by the scheduler. */
export interface UserProgram {
  /** Name shown in reports. */
  readonly name: string;
  /**
   * Run user code from the current state, typically up to and including one system call. On
   * -ERESTARTSYS from `p.syscall` return at once and issue the same call on the next step.
   * May throw a CPU exception from a user access: the process is then killed (SIGSEGV).
   */
  step(p: Process): void;
}

/** What a process needs from its scheduler. */
export interface ProcessHost {
  /** Make a woken process runnable. */
  enqueue(p: Process): void;
  /** Perform system call `nr` for the running process `p` (see Scheduler.syscall). */
  syscall(
    p: Process,
    nr: number,
    a0: number,
    a1: number,
    a2: number,
    a3: number,
    a4: number,
    a5: number,
  ): number;
  /** Whether `p` is the process on the CPU in user mode. */
  runningInUser(p: Process): boolean;
  /** The MMU user code goes through. */
  readonly mmu: {
    load8(va: number): number;
    load32(va: number): number;
    store8(va: number, v: number): void;
    store32(va: number, v: number): void;
    readBytes(va: number, dst: Uint8Array, off: number, len: number): void;
    writeBytes(va: number, src: Uint8Array, off: number, len: number): void;
  };
}

/** Per-process counters. */
export interface ProcessStats {
  steps: number;
  syscalls: number;
  sleeps: number;
}

/** One user process. */
export class Process implements Sleeper {
  /** runnable / blocked / exited. */
  state: ProcessState = "runnable";
  /** Exit status once exited (128 + signal number when killed). */
  exitCode: number | null = null;
  /** The exception that killed it, if one did. */
  fault: CpuException | null = null;
  /** True while it sleeps inside a system call (it resumes in the kernel). */
  inKernel = false;
  /** The wait queue it sleeps on. */
  waitingOn: WaitQueue | null = null;
  /** File table: fd -> socket. */
  readonly fds: (UdpSocket | null)[] = [];
  /** O_NONBLOCK per fd. */
  readonly fdNonblock: boolean[] = [];
  /** Counters. */
  readonly stats: ProcessStats = { steps: 0, syscalls: 0, sleeps: 0 };
  /** Instruction pointer user code is said to run at (inside its code pages). */
  readonly rip: number;

  constructor(
    readonly pid: number,
    readonly program: UserProgram,
    /** Its address space (root = its CR3). */
    readonly space: AddressSpace,
    /** First code address, first data address and data size, initial stack pointer. */
    readonly codeBase: number,
    readonly dataBase: number,
    readonly dataSize: number,
    readonly stackTop: number,
    /** Frames of its user pages (freed at exit). */
    readonly frames: number[],
    private readonly host: ProcessHost,
  ) {
    this.rip = codeBase;
  }

  /** The program's name. */
  get name(): string {
    return this.program.name;
  }

  /** Sleeper: a blocked process becomes runnable. No-op otherwise. */
  wake(): void {
    if (this.state !== "blocked") return;
    this.state = "runnable";
    this.waitingOn = null;
    this.host.enqueue(this);
  }

  /** Put the process to sleep on `wq` (kernel side of a blocking call). Returns -ERESTARTSYS. */
  sleepOn(wq: WaitQueue): number {
    this.state = "blocked";
    this.waitingOn = wq;
    this.stats.sleeps++;
    wq.add(this);
    return -ERESTARTSYS;
  }

  /**
   * SYSCALL with number `nr` and up to six arguments (rdi, rsi, rdx, r10, r8, r9). Returns the
   * result (a negative errno on failure, -ENOSYS for an unknown number), or -ERESTARTSYS when
   * the process went to sleep or exited (the program must return from its step). Throws Error
   * when the process is not the one running.
   */
  syscall(nr: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
    return this.host.syscall(this, nr, a0, a1, a2, a3, a4, a5);
  }

  private user(op: string): ProcessHost["mmu"] {
    if (!this.host.runningInUser(this))
      throw new Error(`Process ${this.pid} (${this.name}): ${op} while not running in user mode`);
    return this.host.mmu;
  }

  /** User-mode 8-bit load (CPL 3, its CR3). Throws the MMU's #PF / #GP. */
  load8(va: number): number {
    return this.user("load8").load8(va);
  }

  /** User-mode 32-bit load (little-endian). Throws the MMU's #PF / #GP. */
  load32(va: number): number {
    return this.user("load32").load32(va);
  }

  /** User-mode 8-bit store. Throws the MMU's #PF / #GP. */
  store8(va: number, value: number): void {
    this.user("store8").store8(va, value);
  }

  /** User-mode 32-bit store (little-endian). Throws the MMU's #PF / #GP. */
  store32(va: number, value: number): void {
    this.user("store32").store32(va, value);
  }

  /** User-mode copy out of its memory into `dst`. Throws the MMU's #PF / #GP. */
  readBytes(va: number, dst: Uint8Array, offset = 0, length = dst.length - offset): void {
    this.user("readBytes").readBytes(va, dst, offset, length);
  }

  /** User-mode copy of `src` into its memory. Throws the MMU's #PF / #GP. */
  writeBytes(va: number, src: Uint8Array, offset = 0, length = src.length - offset): void {
    this.user("writeBytes").writeBytes(va, src, offset, length);
  }
}
