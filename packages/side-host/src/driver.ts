/**
 * A loaded driver: `DriverInstance`. It holds what the mode decides: the execution context its
 * code runs in, the binder that built its `k`, its ledger and its heap/pool. Native mode:
 * ring 0, the kernel's context, direct service calls, the kernel heap. The isolated mode (next
 * issue) re-binds the same instance: a domain context (CPL 3, the domain's CR3), a binder whose
 * service stubs cross into the checked-call layer, the domain's private pool, and upcalls.
 *
 * Entry points live in the module's text: entry point i has code address
 * textBase + ENTRY_POINT_STRIDE * i. The kernel calls a driver only through such addresses,
 * read from memory (ops tables, napi->poll, timer->function), with `call`.
 */
import type { CodeAddress, DriverModule, EntryPoint, KernelApi } from "@side-kernel/kservice";
import { Ledger } from "@side-kernel/kservice";
import { hexAddr, KernelBug, KernelPanic, Livelock } from "./errors.js";
import type { Heap } from "./heap.js";
import type { IsolationOptions } from "./isolated-binding.js";
import { ENTRY_POINT_STRIDE, MODULE_SLOT_SIZE } from "./layout.js";

/**
 * How a driver runs: "native" (ring 0, direct calls) or "isolated" (SIDE base: ring 3 in its
 * own driver domain, checked crossings; see isolated-binding.ts).
 */
export type DriverMode = "native" | "isolated";

/** Options of `Kernel.loadDriver`: the mode, and for "isolated" the domain's options. */
export interface LoadOptions extends IsolationOptions {
  readonly mode: DriverMode;
}

/** A CPU view: privilege and address space in which code runs. */
export interface ExecutionContext {
  readonly name: string;
  /** Privilege level (0 = kernel, 3 = a driver domain). */
  readonly cpl: number;
  /** CR3 value (PML4 physical address | PCID). */
  readonly cr3: number;
}

/** What a driver's calls cost and did, for reports. */
export interface DriverCounters {
  /** Kernel services called by the driver. */
  serviceCalls: number;
  /** Entry points called by the kernel (callbacks, including init/exit). */
  callbacks: number;
}

/**
 * The hooks an instance needs from its kernel while calling into the driver: charging the
 * boundary and keeping track of which driver is running.
 */
export interface CallHost {
  /** Called before driver code runs: charge kernel work so far, switch context if needed. */
  enterDriver(instance: DriverInstance): DriverInstance | null;
  /** Called after driver code returns or throws: charge the driver's accesses, restore. */
  leaveDriver(instance: DriverInstance, previous: DriverInstance | null): void;
}

/** A loaded module instance. */
export class DriverInstance {
  /** The resources the driver holds (kept in native mode too). */
  readonly ledger = new Ledger();
  /** Counters for reports. */
  readonly counters: DriverCounters = { serviceCalls: 0, callbacks: 0 };
  /** The driver's `k`; set by the binder at load. */
  k!: KernelApi;
  /** "live" after init succeeded, "unloaded" after exit, "faulted" once an isolated driver faulted (stopped). */
  state: "loading" | "live" | "unloaded" | "faulted" = "loading";
  private readonly names: string[];
  private readonly fns: EntryPoint[];
  private readonly index = new Map<string, number>();

  /**
   * `textBase` is the module-text slot's first code address. Throws TypeError when the module
   * has no entry points, or when init/exit are not among them, or when there are more entry
   * points than fit in a module-text slot.
   */
  constructor(
    /** Instance id: the owner id of its heap blocks (0 is the kernel). */
    readonly id: number,
    readonly module: DriverModule,
    readonly mode: DriverMode,
    readonly context: ExecutionContext,
    /** Where the driver's memory comes from (native: the kernel heap). */
    readonly heap: Heap,
    readonly textBase: number,
    private readonly host: CallHost,
  ) {
    this.names = Object.keys(module.entryPoints);
    this.fns = this.names.map((n) => module.entryPoints[n]);
    if (this.names.length === 0) throw new TypeError(`module ${module.name}: no entry points`);
    if (this.names.length * ENTRY_POINT_STRIDE > MODULE_SLOT_SIZE) {
      throw new TypeError(
        `module ${module.name}: ${this.names.length} entry points do not fit a module slot`,
      );
    }
    this.names.forEach((n, i) => {
      if (typeof this.fns[i] !== "function")
        throw new TypeError(`module ${module.name}: entry point ${n} is not a function`);
      this.index.set(n, i);
    });
    for (const n of [module.init, module.exit]) {
      if (!this.index.has(n)) throw new TypeError(`module ${module.name}: "${n}" is not an entry point`);
    }
  }

  /** Releases what the mode holds beyond the ledger (an isolated domain) after a clean unload. Native: nothing. */
  dispose(): void {}

  /** The module's name. */
  get name(): string {
    return this.module.name;
  }

  /** Code address of entry point `name`. Throws KernelBug for a name the module does not have. */
  fn(name: string): CodeAddress {
    const i = this.index.get(name);
    if (i === undefined)
      throw new KernelBug("fn", 0, `module ${this.module.name} has no entry point "${name}"`);
    return this.textBase + ENTRY_POINT_STRIDE * i;
  }

  /** The entry point's name at `code`, or undefined if `code` is not an entry point of this module. */
  entryName(code: number): string | undefined {
    const off = code - this.textBase;
    if (off < 0 || off % ENTRY_POINT_STRIDE !== 0) return undefined;
    return this.names[off / ENTRY_POINT_STRIDE];
  }

  /** True if `code` is an entry point of this module. */
  isEntryPoint(code: number): boolean {
    return this.entryName(code) !== undefined;
  }

  /**
   * Call the entry point at `code` with `a`, `b` (the kernel read `code` from a function
   * pointer). Returns its result (undefined counts as 0). In native mode a code address that is
   * not an entry point is a jump to garbage at ring 0: KernelPanic. An exception escaping driver
   * code at ring 0 (a #PF, a #GP, a JS error) is an oops: KernelPanic with the cause. KernelBug,
   * KernelPanic and Livelock pass through unchanged.
   */
  call(code: number, a = 0, b = 0): number {
    const off = code - this.textBase;
    const i = off / ENTRY_POINT_STRIDE;
    const fn = off >= 0 && off % ENTRY_POINT_STRIDE === 0 ? this.fns[i] : undefined;
    if (fn === undefined) {
      throw new KernelPanic(
        `BUG: kernel jumped to ${hexAddr(code)}, not an entry point of module ${this.module.name} (text at ${hexAddr(this.textBase)})`,
      );
    }
    this.counters.callbacks++;
    const previous = this.host.enterDriver(this);
    try {
      const r = fn(this.k, a, b);
      return typeof r === "number" ? r : 0;
    } catch (e) {
      if (e instanceof KernelBug || e instanceof KernelPanic || e instanceof Livelock) throw e;
      const what = e instanceof Error ? e.message : String(e);
      throw new KernelPanic(`Oops in ${this.module.name}:${this.names[i]} at ring 0: ${what}`, { cause: e });
    } finally {
      this.host.leaveDriver(this, previous);
    }
  }
}
