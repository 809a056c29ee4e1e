/**
 * The MMU of one CPU: control registers, the page walker, access-rights checks (hardware.md
 * 1.4), A/D updates, #PF error codes (1.5), TLB invalidation rules (1.7), and the load/store
 * accessors every kernel and driver access goes through.
 *
 * Hot path. A direct-mapped "fast path" (per access kind: read, write) sits in front of the
 * TLB. It is filled only after a translation passed the rights check, only for RAM pages, and
 * (for writes) only once the leaf's D bit is set, so it never grants more than the TLB entry
 * it was copied from. The rights depend on the privilege context, so there is one fast path
 * per context (user: CPL 3; supervisor with RFLAGS.AC clear; supervisor with AC set), and a
 * CPL or AC change only selects another one: a kernel entry and exit (a syscall, a SIDE
 * crossing) keeps what each side had cached. Every fast path is emptied on a control-register
 * write other than CR3 and on every TLB invalidation, except that a CR3 write or a flush that
 * keeps global entries empties only the slots copied from non-global entries (emptying
 * touches only the slots filled since the last emptying).
 *
 * How the hit path stays fast under V8 (checked with --trace-turbo-inlining, --trace-deopt and
 * --print-opt-code; bench/index.ts runs hits and misses in one process):
 * - a hit decrements one small-integer field (the budget chunk) and reads two typed arrays:
 *   `fast` (slot pairs of page tag and physical word base) and the memory view. The tag compare
 *   `va - (va & 0xffc)` checks the page and the alignment at once;
 * - everything else (budget chunk exhausted, miss, walk, rights, A/D, MMIO, unaligned or
 *   page-crossing accesses) is one out-of-line method, `miss`, whose bytecode is larger than
 *   V8's inlining limit. TurboFan never inlines it into an accessor, so the accessor's
 *   optimized code stays small and callers keep inlining the accessor after the miss path has
 *   run. (When the slow path was inlined, load32 grew past the inlining budget and every load
 *   became a call: 62M instead of 119M hits/s.) A miss result is truncated with `>>> 0` so
 *   the hit value is never boxed;
 * - the hot path's numbers are a const enum that esbuild inlines as literals (`Fast`); every
 *   field is initialised in the constructor and keeps one representation (values that may
 *   become fractional or large live in typed arrays), so the hidden class never changes.
 */

import {
  PF_INSTR,
  PF_PROT,
  PF_RSVD,
  PF_USER,
  PF_WRITE,
  PTE_A,
  PTE_ADDR_HI_MASK,
  PTE_ADDR_LO_MASK,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_PAT,
  PTE_PAT_LARGE,
  PTE_PCD,
  PTE_PS,
  PTE_PWT,
  PTE_RW,
  PTE_US,
  PTE_XD_HI,
  TLB_DIRTY,
  TLB_NO_EXECUTE,
  TLB_USER,
  TLB_WRITABLE,
} from "./bits.js";
import { copyFromRam, copyToRam } from "./copy.js";
import { AccessBudgetExceeded, GeneralProtection, PageFault } from "./exceptions.js";
import {
  ENTRY_SIZE,
  formatLinear,
  formatPhysical,
  HUGE_PAGE_SIZE,
  isLinearAddress,
  KERNEL_HALF_START,
  LARGE_PAGE_SIZE,
  LINEAR_ADDRESS_LIMIT,
  PAGE_SHIFT,
  PAGE_SIZE,
  type PageSize,
} from "./layout.js";
import { DEFAULT_MAX_PHYS_ADDR_BITS, FAST_PATH_ENTRIES } from "./limits.js";
import { checkHostRange, type PhysicalMemory } from "./memory.js";
import { reservedBitsProblem, reservedHiMask } from "./pte.js";
import {
  CR0_PE,
  CR0_PG,
  CR0_WP,
  CR3_PCID_MASK,
  CR4_KNOWN_BITS,
  CR4_PAE,
  CR4_PCIDE,
  CR4_PGE,
  CR4_SMAP,
  CR4_SMEP,
  DEFAULT_CR0,
  DEFAULT_CR4,
  DEFAULT_EFER,
  EFER_LMA,
  EFER_LME,
  EFER_NXE,
  EFER_SCE,
} from "./regs.js";
import { type FastHitSource, Tlb, type TlbListener } from "./tlb.js";

/** Kinds of memory access. */
export const Access = { Read: 0, Write: 1, Fetch: 2 } as const;
/** A kind of memory access: Access.Read, Access.Write or Access.Fetch. */
export type Access = (typeof Access)[keyof typeof Access];

/** Receives physical accesses at or above `memory.size` (device registers). */
export interface MmioHandler {
  /** Returns the value (unsigned, `size` bytes) read at physical `pa`. */
  read(pa: number, size: 1 | 2 | 4): number;
  /** Writes the low `size` bytes of `value` at physical `pa`. */
  write(pa: number, size: 1 | 2 | 4, value: number): void;
}

/** Options of `Mmu`. */
export interface MmuOptions {
  /** The TLB (default: a new Skylake-like Tlb). One per Mmu. */
  tlb?: Tlb;
  /** MMIO handler for physical addresses >= memory.size (default: none, master abort). */
  mmio?: MmioHandler;
  /** MAXPHYADDR for reserved-bit checks (default 46). */
  maxPhysAddrBits?: number;
}

/** Options of `Mmu.translate`. */
export interface TranslateOptions {
  /** An implicit supervisor access (GDT/LDT/IDT/TSS): supervisor whatever the CPL, and SMAP ignores AC. */
  implicitSupervisor?: boolean;
}

