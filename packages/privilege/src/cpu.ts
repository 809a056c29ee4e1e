/**
 * The CPU's privilege state and the instructions that depend on it: privileged instructions
 * with the CPL / IOPL / I/O-bitmap checks of hardware.md 3.1, IDT delivery of exceptions and
 * interrupts with the 64-bit frame written to simulated memory (hardware.md 3.3), and the
 * crossings SYSCALL/SYSRET, SYSENTER/SYSEXIT, INT n/IRET and MOV CR3 (hardware.md 3.4), each
 * charging its cost (costs.ts) to the clock.
 *
 * Instructions are methods. A method that faults throws the CpuException (paging's
 * `GeneralProtection`, this package's `InvalidOpcode`, ...) and leaves the state unchanged;
 * the caller (a kernel, a host) decides whether to `deliver` it. Host-side misuse (a port
 * outside 0..0xFFFF, a size of 3, a vector of 300) is a RangeError/TypeError, never a CPU fault.
 *
 * RIP is not advanced by this model: `rip` is whatever the caller set, and INT n, SYSCALL and
 * delivery save it as the return address. Set it to the next instruction (traps, INT n,
 * SYSCALL) or to the faulting one (faults) before calling.
 */
import {
  type CpuException,
  CR4_PCE,
  CR4_PCIDE,
  CR4_TSD,
  EFER_SCE,
  formatLinear,
  GeneralProtection,
  MSR_EFER,
  PageFault,
  RFLAGS_AC,
  RFLAGS_FIXED,
  RFLAGS_IF,
  RFLAGS_IOPL_MASK,
  RFLAGS_IOPL_SHIFT,
  RFLAGS_NT,
  RFLAGS_RF,
  RFLAGS_TF,
  RFLAGS_VM,
  X86_TRAP_DF,
  X86_TRAP_PF,
} from "@side-kernel/paging";
import { type AccessCounters, type ChargeCategory, SimClock } from "./clock.js";
import { type CostModel, DEFAULT_COSTS } from "./costs.js";
import {
  becomesDoubleFault,
  DoubleFault,
  InvalidOpcode,
  idtErrorCode,
  isCpuException,
  SegmentNotPresent,
  TripleFault,
  vectorHasErrorCode,
} from "./faults.js";
import {
  GATE_DPL_SHIFT,
  GATE_PRESENT,
  GATE_TYPE_INTERRUPT,
  GATE_TYPE_MASK,
  IDT_VECTORS,
  Idt,
} from "./idt.js";
import {
  CR8_MASK,
  FRAME_SLOT,
  KERNEL_CS,
  KERNEL_DS,
  LINEAR_ADDRESS_LIMIT,
  MAX_PORT,
  MSR_CSTAR,
  MSR_FMASK,
  MSR_FS_BASE,
  MSR_GS_BASE,
  MSR_KERNEL_GS_BASE,
  MSR_LSTAR,
  MSR_STAR,
  MSR_SYSENTER_CS,
  MSR_SYSENTER_EIP,
  MSR_SYSENTER_ESP,
  MSR_TSC,
  NULL_SELECTOR,
  RFLAGS_DEFINED_MASK,
  SELECTOR_RPL_MASK,
  STACK_ALIGN,
  STAR_SS_OFFSET,
  SYSENTER_SS_OFFSET,
  SYSEXIT64_CS_OFFSET,
  SYSEXIT64_SS_OFFSET,
  SYSRET_CS_OFFSET,
  USER_CS,
  USER_DS,
} from "./regs.js";
import { Tss } from "./tss.js";

/**
 * What the CPU needs from an MMU (@side-kernel/paging's `Mmu` satisfies it). `cpl` and `ac`
 * are written by the CPU on every privilege or RFLAGS.AC change.
 */
export interface CpuMmu extends AccessCounters {
  /** Current privilege level used for access checks. */
  cpl: number;
  /** RFLAGS.AC (SMAP override for explicit supervisor accesses). */
  ac: boolean;
  readonly cr0: number;
  readonly cr3: number;
  readonly cr4: number;
  readonly efer: number;
  writeCr0(value: number): void;
  writeCr3(value: number, noFlush?: boolean): void;
  writeCr4(value: number): void;
  writeEfer(value: number): void;
  invlpg(va: number): void;
  invpcid(type: number, pcid: number, va: number): void;
  load32(va: number): number;
  store32(va: number, value: number): void;
  /**
   * Optional: `count` store32s of `words` at `va`, `va + 4`, ... at once when all are sure to
   * hit, returning true, else nothing stored and false (paging's Mmu.storeWordsIfCached).
   * Without it, frames are pushed one store32 at a time.
   */
  storeWordsIfCached?(va: number, words: Int32Array, count: number): boolean;
}

/** Port I/O after the privilege checks (the PCI host bridge, legacy devices). */
export interface PortIo {
  /** Reads `size` (1, 2 or 4) bytes at `port`; returns the value. */
  read(port: number, size: number): number;
  /** Writes `size` (1, 2 or 4) bytes of `value` at `port`. */
  write(port: number, size: number, value: number): void;
}

/** Options of `new Cpu`. */
export interface CpuOptions {
  /** The MMU whose CPL/AC the CPU drives and through which frames are pushed. */
  mmu: CpuMmu;
  /** Clock charged for crossings; default a new SimClock over `costs`. */
  clock?: SimClock;
  /** Cost model; default the clock's, else DEFAULT_COSTS. */
  costs?: CostModel;
  /** Port I/O target; default none (reads return all ones, writes are dropped). */
  io?: PortIo;
  /** IDT; default a fresh Idt (no gates). */
  idt?: Idt;
  /** TSS; default a fresh Tss (no ports granted, stacks 0). */
  tss?: Tss;
}

/** Options of `Cpu.deliver`. */
export interface DeliverOptions {
  /** Error code to push (vectors that have one; default 0 for them). */
  errorCode?: number;
  /** True for INT n / INT3 / INTO: the gate's DPL must be >= CPL, and no error code is pushed. */
  software?: boolean;
  /** For #PF: the faulting address, loaded into CR2. */
  cr2?: number;
}