/**
 * The fast path's numbers, as a file-local const enum: esbuild (tsup, tsx, vitest) replaces
 * every use with its literal. V8 (Node 20) does not constant-fold module-level `const`
 * bindings or imports, so each named `const` on the hit path cost a context load and a
 * Smi/HeapNumber check per access (seen in --print-opt-code, measured about 30%).
 * Checked against limits.ts and layout.ts when this module loads.
 */
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported, so isolatedModules is not affected; inlined as literals on purpose (see above)
const enum Fast {
  /** log2(PAGE_SIZE), layout.ts PAGE_SHIFT. */
  PageShift = 12,
  /** PAGE_SIZE - 1: the offset bits of a 4 KiB page. */
  PageMask = 0xfff,
  /** Offset bits of a 32-bit access the fast path serves: within the page and 4-aligned. */
  WordOffsetMask = 0xffc,
  /** Offset bits of a 64-bit access the fast path serves: within the page and 8-aligned. */
  QwordOffsetMask = 0xff8,
  /**
   * `(va >>> PairShift) & PairMask` is 2 * (va's fast-path slot): the page number's low 8 bits
   * (FAST_PATH_ENTRIES = 256 slots), doubled because each slot is a (tag, word) pair.
   */
  PairShift = 11,
  PairMask = 0x1fe,
  /**
   * Layout of `Mmu.fast` (one Float64Array): read slot s at [2s] (tag) and [2s + 1] (word),
   * write slot s at [WriteSlots + 2s] and [WriteSlots + 2s + 1]; Length elements in all.
   */
  WriteSlots = 512,
  Length = 1024,
  /** 2^32: joins the two halves of a 64-bit value. */
  Two32 = 4294967296,
  /** Bits 63:47 of a canonical upper-half pointer, seen as `hi >>> 15`. */
  CanonicalHigh = 0x1ffff,
}
if (
  Fast.PageShift !== PAGE_SHIFT ||
  Fast.PageMask !== PAGE_SIZE - 1 ||
  Fast.PairShift !== PAGE_SHIFT - 1 ||
  Fast.PairMask !== 2 * (FAST_PATH_ENTRIES - 1) ||
  Fast.WriteSlots !== 2 * FAST_PATH_ENTRIES ||
  Fast.Length !== 4 * FAST_PATH_ENTRIES
) {
  throw new Error("mmu.ts: the Fast constants disagree with PAGE_SIZE or FAST_PATH_ENTRIES");
}
/**
 * The other numbers of this file, as const enums for the same reason as Fast: the miss path
 * (every TLB miss, every access after a flushing CR3 write) uses them on each call.
 */
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals like Fast
const enum Num {
  /** 2^-32: scaling by it is exact (a power of two), unlike a division. */
  InvTwo32 = 2.3283064365386963e-10,
  /** Bits 63:48 set in the high half of a sign-extended upper-half pointer. */
  SignExtensionHi = 0xffff0000,
  AllOnes = 0xffffffff,
  /** A fast-path tag that matches no page. */
  EmptyTag = -1,
  /** Stand-in for an infinite budget: large, yet decrements stay exact (2^52, below 2^53). */
  InfiniteBudget = 4503599627370496,
  /**
   * Largest `budgetChunk`: 2^30 - 1, the largest small integer (Smi) on every V8 build, so the
   * hit path's decrement stays an integer field update.
   */
  BudgetChunk = 1073741823,
}
/**
 * Slots of `Mmu.book`: budget beyond budgetChunk, budget last set, accesses before it was set,
 * accesses served by the out-of-line path, fast-path hit baseline (resetFastPathHits).
 */
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals like Fast
const enum Book {
  Reserve = 0,
  Start = 1,
  AccessBase = 2,
  Slow = 3,
  FastBaseline = 4,
  Length = 5,
}
/** `Access` as literals for this file's code (checked below). */
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals like Fast
const enum Acc {
  Read = 0,
  Write = 1,
  Fetch = 2,
}
if (
  Fast.Two32 !== 2 ** 32 ||
  Num.InvTwo32 !== 2 ** -32 ||
  Num.InfiniteBudget !== 2 ** 52 ||
  Num.BudgetChunk !== 2 ** 30 - 1 ||
  Acc.Read !== Access.Read ||
  Acc.Write !== Access.Write ||
  Acc.Fetch !== Access.Fetch
) {
  throw new Error("mmu.ts: the Num or Acc constants are wrong");
}
const KNOWN_EFER = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
/** 2^64, the bound of store64's values (written as a power: biome rejects the 20-digit literal). */
const TWO_64 = 2 ** 64;

const SIZE_MASKS = [0, 0xff, 0xffff, 0, Num.AllOnes];

/** The privilege contexts that have a fast path of their own (index into `Mmu.contexts`). */
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals like Fast
const enum Context {
  /** CPL 3. */
  User = 0,
  /** CPL 0-2 with RFLAGS.AC clear (SMAP applies). */
  Supervisor = 1,
  /** CPL 0-2 with RFLAGS.AC set. */
  SupervisorAc = 2,
}

/**
 * One privilege context's fast path: the slot table the accessors read (layout in `Fast`), and
 * the tag indices filled since they were last emptied, in two lists: slots filled from global
 * entries and from non-global ones. A slot is in each list at most once (`listed` bits), so
 * emptying touches only filled slots, and emptying the non-global ones (on every CR3 write)
 * does not revisit the global ones that stay.
 */
class FastPath {
  readonly table = new Float64Array(Fast.Length).fill(Num.EmptyTag);
  /** Per tag index: 1 when the slot's translation came from a global entry. */
  private readonly global = new Uint8Array(Fast.Length);
  /** Per tag index: bit 0 set while listed in `globals`, bit 1 while listed in `locals`. */
  private readonly listed = new Uint8Array(Fast.Length);
  private readonly globals = new Int32Array(Fast.Length / 2);
  private globalCount = 0;
  private readonly locals = new Int32Array(Fast.Length / 2);
  private localCount = 0;

  /**
   * Fills the read slot pair at tag index `i` with `tag` (page base va) and `word` (page base
   * pa / 4), and with `write` the write slot pair of the same page too.
   */
  fill(i: number, tag: number, word: number, global: boolean, write: boolean): void {
    this.fillSlot(i, tag, word, global);
    if (write) this.fillSlot(Fast.WriteSlots + i, tag, word, global);
  }

  private fillSlot(i: number, tag: number, word: number, global: boolean): void {
    const table = this.table;
    table[i] = tag;
    table[i + 1] = word;
    const listed = this.listed[i];
    if (global) {
      this.global[i] = 1;
      if ((listed & 1) === 0) {
        this.listed[i] = listed | 1;
        this.globals[this.globalCount++] = i;
      }
    } else {
      this.global[i] = 0;
      if ((listed & 2) === 0) {
        this.listed[i] = listed | 2;
        this.locals[this.localCount++] = i;
      }
    }
  }

  /** Empties every filled slot, or with `keepGlobal` only those not filled from a global entry. */
  empty(keepGlobal: boolean): void {
    if (this.localCount === 0 && (keepGlobal || this.globalCount === 0)) return;
    const table = this.table;
    const listed = this.listed;
    const locals = this.locals;
    for (let k = 0, n = this.localCount; k < n; k++) {
      const i = locals[k];
      listed[i] &= ~2;
      // A slot refilled from a global entry since it was listed here stays (it is in `globals`).
      if (this.global[i] === 0) table[i] = Num.EmptyTag;
    }
    this.localCount = 0;
    if (keepGlobal) return;
    const globals = this.globals;
    for (let k = 0, n = this.globalCount; k < n; k++) {
      const i = globals[k];
      listed[i] &= ~1;
      table[i] = Num.EmptyTag;
    }
    this.globalCount = 0;
  }
}

/** The PAT memory-type index 4*PAT + 2*PCD + PWT of a leaf entry (low half `lo`) mapping a page of `size`. */
function memoryType(lo: number, size: PageSize): number {
  const pat = (lo & (size === PAGE_SIZE ? PTE_PAT : PTE_PAT_LARGE)) !== 0 ? 4 : 0;
  return pat | ((lo & PTE_PCD) !== 0 ? 2 : 0) | ((lo & PTE_PWT) !== 0 ? 1 : 0);
}

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/**
 * One CPU's MMU. See the module comment for the fast path. Control registers are written only
 * through writeCr0/writeCr3/writeCr4/writeEfer, which apply hardware.md 1.7's invalidations.
 * Instruction privilege (CPL 0 for MOV CR, INVLPG, INVPCID) is checked by
 * @side-kernel/privilege, not here.
 */
export class Mmu implements TlbListener, FastHitSource {
  /** The physical memory. */
  readonly memory: PhysicalMemory;
  /** This CPU's TLB. */
  readonly tlb: Tlb;
  /** Device handler for physical addresses >= memory.size, or undefined (master abort). */
  mmio: MmioHandler | undefined;
  /** MMIO reads performed (including master aborts). */
  mmioReads = 0;
  /** MMIO writes performed (including master aborts). */
  mmioWrites = 0;
  /** MMIO accesses that found no handler (reads returned all ones, writes were dropped). */
  masterAborts = 0;

  private readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly view: DataView;
  private readonly ramSize: number;
  private readonly hiMask: number;
  /** The fast paths of the three privilege contexts (`Context`); `fast` is the current one's table. */
  private readonly contexts: FastPath[] = [new FastPath(), new FastPath(), new FastPath()];
  /**
   * The fast path, one Float64Array so that a hit reads one object for both values: each slot
   * is a pair (tag = linear base of the cached page, or Num.EmptyTag; word = its physical base / 4),
   * read slots first, then write slots (layout in `Fast`).
   */
  // Initialised here, not in the constructor, so that V8 records the field as always holding a
  // Float64Array (a field first left undefined would need a map check at every access).
  private fast: Float64Array = this.contexts[Context.Supervisor].table;
  /**
   * The access budget left is book[Book.Reserve] + budgetChunk. Every access decrements the
   * small integer budgetChunk (an integer field update on the hit path); when it goes below 0
   * the access takes the out-of-line path, which refills it from the reserve or throws
   * AccessBudgetExceeded (refillBudget). budgetChunk is an integer in [-1, Num.BudgetChunk], so
   * its field always holds a small integer.
   */
  private budgetChunk = 0;
  // Keep `fast` and `budgetChunk`, the two fields every hit touches, adjacent and ahead of the
  // others: with two fields inserted between them the bench measured 25% fewer hits/s.
  /**
   * Budget and counter bookkeeping (slots BOOK_*). A Float64Array rather than number fields
   * because these values may become fractional or exceed the small-integer range, and a field
   * that changes representation changes the object's hidden class, deoptimising every
   * accessor inlined into its callers.
   */
  private readonly book = new Float64Array(Book.Length);
  private budgetInfinite = true;
  private _cpl = 0;
  private _ac = false;
  private _cr0 = DEFAULT_CR0;
  private _cr3 = 0;
  /** Physical address of the PML4 (CR3 bits 51:12), kept by writeCr3 for the walk. */
  private rootTable = 0;
  private _cr4 = DEFAULT_CR4;
  private _efer = DEFAULT_EFER;
  private pcid = 0;
  private scratch = new Uint8Array(PAGE_SIZE);
  /** [0]: high 32 bits of the last 8-byte read made by `miss` (a typed array: no field changes representation). */
  private readonly partHi = new Uint32Array(1);
  /** The current privilege context (`Context`), which `fast` belongs to. */
  private context: FastPath = this.contexts[Context.Supervisor];

  /**
   * A CPU at CPL 0 with CR0 = PE|PG|WP, CR4 = PAE, EFER = LME|LMA|NXE|SCE, CR3 = 0.
   * Throws RangeError for a bad MAXPHYADDR.
   */
  constructor(memory: PhysicalMemory, options: MmuOptions = {}) {
    this.memory = memory;
    this.tlb = options.tlb ?? new Tlb();
    this.tlb.listener = this;
    this.tlb.fastHitSource = this;
    this.mmio = options.mmio;
    this.u8 = memory.u8;
    this.u16 = new Uint16Array(memory.buffer);
    this.u32 = memory.u32;
    this.view = new DataView(memory.buffer);
    this.ramSize = memory.size;
    this.book[Book.Reserve] = Num.InfiniteBudget;
    this.book[Book.Start] = Num.InfiniteBudget;
    this.hiMask = reservedHiMask(options.maxPhysAddrBits ?? DEFAULT_MAX_PHYS_ADDR_BITS);
  }

  // ---- state -------------------------------------------------------------------------------

  /** Current privilege level 0..3. Setting it to anything else throws RangeError. */
  get cpl(): number {
    return this._cpl;
  }
  set cpl(value: number) {
    if (value !== 0 && value !== 1 && value !== 2 && value !== 3)
      throw new RangeError(`CPL ${String(value)} is not 0..3`);
    if (value !== this._cpl) {
      this._cpl = value;
      this.selectContext();
    }
  }

  /** RFLAGS.AC: with CR4.SMAP, explicit supervisor accesses to user pages are allowed only when set. */
  get ac(): boolean {
    return this._ac;
  }
  set ac(value: boolean) {
    const v = value === true;
    if (v !== this._ac) {
      this._ac = v;
      this.selectContext();
    }
  }

  /** CR0. */
  get cr0(): number {
    return this._cr0;
  }
  /** CR3 as last written (PML4 base | PCID or PWT/PCD; never the no-flush bit). */
  get cr3(): number {
    return this._cr3;
  }
  /** CR4. */
  get cr4(): number {
    return this._cr4;
  }
  /** IA32_EFER. */
  get efer(): number {
    return this._efer;
  }
  /** Current PCID: CR3[11:0] when CR4.PCIDE=1, else 0. */
  get currentPcid(): number {
    return this.pcid;
  }

  /** Memory and MMIO accesses made through the accessors (readBytes/writeBytes/copy: one per page piece). */
  get accesses(): number {
    return (
      this.book[Book.AccessBase] + (this.book[Book.Start] - (this.book[Book.Reserve] + this.budgetChunk))
    );
  }

  /**
   * Accesses left before the lockup detector fires (default Infinity). Each access decrements
   * it; the access that takes it below 0 throws AccessBudgetExceeded (and so does every later
   * one until the budget is set again). Setting a non-number or NaN throws RangeError.
   */
  get accessBudget(): number {
    return this.budgetInfinite ? Number.POSITIVE_INFINITY : this.book[Book.Reserve] + this.budgetChunk;
  }
  set accessBudget(value: number) {
    if (typeof value !== "number" || Number.isNaN(value))
      throw new RangeError(`access budget ${String(value)} is not a number`);
    this.book[Book.AccessBase] = this.accesses;
    this.budgetInfinite = value >= Num.InfiniteBudget;
    this.book[Book.Start] = this.budgetInfinite ? Num.InfiniteBudget : value;
    this.book[Book.Reserve] = this.book[Book.Start];
    this.budgetChunk = 0;
    // Move the first chunk now, so that the next access can take the fast path (a budget set
    // per SIDE crossing would otherwise send each crossing's first access down the slow path).
    this.refillBudget();
  }

  /**
   * Called when an access took budgetChunk below 0: moves the next chunk from book[Book.Reserve].
   * Returns false, leaving the (negative) remainder in book[Book.Reserve], when the access takes
   * the whole budget below 0.
   */
  private refillBudget(): boolean {
    const left = this.book[Book.Reserve] + this.budgetChunk;
    if (left < 0) {
      this.book[Book.Reserve] = left;
      this.budgetChunk = 0;
      return false;
    }
    const chunk = Math.min(Math.floor(left), Num.BudgetChunk);
    this.budgetChunk = chunk | 0;
    this.book[Book.Reserve] = left - chunk;
    return true;
  }

  /** Resets accesses, mmioReads, mmioWrites, masterAborts and the TLB stats; keeps the remaining budget. */
  resetCounters(): void {
    this.book[Book.AccessBase] -= this.accesses;
    this.book[Book.Slow] = 0;
    this.book[Book.FastBaseline] = 0;
    this.mmioReads = 0;
    this.mmioWrites = 0;
    this.masterAborts = 0;
    this.tlb.resetStats();
  }

  /** FastHitSource: accesses served by the fast path since the last reset. */
  fastPathHits(): number {
    return this.accesses - this.book[Book.Slow] - this.book[Book.FastBaseline];
  }

  /** FastHitSource: restarts the fast-path hit count. */
  resetFastPathHits(): void {
    this.book[Book.FastBaseline] = this.accesses - this.book[Book.Slow];
  }

  /**
   * TlbListener: empties the fast paths of every context, or, when `globalsKept`, only their
   * slots copied from non-global entries. Called on every TLB invalidation and control-register
   * write.
   */
  tlbInvalidated(globalsKept = false): void {
    const contexts = this.contexts;
    for (let c = 0; c < contexts.length; c++) contexts[c].empty(globalsKept === true);
  }