/**
 * The numbers of the delivery and IRET paths as const enums, which the build writes as literals
 * (a module constant, or one imported from another package, stays a variable that V8 reloads
 * and type-checks at every use; every crossing delivers and IRETs). Rflags, Gate and Trap mirror
 * constants of @side-kernel/paging and idt.ts, and are checked against them when this module loads.
 * Kind: the frame kinds remembered so that IRET charges the matching category.
 */
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals
const enum Kind {
  Exception = 0,
  Interrupt = 1,
  Software = 2,
}
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals
const enum Num {
  /** How many nested frames IRET can match to their kind (older ones charge "crossing"). */
  FrameHistory = 32,
  Two32 = 4294967296,
  /** Upper 16 bits of a canonical kernel-half pointer's high dword. */
  CanonicalHigh = 0xffff0000,
  /** Bit 47 of a linear address, seen in the high dword (bit 15). */
  HighDwordBit47 = 0x8000,
  /** Low 16 bits of a dword. */
  Low16 = 0xffff,
}
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals
const enum Rflags {
  Fixed = 0x2,
  If = 0x200,
  IoplMask = 0x3000,
  Ac = 0x40000,
  /** RFLAGS bits cleared by every IDT delivery (SDM 6.14.2: TF, NT, RF, VM). */
  DeliveryClear = 0x34100,
}
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals
const enum Gate {
  Present = 0x80,
  TypeMask = 0xf,
  TypeInterrupt = 0xe,
  DplShift = 5,
  Vectors = 256,
}
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals
const enum Trap {
  Df = 8,
  Pf = 14,
}
if (
  Rflags.Fixed !== RFLAGS_FIXED ||
  Rflags.If !== RFLAGS_IF ||
  Rflags.IoplMask !== RFLAGS_IOPL_MASK ||
  Rflags.Ac !== RFLAGS_AC ||
  Rflags.DeliveryClear !== (RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM) ||
  Gate.Present !== GATE_PRESENT ||
  Gate.TypeMask !== GATE_TYPE_MASK ||
  Gate.TypeInterrupt !== GATE_TYPE_INTERRUPT ||
  Gate.DplShift !== GATE_DPL_SHIFT ||
  Gate.Vectors !== IDT_VECTORS ||
  Trap.Df !== X86_TRAP_DF ||
  Trap.Pf !== X86_TRAP_PF ||
  Num.Two32 !== 2 ** 32
) {
  throw new Error("cpu.ts: the Rflags, Gate or Trap constants disagree with @side-kernel/paging or idt.ts");
}
/** Values a port access may take per size. */
const PORT_VALUE_LIMIT = [0, 0x100, 0x1_0000, 0, Num.Two32];
/** Floating-bus value of a read with no I/O target. */
const PORT_FLOAT = [0, 0xff, 0xffff, 0, 0xffff_ffff];
/** First vector available to external interrupts (0..31 are exceptions, hardware.md 3.2). */
export const FIRST_EXTERNAL_VECTOR = 32;
/** Number of simulated performance counters RDPMC can read. */
export const PMC_COUNT = 4;
/** Highest INVPCID type (0..3, hardware.md 1.7). */
const MAX_INVPCID_TYPE = 3;
/** FMASK and SYSENTER_CS hold 32 / 16 meaningful bits. */
const FMASK_LIMIT = Num.Two32;
const SELECTOR_LIMIT = 0x1_0000;
/** SYSENTER_CS bits 15:2 must not be zero (SDM SYSENTER/SYSEXIT). */
const SELECTOR_INDEX_MASK = 0xfffc;

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

function isLinear(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v < LINEAR_ADDRESS_LIMIT;
}

/**
 * Puts one 8-byte stack slot, `v` (a non-negative integer below 2^53) sign-extended from bit
 * 47, into words[n] (low dword) and words[n + 1]; returns n + 2.
 */
function putSlot(words: Int32Array, n: number, v: number): number {
  if (v >= 0 && v < Num.Two32) {
    // selectors, RFLAGS, error codes: the high dword is 0 (no float division)
    words[n] = v;
    words[n + 1] = 0;
    return n + 2;
  }
  const hi = Math.floor(v / Num.Two32);
  // `>>> 0` is v mod 2^32 for an integer below 2^53, without a double `%` (an fmod call)
  words[n] = v >>> 0;
  words[n + 1] = hi >= Num.HighDwordBit47 ? (hi | Num.CanonicalHigh) >>> 0 : hi;
  return n + 2;
}

/** A simulated x86-64 CPU's privilege state. */
export class Cpu {
  /** The MMU (kept in sync: `mmu.cpl` = `cpl`, `mmu.ac` = RFLAGS.AC). */
  readonly mmu: CpuMmu;
  /** The clock crossings charge. */
  readonly clock: SimClock;
  /** The cost model. */
  readonly costs: CostModel;
  /** Port I/O target, or null. */
  io: PortIo | null;
  /** The loaded IDT (`lidt` replaces it). */
  idt: Idt;
  /** The loaded TSS (`ltr` replaces it). */
  tss: Tss;

  /** Instruction pointer (48-bit linear). */
  rip = 0;
  /** Stack pointer (48-bit linear). */
  rsp = 0;
  /** RCX: SYSCALL saves RIP here, SYSRET restores it, 64-bit SYSEXIT loads RSP from it. */
  rcx = 0;
  /** RDX: 64-bit SYSEXIT loads RIP from it. */
  rdx = 0;
  /** R11: SYSCALL saves RFLAGS here, SYSRET restores it. */
  r11 = 0;
  /** Code-segment selector (its RPL is the CPL). */
  cs = KERNEL_CS;
  /** Stack-segment selector. */
  ss = KERNEL_DS;
  /** CR2: the last #PF address. */
  cr2 = 0;
  /** CR8: the task-priority register (4 bits). */
  cr8 = 0;
  /** Set by HLT, cleared by any delivery. */
  halted = false;
  /**
   * The #DF raised by the most recent delivery that double-faulted (what and why), or null.
   * Read it in a #DF handler; the CPU does not clear it.
   */
  lastDoubleFault: DoubleFault | null = null;
  /** Simulated performance counters read by RDPMC (the host may set them). */
  readonly pmc = new Float64Array(PMC_COUNT);