  /** Makes `fast` the fast path of the context of the current CPL and RFLAGS.AC. */
  private selectContext(): void {
    const c = this._cpl === 3 ? Context.User : this._ac ? Context.SupervisorAc : Context.Supervisor;
    this.context = this.contexts[c];
    this.fast = this.context.table;
  }

  /** Returns `value` as an unsigned 32-bit number; a signed int32 (e.g. `CR0_PE | CR0_PG`) is accepted. */
  private checkRegValue(name: string, value: number): number {
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= Fast.Two32) {
      throw new GeneralProtection(
        `${name} value ${String(value)} is not a 32-bit integer (upper bits are reserved)`,
      );
    }
    return value >>> 0;
  }

  /**
   * MOV to CR0. Throws #GP(0) for a value outside 32 bits or one that clears PG or PE (this
   * model runs in IA-32e mode only). Does not flush the TLB (not required, hardware.md 1.7).
   */
  writeCr0(value: number): void {
    value = this.checkRegValue("CR0", value);
    if ((value & CR0_PG) === 0 || (value & CR0_PE) === 0) {
      throw new GeneralProtection(
        `CR0 value ${hex(value)} clears PG or PE, leaving IA-32e mode, which is not modelled`,
      );
    }
    this._cr0 = value;
    this.tlbInvalidated();
  }

  /**
   * MOV to CR3. `value` = PML4 physical address | PCID (CR4.PCIDE=1) or | PWT/PCD (PCIDE=0).
   * `noFlush` is source bit 63. Invalidation per hardware.md 1.7: PCIDE=0 drops non-global
   * PCID-0 entries; PCIDE=1 drops the new PCID's non-global entries unless noFlush.
   * Throws #GP(0) if the value is not an integer below 2^52, has bits at or above MAXPHYADDR,
   * or noFlush is set with PCIDE=0 (bit 63 is reserved then).
   */
  writeCr3(value: number, noFlush = false): void {
    // value < 2^52: its high half, value * 2^-32 (exact), truncates to an int32 with `| 0`.
    if (
      !(value >= 0 && value < 2 ** 52) ||
      Math.floor(value) !== value ||
      (((value * Num.InvTwo32) | 0) & this.hiMask) !== 0
    ) {
      throw new GeneralProtection(`CR3 value ${String(value)} sets reserved bits (at or above MAXPHYADDR)`);
    }
    const pcide = (this._cr4 & CR4_PCIDE) !== 0;
    if (noFlush && !pcide)
      throw new GeneralProtection("MOV to CR3 with bit 63 (no-flush) set while CR4.PCIDE=0");
    this._cr3 = value;
    this.rootTable = value - (value & Fast.PageMask);
    this.pcid = pcide ? value & CR3_PCID_MASK : 0;
    // A flush tells the fast paths itself; either way, what they copied from non-global
    // entries belonged to the old address space.
    if (!noFlush) this.tlb.flushPcidEntries(this.pcid, true);
    else this.tlbInvalidated(true);
  }

  /**
   * MOV to CR4. Invalidation per hardware.md 1.7: a PGE change or PCIDE 1->0 flushes every
   * entry including global ones; SMEP 0->1 flushes the current PCID's entries.
   * Throws #GP(0) for unknown bits (LA57 included), clearing PAE, or setting PCIDE while
   * CR3[11:0] != 0.
   */
  writeCr4(value: number): void {
    value = this.checkRegValue("CR4", value);
    if ((value & ~CR4_KNOWN_BITS) !== 0) {
      throw new GeneralProtection(
        `CR4 value ${hex(value)} sets reserved or unmodelled bits ${hex((value & ~CR4_KNOWN_BITS) >>> 0)}`,
      );
    }
    if ((value & CR4_PAE) === 0) throw new GeneralProtection("CR4.PAE cleared in IA-32e mode");
    const old = this._cr4;
    const pcideOn = (value & CR4_PCIDE) !== 0;
    if (pcideOn && (old & CR4_PCIDE) === 0 && (this._cr3 & CR3_PCID_MASK) !== 0) {
      throw new GeneralProtection(
        `CR4.PCIDE set while CR3[11:0] = ${hex(this._cr3 & CR3_PCID_MASK)} is not 0`,
      );
    }
    const changed = old ^ value;
    this._cr4 = value;
    if ((changed & CR4_PGE) !== 0 || ((old & CR4_PCIDE) !== 0 && !pcideOn)) {
      this.tlb.flushAllEntries(false);
    } else if ((value & CR4_SMEP) !== 0 && (old & CR4_SMEP) === 0) {
      this.tlb.flushPcidEntries(this.pcid, false);
    }
    this.pcid = pcideOn ? this._cr3 & CR3_PCID_MASK : 0;
    this.tlbInvalidated();
  }

  /**
   * WRMSR IA32_EFER. LMA is read-only (the written bit is ignored). Throws #GP(0) for unknown
   * bits or clearing LME. A change of NXE flushes the whole TLB (allowed: "may invalidate more").
   */
  writeEfer(value: number): void {
    value = this.checkRegValue("EFER", value);
    if ((value & ~KNOWN_EFER) !== 0)
      throw new GeneralProtection(`EFER value ${hex(value)} sets reserved bits`);
    if ((value & EFER_LME) === 0) throw new GeneralProtection("EFER.LME cleared while paging is on");
    const next = (value & ~EFER_LMA) | (this._efer & EFER_LMA);
    if (((next ^ this._efer) & EFER_NXE) !== 0) this.tlb.flushAllEntries(false);
    this._efer = next;
    this.tlbInvalidated();
  }

  /** INVLPG: drops `va`'s page for the current PCID and global entries for it. Throws #GP(0) if non-canonical. */
  invlpg(va: number): void {
    this.checkCanonical(va);
    this.tlb.invalidatePage(va, this.pcid);
  }

  /**
   * INVPCID: type 0 = one address of one PCID except global, 1 = one PCID except global,
   * 2 = everything including global, 3 = everything except global. Throws #GP(0) for a type
   * outside 0..3, a PCID outside 0..4095, a non-canonical address (type 0), or, with
   * CR4.PCIDE=0, type 0/1 with a PCID other than 0.
   */
  invpcid(type: number, pcid: number, va = 0): void {
    if (type !== 0 && type !== 1 && type !== 2 && type !== 3)
      throw new GeneralProtection(`INVPCID type ${String(type)} is not 0..3`);
    if (!Number.isInteger(pcid) || pcid < 0 || pcid > CR3_PCID_MASK)
      throw new GeneralProtection(`INVPCID PCID ${String(pcid)} is not 0..4095`);
    if ((this._cr4 & CR4_PCIDE) === 0 && type <= 1 && pcid !== 0) {
      throw new GeneralProtection(`INVPCID type ${type} for PCID ${pcid} while CR4.PCIDE=0`);
    }
    if (type === 0) {
      this.checkCanonical(va);
      this.tlb.invalidatePageNonGlobal(va, pcid);
    } else if (type === 1) this.tlb.flushPcidEntries(pcid, true);
    else this.tlb.flushAllEntries(type === 3);
  }

  private checkCanonical(va: number): void {
    if (!(va >= 0 && va < LINEAR_ADDRESS_LIMIT) || Math.floor(va) !== va) {
      throw new GeneralProtection(`non-canonical address ${formatLinear(va)}`);
    }
  }

  // ---- translation ---------------------------------------------------------------------------

  /**
   * Translates `va` for an access of kind `access` at the current CPL (or as an implicit
   * supervisor access), as hardware does: TLB first, else a walk that sets A in every entry
   * used and D in the leaf on a permitted write. Returns the physical address.
   * Throws GeneralProtection for a non-canonical (non-linear) address and PageFault with the
   * exact error code for not-present, reserved-bit and rights violations.
   */
  translate(va: number, access: Access, options?: TranslateOptions): number {
    if (access !== 0 && access !== 1 && access !== 2)
      throw new RangeError(`access kind ${String(access)} is not Read, Write or Fetch`);
    const implicit = options?.implicitSupervisor === true;
    return this.translateCore(va, access, implicit);
  }

  /** Rights check of hardware.md 1.4 against combined TLB_* `perms`: returns a #PF code, or 0 if allowed. */
  private rightsFault(perms: number, access: number, implicit: boolean): number {
    const user = this._cpl === 3 && !implicit;
    const cr4 = this._cr4;
    const nxe = (this._efer & EFER_NXE) !== 0;
    const code =
      PF_PROT |
      (access === Acc.Write ? PF_WRITE : 0) |
      (user ? PF_USER : 0) |
      (access === Acc.Fetch && (nxe || (cr4 & CR4_SMEP) !== 0) ? PF_INSTR : 0);
    const userPage = (perms & TLB_USER) !== 0;
    const writable = (perms & TLB_WRITABLE) !== 0;
    const noExec = nxe && (perms & TLB_NO_EXECUTE) !== 0;
    if (user) {
      if (!userPage) return code;
      if (access === Acc.Write && !writable) return code;
      if (access === Acc.Fetch && noExec) return code;
      return 0;
    }
    if (userPage) {
      if (access === Acc.Fetch) {
        if ((cr4 & CR4_SMEP) !== 0) return code;
      } else if ((cr4 & CR4_SMAP) !== 0 && (implicit || !this._ac)) return code;
    }
    if (access === Acc.Write && !writable && (this._cr0 & CR0_WP) !== 0) return code;
    if (access === Acc.Fetch && noExec) return code;
    return 0;
  }

  /** `rightsFault(perms, Acc.Write, false) === 0`, without building the fault code. */
  private explicitWriteAllowed(perms: number): boolean {
    const writable = (perms & TLB_WRITABLE) !== 0;
    if ((perms & TLB_USER) !== 0) {
      if (this._cpl === 3) return writable;
      if ((this._cr4 & CR4_SMAP) !== 0 && !this._ac) return false;
    } else if (this._cpl === 3) return false;
    return writable || (this._cr0 & CR0_WP) === 0;
  }

  private translateCore(va: number, access: number, implicit: boolean): number {
    if (!(va >= 0 && va < LINEAR_ADDRESS_LIMIT) || Math.floor(va) !== va) {
      throw new GeneralProtection(`non-canonical address ${formatLinear(va)}`);
    }
    const tlb = this.tlb;
    const pcid = this.pcid;
    if (tlb.find(va, pcid)) {
      const perms = tlb.hitPerms;
      const code = this.rightsFault(perms, access, implicit);
      if (code !== 0) {
        tlb.dropForFault(va, pcid);
        throw new PageFault(va, code);
      }
      if (access !== Acc.Write || (perms & TLB_DIRTY) !== 0) {
        const pa = tlb.hitPa + (va - tlb.hitPage);
        if (!implicit && access !== Acc.Fetch) this.fillFast(va, pa, perms, tlb.hitGlobal);
        return pa;
      }
      // A write through an entry cached with D=0: walk again to set D (hardware.md 1.7 suggestion).
    }
    if (tlb.vacant >= 0) {
      const pa = this.refill(va, access, implicit);
      if (pa >= 0) return pa;
    }
    return this.walkAny(va, access, implicit);
  }

  /**
   * The common TLB miss, in one method for host time (most misses follow a flush, and every
   * call costs under JSC): `tlb.find` has just missed `va` and left `tlb.vacant` >= 0. If the
   * walk (hardware.md 1.2-1.5) finds four present entries with A already set, no reserved bit,
   * a 4 KiB leaf and the access allowed, sets D in the leaf on a write, caches the translation
   * (`tlb.fillVacant`) and, for an explicit read or write, the fast path, and returns the
   * physical address. Otherwise returns -1 having changed nothing, and `walkAny` does what
   * this would have done, or faults.
   */
  private refill(va: number, access: number, implicit: boolean): number {
    const u32 = this.u32;
    const ramSize = this.ramSize;
    const bad = this.hiMask | ((this._efer & EFER_NXE) !== 0 ? 0 : PTE_XD_HI);
    const vaLo = va >>> 0;
    const vaHi = (va - vaLo) * Num.InvTwo32;
    // PML4E, PDPTE, PDE: present, accessed, not a large page, no reserved bit.
    let table = this.rootTable;
    let all = -1;
    let any = 0;
    let lo = 0;
    let hi = 0;
    for (let level = 0; level < 3; level++) {
      const index =
        level === 0
          ? (vaHi >>> 7) & 511
          : level === 1
            ? ((vaHi << 2) | (vaLo >>> 30)) & 511
            : (vaLo >>> 21) & 511;
      const ea = table + index * ENTRY_SIZE;
      if (ea + ENTRY_SIZE > ramSize) return -1;
      lo = u32[ea >>> 2];
      hi = u32[(ea >>> 2) + 1];
      if ((lo & (PTE_P | PTE_A | PTE_PS)) !== (PTE_P | PTE_A) || (hi & bad) !== 0) return -1;
      all &= lo;
      any |= hi;
      table = (hi & PTE_ADDR_HI_MASK) * Fast.Two32 + ((lo & PTE_ADDR_LO_MASK) >>> 0);
    }
    // PTE: present, accessed, no reserved bit (bit 7 is PAT here).
    const ea = table + ((vaLo >>> 12) & 511) * ENTRY_SIZE;
    if (ea + ENTRY_SIZE > ramSize) return -1;
    const w = ea >>> 2;
    lo = u32[w];
    hi = u32[w + 1];
    if ((lo & (PTE_P | PTE_A)) !== (PTE_P | PTE_A) || (hi & bad) !== 0) return -1;
    all &= lo;
    any |= hi;
    let perms =
      ((all & PTE_RW) !== 0 ? TLB_WRITABLE : 0) |
      ((all & PTE_US) !== 0 ? TLB_USER : 0) |
      ((any & PTE_XD_HI) !== 0 ? TLB_NO_EXECUTE : 0);
    if (this.rightsFault(perms, access, implicit) !== 0) return -1;
    if ((lo & PTE_D) !== 0) perms |= TLB_DIRTY;
    else if (access === Acc.Write) {
      u32[w] = (lo | PTE_D) >>> 0;
      perms |= TLB_DIRTY;
    }
    const offset = vaLo & Fast.PageMask;
    const pagePa = (hi & PTE_ADDR_HI_MASK) * Fast.Two32 + ((lo & PTE_ADDR_LO_MASK) >>> 0);
    const global = (lo & PTE_G) !== 0 && (this._cr4 & CR4_PGE) !== 0;
    this.tlb.fillVacant(va - offset, this.pcid, pagePa, perms, global, memoryType(lo, PAGE_SIZE));
    const pa = pagePa + offset;
    if (!implicit && access !== Acc.Fetch) this.fillFast(va, pa, perms, global);
    return pa;
  }

  private fillFast(va: number, pa: number, perms: number, global: boolean): void {
    const off = va & Fast.PageMask;
    const page = pa - off;
    if (page + PAGE_SIZE > this.ramSize) return;
    const i = (va >>> Fast.PairShift) & Fast.PairMask;
    const write = (perms & TLB_DIRTY) !== 0 && this.explicitWriteAllowed(perms);
    this.context.fill(i, va - off, page / 4, global, write);
  }

  private notPresentCode(access: number, implicit: boolean): number {
    const user = this._cpl === 3 && !implicit;
    const instr = access === Acc.Fetch && ((this._efer & EFER_NXE) !== 0 || (this._cr4 & CR4_SMEP) !== 0);
    return (access === Acc.Write ? PF_WRITE : 0) | (user ? PF_USER : 0) | (instr ? PF_INSTR : 0);
  }

  /**
   * The page walk (hardware.md 1.2-1.5), in every case: sets A in every entry used and D in the
   * leaf on a permitted write, caches the translation in the TLB (and the fast path), and
   * returns the physical address, or throws the #PF of the first entry that stops it.
   */
  private walkAny(va: number, access: number, implicit: boolean): number {
    const tlb = this.tlb;
    tlb.recordWalk();
    const nxe = (this._efer & EFER_NXE) !== 0;
    const u32 = this.u32;
    const ramSize = this.ramSize;
    const hiMask = this.hiMask;
    // va is an integer below 2^48 (translateCore checked it): its two halves, from which the
    // four 9-bit table indices (bits 47:39, 38:30, 29:21, 20:12; layout.ts tableIndex) come by
    // integer shifts. Scaling by a power of two is exact, so no division is needed anywhere.
    const vaLo = va >>> 0;
    const vaHi = (va - vaLo) * Num.InvTwo32;
    let table = this.rootTable;
    let perms = TLB_WRITABLE | TLB_USER;
    for (let level = 0; level < 4; level++) {
      const index =
        level === 3
          ? (vaLo >>> 12) & 511
          : level === 2
            ? (vaLo >>> 21) & 511
            : level === 1
              ? ((vaHi << 2) | (vaLo >>> 30)) & 511
              : (vaHi >>> 7) & 511;
      const ea = table + index * ENTRY_SIZE;
      // ea is 8-aligned and ramSize a multiple of 4096: both halves are in RAM or neither is;
      // an entry outside RAM reads as all ones (master abort), as a master abort reads.
      const inRam = ea + ENTRY_SIZE <= ramSize;
      let lo = Num.AllOnes;
      let hi = Num.AllOnes;
      if (inRam) {
        const w = ea >>> 2;
        lo = u32[w];
        hi = u32[w + 1];
      }
      if ((lo & PTE_P) === 0) throw new PageFault(va, this.notPresentCode(access, implicit));
      if ((hi & hiMask) !== 0 || (!nxe && (hi & PTE_XD_HI) !== 0) || (lo & PTE_PS) !== 0) {
        const problem = reservedBitsProblem(level, lo, hi, hiMask, nxe);
        if (problem !== undefined) {
          throw new PageFault(
            va,
            PF_PROT | PF_RSVD | this.notPresentCode(access, implicit),
            `reserved bit in the level-${4 - level} entry at ${formatPhysical(ea)}: ${problem}`,
          );
        }
      }
      if ((lo & PTE_RW) === 0) perms &= ~TLB_WRITABLE;
      if ((lo & PTE_US) === 0) perms &= ~TLB_USER;
      if ((hi & PTE_XD_HI) !== 0) perms |= TLB_NO_EXECUTE;
      if ((lo & PTE_A) === 0 && inRam) {
        lo = (lo | PTE_A) >>> 0;
        u32[ea >>> 2] = lo;
      }
      // The entry's address bits: bits 51:32 from hi, 31:12 from lo.
      const addrHi = (hi & PTE_ADDR_HI_MASK) * Fast.Two32;
      const addrLo = (lo & PTE_ADDR_LO_MASK) >>> 0;
      if (level !== 3 && (level === 0 || (lo & PTE_PS) === 0)) {
        table = addrHi + addrLo;
        continue;
      }
      const code = this.rightsFault(perms, access, implicit);
      if (code !== 0) throw new PageFault(va, code);
      if ((lo & PTE_D) !== 0) perms |= TLB_DIRTY;
      else if (access === Acc.Write) {
        if (inRam) u32[ea >>> 2] = (lo | PTE_D) >>> 0;
        perms |= TLB_DIRTY;
      }
      const size: PageSize = level === 3 ? PAGE_SIZE : level === 2 ? LARGE_PAGE_SIZE : HUGE_PAGE_SIZE;
      // Sizes are powers of two below 2^32: a page's offset bits all lie in the low halves.
      const offsetMask = size - 1;
      const pagePa = addrHi + (addrLo - (addrLo & offsetMask));
      return this.cacheLeaf(va, vaLo & offsetMask, lo, size, pagePa, perms, access, implicit);
    }
    throw new Error("unreachable: the walk ends at level 4");
  }

  /**
   * The end of `walkAny`: caches the translation of `va` (offset `offset` in a page of `size`
   * at `pagePa`, leaf entry low half `lo`, rights `perms`) in the TLB and, for an explicit read
   * or write, the fast path; returns the physical address.
   */
  private cacheLeaf(
    va: number,
    offset: number,
    lo: number,
    size: PageSize,
    pagePa: number,
    perms: number,
    access: number,
    implicit: boolean,
  ): number {
    const global = (lo & PTE_G) !== 0 && (this._cr4 & CR4_PGE) !== 0;
    this.tlb.insertFromWalk(this.pcid, va - offset, size, pagePa, perms, global, memoryType(lo, size));
    const pa = pagePa + offset;
    if (!implicit && access !== Acc.Fetch) this.fillFast(va, pa, perms, global);
    return pa;
  }

  // ---- physical helpers -------------------------------------------------------------------

  private readPhys(pa: number, size: 1 | 2 | 4): number {
    if (pa + size <= this.ramSize) {
      if (size === 4) return (pa & 3) === 0 ? this.u32[pa >>> 2] : this.view.getUint32(pa, true);
      if (size === 2) return (pa & 1) === 0 ? this.u16[pa >>> 1] : this.view.getUint16(pa, true);
      return this.u8[pa];
    }
    if (pa >= this.ramSize) {
      this.mmioReads++;
      if (this.mmio === undefined) {
        this.masterAborts++;
        return SIZE_MASKS[size];
      }
      return (this.mmio.read(pa, size) & SIZE_MASKS[size]) >>> 0;
    }
    let v = 0;
    for (let k = 0; k < size; k++) v += this.readPhys(pa + k, 1) * 2 ** (8 * k);
    return v;
  }

  private writePhys(pa: number, size: 1 | 2 | 4, value: number): void {
    if (pa + size <= this.ramSize) {
      if (size === 4) {
        if ((pa & 3) === 0) this.u32[pa >>> 2] = value;
        else this.view.setUint32(pa, value >>> 0, true);
      } else if (size === 2) {
        if ((pa & 1) === 0) this.u16[pa >>> 1] = value;
        else this.view.setUint16(pa, value, true);
      } else this.u8[pa] = value;
      return;
    }
    if (pa >= this.ramSize) {
      this.mmioWrites++;
      if (this.mmio === undefined) this.masterAborts++;
      else this.mmio.write(pa, size, (value & SIZE_MASKS[size]) >>> 0);
      return;
    }
    for (let k = 0; k < size; k++) this.writePhys(pa + k, 1, Math.floor(value / 2 ** (8 * k)) & 0xff);
  }

  private overBudget(va: number): never {
    this.book[Book.Slow]++;
    throw new AccessBudgetExceeded(va);
  }

  /**
   * The out-of-line path of every accessor: an exhausted budget, a fast-path miss (TLB lookup,
   * walk, rights check, A/D, fast-path fill), MMIO, and unaligned or page-crossing accesses.
   * The budget has already been decremented by the caller. A read (`write` false) of `size`
   * bytes (1, 2, 4 or 8) returns the low 32 bits and leaves the high ones of an 8-byte read in
   * partHi[0]; a write translates every page it touches before storing `lo` / `hi`. An 8-byte
   * MMIO access is two 4-byte ones.
   *
   * Deliberately ONE method with the read and write cases side by side: its bytecode (about
   * 780 bytes) is above V8's --max-inlined-bytecode-size (460), so it is never inlined into the
   * accessors (module comment). Do not split it into small pieces without re-checking the
   * bench's tlbHitLoadsPerSec.
   */
  private miss(va: number, size: number, write: boolean, lo: number, hi: number): number {
    if (this.budgetChunk < 0 && !this.refillBudget()) this.overBudget(va);
    this.book[Book.Slow]++;
    const access = write ? Acc.Write : Acc.Read;
    const pa = this.translateCore(va, access, false);
    const first = PAGE_SIZE - (va & Fast.PageMask);
    if (size <= first && pa + size <= this.ramSize) {
      // Within one RAM page (a first touch, an unaligned access, or a page the fast path
      // does not hold): aligned halfwords and words through the typed views, as the fast path
      // reads them (little-endian host, as everywhere here); the rest through the DataView.
      const view = this.view;
      const u32 = this.u32;
      const w = (pa & 3) === 0 ? pa >>> 2 : -1;
      if (write) {
        if (size === 8) {
          if (w >= 0) {
            u32[w] = lo;
            u32[w + 1] = hi;
          } else {
            view.setUint32(pa, lo, true);
            view.setUint32(pa + 4, hi, true);
          }
        } else if (size === 4) {
          if (w >= 0) u32[w] = lo;
          else view.setUint32(pa, lo, true);
        } else if (size === 2) {
          if ((pa & 1) === 0) this.u16[pa >>> 1] = lo;
          else view.setUint16(pa, lo, true);
        } else this.u8[pa] = lo;
        return 0;
      }
      if (size === 8) {
        if (w >= 0) {
          this.partHi[0] = u32[w + 1];
          return u32[w];
        }
        this.partHi[0] = view.getUint32(pa + 4, true);
        return view.getUint32(pa, true);
      }
      this.partHi[0] = 0;
      if (size === 4) return w >= 0 ? u32[w] : view.getUint32(pa, true);
      if (size === 2) return (pa & 1) === 0 ? this.u16[pa >>> 1] : view.getUint16(pa, true);
      return this.u8[pa];
    }
    if (size <= first) {
      // MMIO, or the last bytes of RAM: readPhys / writePhys split it.
      if (write) {
        if (size === 8) {
          this.writePhys(pa, 4, lo);
          this.writePhys(pa + 4, 4, hi);
        } else this.writePhys(pa, size as 1 | 2 | 4, lo);
        return 0;
      }
      if (size === 8) {
        const low = this.readPhys(pa, 4);
        this.partHi[0] = this.readPhys(pa + 4, 4);
        return low;
      }
      this.partHi[0] = 0;
      return this.readPhys(pa, size as 1 | 2 | 4);
    }
    // Crosses into the next page: translate both pages before touching memory.
    const pa2 = this.translateCore(va + first, access, false);
    if (write) {
      for (let k = 0; k < size; k++) {
        const b = k < 4 ? (lo >>> (8 * k)) & 0xff : (hi >>> (8 * (k - 4))) & 0xff;
        this.writePhys(k < first ? pa + k : pa2 + (k - first), 1, b);
      }
      return 0;
    }
    let low = 0;
    let high = 0;
    for (let k = 0; k < size; k++) {
      const b = this.readPhys(k < first ? pa + k : pa2 + (k - first), 1);
      if (k < 4) low += b * 2 ** (8 * k);
      else high += b * 2 ** (8 * (k - 4));
    }
    this.partHi[0] = high;
    return low;
  }

  /** Throws the #GP(0) of loadPtr for a loaded pointer whose bits 63:48 are not canonical. */
  private nonCanonicalPointer(va: number, lo: number, hi: number): never {
    throw new GeneralProtection(
      `non-canonical pointer 0x${hi.toString(16).padStart(8, "0")}${lo.toString(16).padStart(8, "0")} loaded from ${formatLinear(va)}`,
    );
  }

  // ---- accessors (hot path) -----------------------------------------------------------------
  // Each one: decrement the budget, look up the fast-path slot of va's page, and on a hit
  // (budget not exhausted, tag = va's page base, access within the page and aligned as the
  // fast path requires) touch memory directly; otherwise `miss` does everything else.

  /** Loads the byte at `va`. Throws PageFault, GeneralProtection (non-canonical) or AccessBudgetExceeded. */
  load8(va: number): number {
    const fast = this.fast;
    const off = va & Fast.PageMask;
    const i = (va >>> Fast.PairShift) & Fast.PairMask;
    if (--this.budgetChunk >= 0 && fast[i] === va - off) return this.u8[fast[i + 1] * 4 + off];
    return this.miss(va, 1, false, 0, 0) >>> 0;
  }

  /** Loads the little-endian 16-bit value at `va` (any alignment). Throws like load8. */
  load16(va: number): number {
    const fast = this.fast;
    const off = va & Fast.PageMask;
    const i = (va >>> Fast.PairShift) & Fast.PairMask;
    if (--this.budgetChunk >= 0 && fast[i] === va - off && off !== Fast.PageMask) {
      // A 2-aligned halfword through the halfword view, like the word view little-endian;
      // no DataView call on the hit path (JSC does not inline those: 6x slower under Bun).
      const p = fast[i + 1] * 4 + off;
      return (p & 1) === 0 ? this.u16[p >>> 1] : this.u8[p] | (this.u8[p + 1] << 8);
    }
    return this.miss(va, 2, false, 0, 0) >>> 0;
  }

  /** Loads the little-endian unsigned 32-bit value at `va` (any alignment). Throws like load8. */
  load32(va: number): number {
    const fast = this.fast;
    const off = va & Fast.WordOffsetMask;
    const i = (va >>> Fast.PairShift) & Fast.PairMask;
    if (--this.budgetChunk >= 0 && fast[i] === va - off) return this.u32[fast[i + 1] + (off >>> 2)];
    return this.miss(va, 4, false, 0, 0) >>> 0;
  }

  /** Loads the 64-bit value at `va` as a number (exact below 2^53). Throws like load8. */
  load64(va: number): number {
    const fast = this.fast;
    const off = va & Fast.QwordOffsetMask;
    const i = (va >>> Fast.PairShift) & Fast.PairMask;
    if (--this.budgetChunk >= 0 && fast[i] === va - off) {
      const w = (fast[i + 1] + (off >>> 2)) | 0;
      return this.u32[w + 1] * Fast.Two32 + this.u32[w];
    }
    const lo = this.miss(va, 8, false, 0, 0);
    return this.partHi[0] * Fast.Two32 + lo;
  }

  /**
   * Loads a 64-bit pointer and returns it as a 48-bit linear address. Throws #GP(0) naming the
   * value if bits 63:48 are not the sign extension of bit 47; otherwise throws like load8.
   */
  loadPtr(va: number): number {
    const fast = this.fast;
    const off = va & Fast.QwordOffsetMask;
    const i = (va >>> Fast.PairShift) & Fast.PairMask;
    let lo: number;
    let hi: number;
    if (--this.budgetChunk >= 0 && fast[i] === va - off) {
      const w = (fast[i + 1] + (off >>> 2)) | 0;
      lo = this.u32[w];
      hi = this.u32[w + 1];
    } else {
      lo = this.miss(va, 8, false, 0, 0) >>> 0;
      hi = this.partHi[0];
    }
    const top = hi >>> 15;
    if (top !== 0 && top !== Fast.CanonicalHigh) this.nonCanonicalPointer(va, lo, hi);
    return (hi & 0xffff) * Fast.Two32 + lo;
  }

  /** Stores the low 8 bits of `value` at `va`. Throws like load8. */
  store8(va: number, value: number): void {
    const fast = this.fast;
    const off = va & Fast.PageMask;
    const i = ((va >>> Fast.PairShift) & Fast.PairMask) + Fast.WriteSlots;
    if (--this.budgetChunk >= 0 && fast[i] === va - off) this.u8[fast[i + 1] * 4 + off] = value;
    else this.miss(va, 1, true, value & 0xff, 0);
  }

  /** Stores the low 16 bits of `value` at `va`, little-endian. Throws like load8. */
  store16(va: number, value: number): void {
    const fast = this.fast;
    const off = va & Fast.PageMask;
    const i = ((va >>> Fast.PairShift) & Fast.PairMask) + Fast.WriteSlots;
    if (--this.budgetChunk >= 0 && fast[i] === va - off && off !== Fast.PageMask) {
      const p = fast[i + 1] * 4 + off;
      if ((p & 1) === 0) this.u16[p >>> 1] = value;
      else {
        this.u8[p] = value;
        this.u8[p + 1] = value >>> 8;
      }
    } else this.miss(va, 2, true, value & 0xffff, 0);
  }

  /** Stores the low 32 bits of `value` at `va`, little-endian. Throws like load8. */
  store32(va: number, value: number): void {
    const fast = this.fast;
    const off = va & Fast.WordOffsetMask;
    const i = ((va >>> Fast.PairShift) & Fast.PairMask) + Fast.WriteSlots;
    if (--this.budgetChunk >= 0 && fast[i] === va - off) this.u32[fast[i + 1] + (off >>> 2)] = value;
    else this.miss(va, 4, true, value >>> 0, 0);
  }

  /**
   * Stores `value`, an integer in [0, 2^64), as 64 bits at `va`. Throws RangeError for another
   * value (before any access), otherwise like load8.
   */
  store64(va: number, value: number): void {
    if (!(value >= 0 && value < TWO_64) || value % 1 !== 0) {
      throw new RangeError(
        `store64 value ${String(value)} at ${formatLinear(va)} is not an integer in [0, 2^64)`,
      );
    }
    this.storeParts(va, value >>> 0, Math.floor(value / Fast.Two32) >>> 0);
  }

  /**
   * Stores `ptr`, a 48-bit linear address, as a canonical 64-bit pointer (bits 63:48 = bit 47).
   * Throws #GP(0) if `ptr` is not an integer in [0, 2^48), otherwise like load8.
   */
  storePtr(va: number, ptr: number): void {
    if (!isLinearAddress(ptr))
      throw new GeneralProtection(`non-canonical pointer ${formatLinear(ptr)} stored at ${formatLinear(va)}`);
    let hi = Math.floor(ptr / Fast.Two32);
    if (ptr >= KERNEL_HALF_START) hi = (hi | Num.SignExtensionHi) >>> 0;
    this.storeParts(va, ptr >>> 0, hi);
  }

  private storeParts(va: number, lo: number, hi: number): void {
    const fast = this.fast;
    const off = va & Fast.QwordOffsetMask;
    const i = ((va >>> Fast.PairShift) & Fast.PairMask) + Fast.WriteSlots;
    if (--this.budgetChunk >= 0 && fast[i] === va - off) {
      const w = (fast[i + 1] + (off >>> 2)) | 0;
      this.u32[w] = lo;
      this.u32[w + 1] = hi;
    } else this.miss(va, 8, true, lo, hi);
  }

  // ---- bulk ---------------------------------------------------------------------------------

  /**
   * `count` store32s of `words[0..count)` at `va`, `va + 4`, ... in one call, when they are
   * sure to succeed as hits: `va` 4-aligned, all in one page that the fast path holds for
   * writing, and budget for all of them. Then stores them, counts `count` accesses, and
   * returns true: the same effect as the `count` store32 calls. Otherwise stores nothing and
   * returns false (the caller makes the accesses one by one, in its own order). Never throws.
   * Each word is stored mod 2^32 (an Int32Array's negative words store their raw bits).
   */
  storeWordsIfCached(va: number, words: ArrayLike<number>, count: number): boolean {
    const off = va & Fast.PageMask;
    const i = ((va >>> Fast.PairShift) & Fast.PairMask) + Fast.WriteSlots;
    if ((off & 3) !== 0 || off + 4 * count > PAGE_SIZE || this.budgetChunk < count) return false;
    const fast = this.fast;
    if (fast[i] !== va - off) return false;
    this.budgetChunk -= count;
    const u32 = this.u32;
    // an int32 (a RAM word index is below 2^30): the loop's indices need no conversion
    const w = (fast[i + 1] + (off >>> 2)) | 0;
    for (let k = 0; k < count; k++) u32[w + k] = words[k];
    return true;
  }

  /**
   * Copies `length` bytes at linear `va` into `dst[dstOffset..]`, page by page (one access
   * per page piece). Throws RangeError for a bad host range (before any access), otherwise
   * like load8; a fault part-way leaves the earlier pieces copied, as a REP MOVS would.
   */
  readBytes(va: number, dst: Uint8Array, dstOffset = 0, length: number = dst.length - dstOffset): void {
    checkHostRange(dst, dstOffset, length);
    let done = 0;
    while (done < length) {
      const cur = va + done;
      if (--this.budgetChunk < 0 && !this.refillBudget()) this.overBudget(cur);
      this.book[Book.Slow]++;
      const pa = this.translateCore(cur, Acc.Read, false);
      const n = Math.min(length - done, PAGE_SIZE - (cur & Fast.PageMask));
      if (pa + n <= this.ramSize) copyFromRam(this.u8, pa, dst, dstOffset + done, n);
      else for (let k = 0; k < n; k++) dst[dstOffset + done + k] = this.readPhys(pa + k, 1);
      done += n;
    }
  }

  /**
   * Copies `length` bytes of `src[srcOffset..]` to linear `va`, page by page. Throws like
   * readBytes (write access).
   */
  writeBytes(va: number, src: Uint8Array, srcOffset = 0, length: number = src.length - srcOffset): void {
    checkHostRange(src, srcOffset, length);
    let done = 0;
    while (done < length) {
      const cur = va + done;
      if (--this.budgetChunk < 0 && !this.refillBudget()) this.overBudget(cur);
      this.book[Book.Slow]++;
      const pa = this.translateCore(cur, Acc.Write, false);
      const n = Math.min(length - done, PAGE_SIZE - (cur & Fast.PageMask));
      if (pa + n <= this.ramSize) copyToRam(src, srcOffset + done, this.u8, pa, n);
      else for (let k = 0; k < n; k++) this.writePhys(pa + k, 1, src[srcOffset + done + k]);
      done += n;
    }
  }

  /**
   * Copies `length` bytes from linear `srcVa` to linear `dstVa` with memmove semantics
   * (the source is read completely before the destination is written). Throws RangeError for
   * a bad length, otherwise like readBytes / writeBytes.
   */
  copy(dstVa: number, srcVa: number, length: number): void {
    if (!Number.isInteger(length) || length < 0)
      throw new RangeError(`copy length ${String(length)} is not a non-negative integer`);
    if (this.scratch.length < length)
      this.scratch = new Uint8Array(Math.max(length, this.scratch.length * 2));
    this.readBytes(srcVa, this.scratch, 0, length);
    this.writeBytes(dstVa, this.scratch, 0, length);
  }
}