  private cplValue = 0;
  private flags = Rflags.Fixed;
  private starSyscallCs = KERNEL_CS;
  private starSysretCs = 0;
  private starLegacy = 0;
  private lstar = 0;
  private cstar = 0;
  private fmask = 0;
  private fsBase = 0;
  private gsBase = 0;
  private kernelGsBase = 0;
  private sysenterCs = 0;
  private sysenterEsp = 0;
  private sysenterEip = 0;
  private tscOffset = 0;
  /** The clock's categories this CPU charges, resolved once (SimClock.chargeTo). */
  private readonly crossingCategory: ChargeCategory;
  private readonly irqCategory: ChargeCategory;
  private readonly exceptionCategory: ChargeCategory;
  private readonly frameRsp = new Float64Array(Num.FrameHistory);
  private readonly frameKind = new Uint8Array(Num.FrameHistory);
  private frameDepth = 0;
  /** The dwords of the frame deliverOnce pushes: six 8-byte slots, each low then high (raw bits). */
  private readonly frameWords = new Int32Array(12);

  /**
   * Creates a CPU at CPL 0 with RFLAGS = 0x2 (interrupts off, IOPL 0), and writes CPL 0 and
   * AC = false into the MMU. Throws TypeError if `mmu` is missing.
   */
  constructor(options: CpuOptions) {
    if (options?.mmu == null || typeof options.mmu !== "object") {
      throw new TypeError("Cpu: options.mmu is required");
    }
    this.mmu = options.mmu;
    this.costs = options.costs ?? options.clock?.costs ?? DEFAULT_COSTS;
    this.clock = options.clock ?? new SimClock({ costs: this.costs });
    this.crossingCategory = this.clock.category("crossing");
    this.irqCategory = this.clock.category("irq");
    this.exceptionCategory = this.clock.category("exception");
    this.io = options.io ?? null;
    this.idt = options.idt ?? new Idt();
    this.tss = options.tss ?? new Tss();
    this.mmu.cpl = 0;
    this.mmu.ac = false;
  }

  // ---------------------------------------------------------------- state

  /** Current privilege level 0..3. */
  get cpl(): number {
    return this.cplValue;
  }

  /**
   * Sets the CPL (and the MMU's), loading the flat CS/SS of that ring (KERNEL_CS/KERNEL_DS for
   * 0, USER_CS/USER_DS with RPL = cpl otherwise). A host-side setter, not an instruction.
   * Throws RangeError unless `v` is 0..3.
   */
  set cpl(v: number) {
    if (v !== 0 && v !== 1 && v !== 2 && v !== 3)
      throw new RangeError(`Cpu.cpl must be 0..3, got ${String(v)}`);
    this.setCpl(v);
    this.cs = v === 0 ? KERNEL_CS : (USER_CS & ~SELECTOR_RPL_MASK) | v;
    this.ss = v === 0 ? KERNEL_DS : (USER_DS & ~SELECTOR_RPL_MASK) | v;
  }

  /** RFLAGS (bit 1 always set, reserved bits clear). */
  get rflags(): number {
    return this.flags;
  }

  /**
   * Sets RFLAGS without privilege rules (a host-side setter; POPF/IRET rules live in `iret`):
   * keeps only defined bits, forces bit 1, and copies AC into the MMU. Throws RangeError for a
   * value that is not a non-negative integer.
   */
  set rflags(v: number) {
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`Cpu.rflags must be a non-negative integer, got ${v}`);
    this.setFlags(v);
  }

  /** RFLAGS.IOPL (0..3). */
  get iopl(): number {
    return (this.flags & Rflags.IoplMask) >> RFLAGS_IOPL_SHIFT;
  }

  /** Sets RFLAGS.IOPL (host-side). Throws RangeError unless 0..3. */
  set iopl(v: number) {
    if (v !== 0 && v !== 1 && v !== 2 && v !== 3)
      throw new RangeError(`Cpu.iopl must be 0..3, got ${String(v)}`);
    this.setFlags((this.flags & ~Rflags.IoplMask) | (v << RFLAGS_IOPL_SHIFT));
  }

  /** RFLAGS.IF: maskable interrupts enabled. */
  get interruptsEnabled(): boolean {
    return (this.flags & Rflags.If) !== 0;
  }

  /** CR0 (the MMU's). */
  get cr0(): number {
    return this.mmu.cr0;
  }
  /** CR3 (the MMU's). */
  get cr3(): number {
    return this.mmu.cr3;
  }
  /** CR4 (the MMU's). */
  get cr4(): number {
    return this.mmu.cr4;
  }
  /** EFER (the MMU's). */
  get efer(): number {
    return this.mmu.efer;
  }
  /** The time-stamp counter: elapsed clock cycles (rounded down) plus the WRMSR offset. */
  get tsc(): number {
    return Math.floor(this.clock.cycles) + this.tscOffset;
  }

  // ---------------------------------------------------------------- privileged instructions

  /** CLI: clears IF. Throws #GP(0) if CPL > IOPL. */
  cli(): void {
    this.requireIopl("CLI");
    this.setFlags(this.flags & ~Rflags.If);
  }

  /** STI: sets IF. Throws #GP(0) if CPL > IOPL. */
  sti(): void {
    this.requireIopl("STI");
    this.setFlags(this.flags | Rflags.If);
  }

  /** HLT: sets `halted` until the next delivery. Throws #GP(0) at CPL > 0. */
  hlt(): void {
    this.requireCpl0("HLT");
    this.halted = true;
  }

  /**
   * MOV to CRn (n = 0, 2, 3, 4, 8). CR0/CR4 go to the MMU (which may raise #GP for bad bits);
   * CR3 is `switchAddressSpace` (charged). Throws #GP(0) at CPL > 0, #GP(0) for a CR2 value
   * that is not a linear address or a CR8 value above 15, #UD for another n.
   */
  movToCr(n: number, value: number, noFlush = false): void {
    this.requireCpl0(`MOV to CR${n}`);
    switch (n) {
      case 0:
        this.mmu.writeCr0(value);
        return;
      case 2:
        if (!isLinear(value))
          throw new GeneralProtection(`MOV to CR2 of non-canonical value ${String(value)}`);
        this.cr2 = value;
        return;
      case 3:
        this.writeCr3(value, noFlush);
        return;
      case 4:
        this.mmu.writeCr4(value);
        return;
      case 8:
        if (!Number.isInteger(value) || value < 0 || value > CR8_MASK) {
          throw new GeneralProtection(`MOV to CR8 of ${String(value)}: reserved bits set (TPR is 4 bits)`);
        }
        this.cr8 = value;
        return;
      default:
        throw new InvalidOpcode(`MOV to CR${String(n)}: no such control register`);
    }
  }

  /** MOV from CRn (n = 0, 2, 3, 4, 8). Throws #GP(0) at CPL > 0, #UD for another n. */
  movFromCr(n: number): number {
    this.requireCpl0(`MOV from CR${n}`);
    switch (n) {
      case 0:
        return this.mmu.cr0;
      case 2:
        return this.cr2;
      case 3:
        return this.mmu.cr3;
      case 4:
        return this.mmu.cr4;
      case 8:
        return this.cr8;
      default:
        throw new InvalidOpcode(`MOV from CR${String(n)}: no such control register`);
    }
  }

  /** INVLPG `va`. Throws #GP(0) at CPL > 0. */
  invlpg(va: number): void {
    this.requireCpl0("INVLPG");
    this.mmu.invlpg(va);
  }

  /** INVPCID `type` (0..3). Throws #GP(0) at CPL > 0 or for a type above 3. */
  invpcid(type: number, pcid: number, va: number): void {
    this.requireCpl0("INVPCID");
    if (!Number.isInteger(type) || type < 0 || type > MAX_INVPCID_TYPE) {
      throw new GeneralProtection(`INVPCID type ${String(type)} (valid types are 0..3)`);
    }
    this.mmu.invpcid(type, pcid, va);
  }

  /** RDMSR `msr`: returns its value. Throws #GP(0) at CPL > 0 or for an MSR not modelled. */
  rdmsr(msr: number): number {
    this.requireCpl0("RDMSR");
    switch (msr) {
      case MSR_EFER:
        return this.mmu.efer;
      case MSR_STAR:
        return this.starSysretCs * 2 ** 48 + this.starSyscallCs * Num.Two32 + this.starLegacy;
      case MSR_LSTAR:
        return this.lstar;
      case MSR_CSTAR:
        return this.cstar;
      case MSR_FMASK:
        return this.fmask;
      case MSR_FS_BASE:
        return this.fsBase;
      case MSR_GS_BASE:
        return this.gsBase;
      case MSR_KERNEL_GS_BASE:
        return this.kernelGsBase;
      case MSR_SYSENTER_CS:
        return this.sysenterCs;
      case MSR_SYSENTER_ESP:
        return this.sysenterEsp;
      case MSR_SYSENTER_EIP:
        return this.sysenterEip;
      case MSR_TSC:
        return this.tsc;
      default:
        throw new GeneralProtection(`RDMSR of MSR ${hex(msr)}: not implemented`);
    }
  }

  /**
   * WRMSR `msr` = `value`. Address MSRs (LSTAR, CSTAR, FS/GS/KERNEL_GS_BASE, SYSENTER_ESP/EIP)
   * take a 48-bit linear address; STAR takes the 64-bit value (selectors in bits 63:48 and
   * 47:32); EFER goes to the MMU. Throws #GP(0) at CPL > 0, for an MSR not modelled, or for a
   * value with reserved bits set or not canonical.
   */
  wrmsr(msr: number, value: number): void {
    this.requireCpl0("WRMSR");
    if (!Number.isInteger(value) || value < 0) {
      throw new GeneralProtection(`WRMSR ${hex(msr)} of ${String(value)}: not a 64-bit unsigned integer`);
    }
    switch (msr) {
      case MSR_EFER:
        this.mmu.writeEfer(value);
        return;
      case MSR_STAR: {
        if (value >= 2 ** 64)
          throw new GeneralProtection(`WRMSR STAR of ${String(value)}: more than 64 bits`);
        const high = Math.floor(value / Num.Two32);
        this.starLegacy = value % Num.Two32;
        this.starSyscallCs = high % SELECTOR_LIMIT;
        this.starSysretCs = Math.floor(high / SELECTOR_LIMIT);
        return;
      }
      case MSR_FMASK:
        if (value >= FMASK_LIMIT)
          throw new GeneralProtection(`WRMSR FMASK of ${hex(value)}: bits 63:32 are reserved`);
        this.fmask = value;
        return;
      case MSR_SYSENTER_CS:
        if (value >= SELECTOR_LIMIT)
          throw new GeneralProtection(`WRMSR SYSENTER_CS of ${hex(value)}: not a selector`);
        this.sysenterCs = value;
        return;
      case MSR_TSC:
        this.tscOffset = value - Math.floor(this.clock.cycles);
        return;
      default:
        break;
    }
    if (!isLinear(value)) {
      throw new GeneralProtection(`WRMSR ${hex(msr)} of non-canonical address ${hex(value)}`);
    }
    switch (msr) {
      case MSR_LSTAR:
        this.lstar = value;
        return;
      case MSR_CSTAR:
        this.cstar = value;
        return;
      case MSR_FS_BASE:
        this.fsBase = value;
        return;
      case MSR_GS_BASE:
        this.gsBase = value;
        return;
      case MSR_KERNEL_GS_BASE:
        this.kernelGsBase = value;
        return;
      case MSR_SYSENTER_ESP:
        this.sysenterEsp = value;
        return;
      case MSR_SYSENTER_EIP:
        this.sysenterEip = value;
        return;
      default:
        throw new GeneralProtection(`WRMSR of MSR ${hex(msr)}: not implemented`);
    }
  }

  /** LIDT: loads `idt`. Throws #GP(0) at CPL > 0, TypeError if `idt` is not an Idt. */
  lidt(idt: Idt): void {
    this.requireCpl0("LIDT");
    if (!(idt instanceof Idt)) throw new TypeError("Cpu.lidt: argument is not an Idt");
    this.idt = idt;
  }

  /** LTR: loads `tss`. Throws #GP(0) at CPL > 0, TypeError if `tss` is not a Tss. */
  ltr(tss: Tss): void {
    this.requireCpl0("LTR");
    if (!(tss instanceof Tss)) throw new TypeError("Cpu.ltr: argument is not a Tss");
    this.tss = tss;
  }

  /**
   * IN: reads `size` (1, 2, 4) bytes at `port` and returns the value (all ones without an I/O
   * target). At CPL > IOPL every accessed port byte must be granted in the TSS I/O bitmap, else
   * #GP(0). Throws RangeError for a port outside 0..0xFFFF or another size.
   */
  in(port: number, size: number): number {
    this.checkPort(port, size, "IN");
    if (this.cplValue > this.iopl && !this.tss.ioAllowed(port, size)) this.ioFault("IN", port, size);
    return this.io === null ? PORT_FLOAT[size] : this.io.read(port, size);
  }

  /**
   * OUT: writes `value` (an integer that fits `size` bytes) at `port`. Same checks as `in`;
   * RangeError also for a value that does not fit.
   */
  out(port: number, size: number, value: number): void {
    this.checkPort(port, size, "OUT");
    if (!Number.isInteger(value) || value < 0 || value >= PORT_VALUE_LIMIT[size]) {
      throw new RangeError(`Cpu.out: value ${String(value)} does not fit ${size} byte(s)`);
    }
    if (this.cplValue > this.iopl && !this.tss.ioAllowed(port, size)) this.ioFault("OUT", port, size);
    if (this.io !== null) this.io.write(port, size, value);
  }

  /** RDTSC: returns the TSC. Throws #GP(0) if CR4.TSD = 1 and CPL > 0. */
  rdtsc(): number {
    if (this.cplValue !== 0 && (this.mmu.cr4 & CR4_TSD) !== 0) {
      throw new GeneralProtection(`RDTSC at CPL ${this.cplValue} with CR4.TSD = 1`);
    }
    return this.tsc;
  }

  /**
   * RDPMC `counter` (0..PMC_COUNT-1): returns `pmc[counter]`. Throws #GP(0) if CR4.PCE = 0 and
   * CPL > 0, or for a counter index not modelled.
   */
  rdpmc(counter: number): number {
    if (this.cplValue !== 0 && (this.mmu.cr4 & CR4_PCE) === 0) {
      throw new GeneralProtection(`RDPMC at CPL ${this.cplValue} with CR4.PCE = 0`);
    }
    if (!Number.isInteger(counter) || counter < 0 || counter >= PMC_COUNT) {
      throw new GeneralProtection(`RDPMC of counter ${String(counter)} (0..${PMC_COUNT - 1} exist)`);
    }
    return this.pmc[counter];
  }

  /** SWAPGS: exchanges GS_BASE and KERNEL_GS_BASE. Throws #GP(0) at CPL > 0. */
  swapgs(): void {
    this.requireCpl0("SWAPGS");
    const t = this.gsBase;
    this.gsBase = this.kernelGsBase;
    this.kernelGsBase = t;
  }

  // ---------------------------------------------------------------- crossings

  /**
   * SYSCALL (hardware.md 3.4): RCX = RIP, R11 = RFLAGS, RFLAGS &= ~FMASK (and RF), RIP = LSTAR,
   * CS = STAR[47:32], SS = that + 8, CPL = 0. RSP is not touched. Charges `syscall` to
   * "crossing". Throws #UD if EFER.SCE = 0.
   */
  syscall(): void {
    if ((this.mmu.efer & EFER_SCE) === 0) throw new InvalidOpcode("SYSCALL with EFER.SCE = 0");
    this.rcx = this.rip;
    this.r11 = this.flags;
    this.setFlags(this.flags & ~this.fmask & ~RFLAGS_RF);
    this.rip = this.lstar;
    this.cs = this.starSyscallCs & ~SELECTOR_RPL_MASK;
    this.ss = this.cs + STAR_SS_OFFSET;
    this.setCpl(0);
    this.clock.chargeTo(this.crossingCategory, this.costs.syscall);
  }

  /**
   * SYSRET (64-bit, hardware.md 3.4): RIP = RCX, RFLAGS = R11 (RF and VM cleared), CS =
   * STAR[63:48] + 16 | 3, SS = STAR[63:48] + 8 | 3, CPL = 3. Charges `sysret` to "crossing".
   * Throws #UD if EFER.SCE = 0, #GP(0) at CPL > 0 or if RCX is not canonical.
   */
  sysret(): void {
    if ((this.mmu.efer & EFER_SCE) === 0) throw new InvalidOpcode("SYSRET with EFER.SCE = 0");
    this.requireCpl0("SYSRET");
    if (!isLinear(this.rcx)) throw new GeneralProtection(`SYSRET to non-canonical RCX ${String(this.rcx)}`);
    this.rip = this.rcx;
    this.setFlags(this.r11 & ~(RFLAGS_RF | RFLAGS_VM));
    this.cs = (this.starSysretCs + SYSRET_CS_OFFSET) | SELECTOR_RPL_MASK;
    this.ss = (this.starSysretCs + STAR_SS_OFFSET) | SELECTOR_RPL_MASK;
    this.setCpl(3);
    this.clock.chargeTo(this.crossingCategory, this.costs.sysret);
  }

  /**
   * SYSENTER: CS = SYSENTER_CS, SS = CS + 8, RSP = SYSENTER_ESP, RIP = SYSENTER_EIP, IF, VM and
   * RF cleared, CPL = 0; saves nothing. Charges `sysenter` to "crossing". Throws #GP(0) if
   * SYSENTER_CS[15:2] = 0.
   */
  sysenter(): void {
    if ((this.sysenterCs & SELECTOR_INDEX_MASK) === 0)
      throw new GeneralProtection("SYSENTER with SYSENTER_CS = 0");
    this.cs = this.sysenterCs & SELECTOR_INDEX_MASK;
    this.ss = this.cs + SYSENTER_SS_OFFSET;
    this.rsp = this.sysenterEsp;
    this.rip = this.sysenterEip;
    this.setFlags(this.flags & ~(Rflags.If | RFLAGS_VM | RFLAGS_RF));
    this.setCpl(0);
    this.clock.chargeTo(this.crossingCategory, this.costs.sysenter);
  }

  /**
   * SYSEXIT (64-bit form): RIP = RDX, RSP = RCX, CS = SYSENTER_CS + 32 | 3, SS = SYSENTER_CS +
   * 40 | 3, CPL = 3. Charges `sysexit` to "crossing". Throws #GP(0) at CPL > 0, if
   * SYSENTER_CS[15:2] = 0, or if RDX/RCX is not canonical.
   */
  sysexit(): void {
    this.requireCpl0("SYSEXIT");
    if ((this.sysenterCs & SELECTOR_INDEX_MASK) === 0)
      throw new GeneralProtection("SYSEXIT with SYSENTER_CS = 0");
    if (!isLinear(this.rdx) || !isLinear(this.rcx)) {
      throw new GeneralProtection(
        `SYSEXIT to non-canonical RDX ${String(this.rdx)} / RCX ${String(this.rcx)}`,
      );
    }
    this.rip = this.rdx;
    this.rsp = this.rcx;
    this.cs = ((this.sysenterCs & SELECTOR_INDEX_MASK) + SYSEXIT64_CS_OFFSET) | SELECTOR_RPL_MASK;
    this.ss = ((this.sysenterCs & SELECTOR_INDEX_MASK) + SYSEXIT64_SS_OFFSET) | SELECTOR_RPL_MASK;
    this.setCpl(3);
    this.clock.chargeTo(this.crossingCategory, this.costs.sysexit);
  }

  /**
   * MOV CR3 as an address-space switch: writes `cr3` through the MMU, charging `cr3Write` to
   * "crossing" when CR4.PCIDE = 1 and `noFlush` is set, else `cr3WriteFlush`; the TLB refill
   * then shows up as TLB misses. Throws #GP(0) at CPL > 0, and whatever the MMU throws.
   */
  switchAddressSpace(cr3: number, options?: { noFlush?: boolean }): void {
    this.requireCpl0("MOV to CR3");
    this.writeCr3(cr3, options !== undefined && options.noFlush === true);
  }

  /**
   * INT n: software interrupt through gate `n` (DPL must be >= CPL, else #GP with the IDT
   * error code). Charges `intNEntry` to "crossing". Throws like `deliver`.
   */
  intN(n: number): void {
    this.deliverAs(n, 0, true, undefined, Kind.Software, this.crossingCategory, this.costs.intNEntry);
  }

  /**
   * Delivers external interrupt `vector` (32..255) if RFLAGS.IF = 1. Returns false, doing
   * nothing, when interrupts are disabled. Charges `interruptEntry` to "irq". Throws like
   * `deliver`, and RangeError for a vector below 32.
   */
  deliverInterrupt(vector: number): boolean {
    if (!Number.isInteger(vector) || vector < FIRST_EXTERNAL_VECTOR || vector >= Gate.Vectors) {
      throw new RangeError(`Cpu.deliverInterrupt: vector must be 32..255, got ${String(vector)}`);
    }
    if ((this.flags & Rflags.If) === 0) return false;
    this.deliverAs(vector, 0, false, undefined, Kind.Interrupt, this.irqCategory, this.costs.interruptEntry);
    return true;
  }

  /**
   * Delivers `vector` through the IDT (hardware.md 3.3): checks the gate (software INT n:
   * a not-present gate throws #NP and DPL < CPL throws #GP, both with the IDT error code and
   * nothing changed; for a hardware event a not-present gate raises #NP), picks the stack (IST if set, else RSP0 on a privilege change,
   * else the current one; aligned down to 16), writes SS, RSP, RFLAGS, CS, RIP and the error
   * code (for vectors that have one, hardware events only) through the MMU as supervisor
   * accesses, clears TF/NT/RF (and IF for an interrupt gate), and enters the handler at CPL 0.
   * A fault during delivery becomes #DF or is delivered itself per SDM Table 6-5 (a software
   * interrupt counts as benign); a fault while delivering #DF throws TripleFault. CR2 is loaded
   * for #PF. Charges `exceptionEntry` (`intNEntry` when software) to "exception" ("crossing"),
   * plus `exceptionEntry` to "exception" for each nested fault delivered. Throws RangeError for a vector outside 0..255.
   */
  deliver(vector: number, options: DeliverOptions = {}): void {
    const software = options.software === true;
    if (options.cr2 !== undefined) {
      if (!isLinear(options.cr2))
        throw new RangeError(`Cpu.deliver: cr2 ${String(options.cr2)} is not a linear address`);
    }
    this.deliverAs(
      vector,
      options.errorCode ?? 0,
      software,
      options.cr2,
      software ? Kind.Software : Kind.Exception,
      software ? this.crossingCategory : this.exceptionCategory,
      software ? this.costs.intNEntry : this.costs.exceptionEntry,
    );
  }

  /**
   * Delivers a thrown CPU exception: vector and error code from `e`, CR2 from a PageFault's
   * address. Same behaviour and errors as `deliver`.
   */
  deliverException(e: CpuException): void {
    this.deliver(e.vector, {
      errorCode: e.errorCode ?? 0,
      cr2: e instanceof PageFault ? e.address : undefined,
    });
  }

  /**
   * IRETQ: pops RIP, CS, RFLAGS, RSP, SS from the stack (after the handler removed any error
   * code; `discardErrorCode` does that first). The new CPL is CS.RPL and may not be below the
   * current one (#GP(selector)). RFLAGS rules (hardware.md 3.1): IOPL changes only at CPL 0,
   * IF only if CPL <= IOPL. Charges `iret` to "irq" when the frame came from
   * `deliverInterrupt`, else "crossing". Throws the MMU's #PF for an unmapped stack and #GP(0)
   * for a non-canonical RIP/RSP in the frame; the state is unchanged on a throw.
   */
  iret(discardErrorCode = false): void {
    const mmu = this.mmu;
    const frameTop = this.rsp + (discardErrorCode ? FRAME_SLOT : 0);
    // RIP, CS, RFLAGS, RSP, SS upward from frameTop, in that order: RIP and RSP as canonical
    // pointers (low then high dword; -1 if not canonical), the others by their low dword.
    // Straight-line loads with the pointer check written out (no helper call returning a
    // double, which would be boxed when not inlined). One load32 each: under Bun, reading
    // them in bulk through a separate MMU call went through a slow call stub into the runtime
    // on every IRET, about 6% of isolated mode's host time.
    const ripLo = mmu.load32(frameTop);
    const ripHi = mmu.load32(frameTop + 4);
    const newCs = mmu.load32(frameTop + FRAME_SLOT) & Num.Low16;
    const poppedFlags = mmu.load32(frameTop + 2 * FRAME_SLOT);
    const rspLo = mmu.load32(frameTop + 3 * FRAME_SLOT);
    const rspHi = mmu.load32(frameTop + 3 * FRAME_SLOT + 4);
    const newSs = mmu.load32(frameTop + 4 * FRAME_SLOT) & Num.Low16;
    const ripTop = ripHi >>> 16;
    const rspTop = rspHi >>> 16;
    const newRip = ((ripHi & Num.HighDwordBit47) !== 0 ? ripTop === Num.Low16 : ripTop === 0)
      ? (ripHi & Num.Low16) * Num.Two32 + ripLo
      : -1;
    const newRsp = ((rspHi & Num.HighDwordBit47) !== 0 ? rspTop === Num.Low16 : rspTop === 0)
      ? (rspHi & Num.Low16) * Num.Two32 + rspLo
      : -1;
    const newCpl = newCs & SELECTOR_RPL_MASK;
    const cpl = this.cplValue;
    if (newCpl < cpl) {
      throw new GeneralProtection(
        `IRET from CPL ${cpl} to more privileged CS ${hex(newCs)}`,
        newCs & ~SELECTOR_RPL_MASK,
      );
    }
    if (newRip < 0 || newRsp < 0) {
      throw new GeneralProtection(`IRET to non-canonical RIP/RSP in the frame at ${formatLinear(frameTop)}`);
    }
    let flags = poppedFlags;
    if (cpl > 0) flags = (flags & ~Rflags.IoplMask) | (this.flags & Rflags.IoplMask);
    if (cpl > this.iopl) flags = (flags & ~Rflags.If) | (this.flags & Rflags.If);
    this.rip = newRip;
    this.cs = newCs;
    this.setFlags(flags);
    this.rsp = newRsp;
    this.ss = newSs;
    this.setCpl(newCpl);
    this.clock.chargeTo(
      this.popFrameKind(frameTop) === Kind.Interrupt ? this.irqCategory : this.crossingCategory,
      this.costs.iret,
    );
  }

  // ---------------------------------------------------------------- internals

  private setCpl(v: number): void {
    this.cplValue = v;
    this.mmu.cpl = v;
  }

  private setFlags(v: number): void {
    const f = (v & RFLAGS_DEFINED_MASK) | Rflags.Fixed;
    this.flags = f;
    this.mmu.ac = (f & Rflags.Ac) !== 0;
  }

  private requireCpl0(what: string): void {
    if (this.cplValue !== 0) throw new GeneralProtection(`${what} at CPL ${this.cplValue}`);
  }

  private requireIopl(what: string): void {
    if (this.cplValue > this.iopl) {
      throw new GeneralProtection(`${what} at CPL ${this.cplValue} > IOPL ${this.iopl}`);
    }
  }

  private checkPort(port: number, size: number, what: string): void {
    if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) {
      throw new RangeError(`Cpu.${what.toLowerCase()}: port must be 0..0xffff, got ${String(port)}`);
    }
    if (size !== 1 && size !== 2 && size !== 4) {
      throw new RangeError(`Cpu.${what.toLowerCase()}: size must be 1, 2 or 4, got ${String(size)}`);
    }
  }

  private ioFault(what: string, port: number, size: number): never {
    const last = port + size - 1;
    const range = size === 1 ? hex(port) : `${hex(port)}..${hex(last)}`;
    throw new GeneralProtection(
      `${what} port ${range} (${size} byte${size === 1 ? "" : "s"}) at CPL ${this.cplValue} > IOPL ${this.iopl}: not granted in the TSS I/O bitmap`,
    );
  }

  private writeCr3(value: number, noFlush: boolean): void {
    const fast = noFlush && (this.mmu.cr4 & CR4_PCIDE) !== 0;
    this.mmu.writeCr3(value, noFlush);
    this.clock.chargeTo(this.crossingCategory, fast ? this.costs.cr3Write : this.costs.cr3WriteFlush);
  }

  private deliverAs(
    vector: number,
    errorCode: number,
    software: boolean,
    cr2: number | undefined,
    kind: number,
    category: ChargeCategory,
    cost: number,
  ): void {
    if (!Number.isInteger(vector) || vector < 0 || vector >= Gate.Vectors) {
      throw new RangeError(`Cpu.deliver: vector must be an integer 0..255, got ${String(vector)}`);
    }
    if (!Number.isInteger(errorCode) || errorCode < 0 || errorCode >= Num.Two32) {
      throw new RangeError(
        `Cpu.deliver: error code must be a 32-bit unsigned integer, got ${String(errorCode)}`,
      );
    }
    if (cr2 !== undefined && vector === Trap.Pf) this.cr2 = cr2;
    let v = vector;
    let code = errorCode;
    let sw = software;
    let k = kind;
    this.clock.chargeTo(category, cost);
    // INT n's gate checks are faults of the instruction itself: thrown to the caller.
    if (software) this.checkSoftwareGate(vector);
    for (;;) {
      try {
        this.deliverOnce(v, code, sw, k);
        return;
      } catch (e) {
        if (!isCpuException(e)) throw e;
        if (e instanceof PageFault) this.cr2 = e.address;
        if (v === Trap.Df) throw new TripleFault(e);
        // A software interrupt is a benign first event (SDM Table 6-4).
        if (!sw && becomesDoubleFault(v, e.vector)) {
          this.lastDoubleFault = new DoubleFault(v, e);
          v = Trap.Df;
          code = 0;
        } else {
          v = e.vector;
          code = e.errorCode ?? 0;
        }
        sw = false;
        k = Kind.Exception;
        this.clock.chargeTo(this.exceptionCategory, this.costs.exceptionEntry);
      }
    }
  }

  /** INT n: #NP for a not-present gate, #GP for gate DPL < CPL (IDT error codes). */
  private checkSoftwareGate(vector: number): void {
    const attr = this.idt.attributes[vector];
    if ((attr & Gate.Present) === 0) {
      throw new SegmentNotPresent(`INT ${vector}: IDT gate not present`, idtErrorCode(vector, false));
    }
    if (((attr >> Gate.DplShift) & 3) < this.cplValue) {
      throw new GeneralProtection(
        `INT ${vector} at CPL ${this.cplValue} through ${this.idt.describe(vector)}: gate DPL < CPL`,
        idtErrorCode(vector, false),
      );
    }
  }

  private deliverOnce(vector: number, errorCode: number, software: boolean, kind: number): void {
    const idt = this.idt;
    const attr = idt.attributes[vector];
    // EXT: the fault arose while delivering a hardware event (an interrupt or an earlier
    // exception), not a software INT n (SDM 6.13).
    const external = !software;
    if ((attr & Gate.Present) === 0) {
      throw new SegmentNotPresent(`IDT gate ${vector} not present`, idtErrorCode(vector, external));
    }
    const cpl = this.cplValue;
    const ist = idt.istIndex[vector];
    let sp = ist !== 0 ? this.tss.ist[ist] : cpl !== 0 ? this.tss.rsp[0] : this.rsp;
    // align down: the low bits of sp survive ToInt32, and `&` avoids a double `%` (fmod)
    sp -= sp & (STACK_ALIGN - 1);
    const pushCode = !software && vectorHasErrorCode(vector);
    const mmu = this.mmu;
    const oldAc = mmu.ac;
    // The frame is written by the CPU at ring 0 as supervisor accesses that SMAP's AC
    // override does not apply to (implicit accesses, SDM 4.6).
    mmu.cpl = 0;
    if (oldAc) mmu.ac = false;
    const top = sp;
    sp -= (pushCode ? 6 : 5) * FRAME_SLOT;
    // The frame's words from its lowest address up: [error code,] RIP, CS, RFLAGS, RSP, SS.
    const words = this.frameWords;
    let n = 0;
    if (pushCode) n = putSlot(words, n, errorCode);
    n = putSlot(words, n, this.rip);
    n = putSlot(words, n, this.cs);
    n = putSlot(words, n, this.flags);
    n = putSlot(words, n, this.rsp);
    n = putSlot(words, n, this.ss);
    // All at once when they are sure to hit; else slot by slot from the top, as the CPU pushes
    // them, so that a fault part-way leaves what the pushes before it wrote.
    if (mmu.storeWordsIfCached === undefined || !mmu.storeWordsIfCached(sp, words, n)) {
      try {
        for (let k = n - 2, va = top - FRAME_SLOT; k >= 0; k -= 2, va -= FRAME_SLOT) {
          mmu.store32(va, words[k] >>> 0);
          mmu.store32(va + 4, words[k + 1] >>> 0);
        }
      } catch (e) {
        mmu.cpl = cpl;
        mmu.ac = oldAc;
        throw e;
      }
    }
    this.pushFrameKind(pushCode ? sp + FRAME_SLOT : sp, kind);
    this.ss = cpl !== 0 ? NULL_SELECTOR : this.ss;
    this.cs = KERNEL_CS;
    this.rsp = sp;
    let flags = this.flags & ~Rflags.DeliveryClear;
    if ((attr & Gate.TypeMask) === Gate.TypeInterrupt) flags &= ~Rflags.If;
    // setFlags(flags) and setCpl(0) without re-writing what the MMU already holds (CPL 0, AC
    // clear): `flags` only lost bits of valid RFLAGS, so it needs no masking, and only a set
    // AC goes back to the MMU.
    this.flags = flags;
    if ((flags & Rflags.Ac) !== 0) mmu.ac = true;
    this.cplValue = 0;
    this.rip = idt.handlers[vector];
    this.halted = false;
  }

  private pushFrameKind(frameRsp: number, kind: number): void {
    const i = this.frameDepth % Num.FrameHistory;
    this.frameRsp[i] = frameRsp;
    this.frameKind[i] = kind;
    this.frameDepth++;
  }

  private popFrameKind(frameRsp: number): number {
    const stop = Math.max(0, this.frameDepth - Num.FrameHistory);
    for (let d = this.frameDepth - 1; d >= stop; d--) {
      const i = d % Num.FrameHistory;
      if (this.frameRsp[i] === frameRsp) {
        this.frameDepth = d;
        return this.frameKind[i];
      }
    }
    return Kind.Software;
  }
}
