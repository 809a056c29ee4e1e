/**
 * SIDE's isolated mode, base variant (DESIGN.md, "The isolated driver domain"): the driver's
 * `k`, its upcalls and its crossings.
 *
 * - Accessors go to the MMU as it stands: while driver code runs the CPU is at CPL 3 in the
 *   domain's CR3, so a touch of kernel memory is a #PF with U/S set, and the privileged
 *   instructions in `k.arch` are #GP. Port I/O is checked against the domain's TSS I/O bitmap.
 * - Upcall (kernel -> driver): the ring-0 stub switches CR3 to the domain (flushing the TLB),
 *   loads the domain's TSS (RSP0 = where the kernel stands), and IRETs to ring 3 at the entry
 *   point's address in the domain's text (fetch-checked: user-executable). The driver returns
 *   through the DPL-3 gate SIDE_GATE_VECTOR; the stub switches CR3 back. Every function
 *   pointer the kernel holds (probe, ndo ops, IRQ handler, NAPI poll, timers, work) goes
 *   through it, whatever process was running.
 * - Crossing (driver -> kernel service): INT SIDE_GATE_VECTOR (ring 3 -> 0), the checked-call
 *   layer in the domain's CR3 (kservice `checkCall` against the spec table; shared skb fields
 *   read once, with RFLAGS.AC open only around those reads, and checked), a CR3 switch to the
 *   kernel's address space (flush), the service, the ledger effect, a CR3 switch back (flush)
 *   and IRET. Costs come from the cost model: intNEntry + iret + 2 x cr3WriteFlush, argCheck
 *   per argument, the spec's cost, and the TLB refills as page walks.
 * - Resource virtualization layer: services whose spec says `rvl: "local"` are answered at
 *   ring 3 inside the domain without a crossing (spinlocks against a virtual interrupt flag,
 *   skb helpers on the shared struct, pci_dev helpers on the shadow, netdev_priv, jiffies,
 *   delays). `batch` and `pretranslate` cross like any other call in this base mode.
 * - Faults: #PF, #GP, #UD at CPL 3, an unknown service, an illegal argument, a JS exception
 *   escaping driver code (as #UD), or the per-upcall access budget exceeded (lockup) stop the
 *   driver: no more upcalls (its IRQ lines masked, NAPI disabled, timers and work cancelled,
 *   queues stopped); the report is `instance.fault` and goes to the fault listeners.
 */
import {
  type CallCheck,
  type CallerDomain,
  checkCompiledCall,
  compileCallCheck,
  DMA_MAPPING_ERROR,
  DriverFault,
  type DriverFaultKind,
  type DriverModule,
  EIO,
  ENOMEM,
  ETH_ALEN,
  ETH_HLEN,
  ETH_ZLEN,
  type FaultSite,
  type HandleKind,
  IORESOURCE_IO,
  type KernelApi,
  NETDEV_STATE_CARRIER_OK,
  NETDEV_STATE_QUEUE_STOPPED,
  NetDevice,
  PACKET_BROADCAST,
  PACKET_HOST,
  PACKET_MULTICAST,
  PACKET_OTHERHOST,
  PCI_NUM_RESOURCES,
  PciDev,
  Resource,
  SERVICES,
  type ServiceName,
  type ServiceSpec,
  SkBuff,
  unknownService,
} from "@side-kernel/kservice";
import {
  Access,
  AccessBudgetExceeded,
  CpuException,
  GeneralProtection,
  PAGE_SIZE,
  PageFault,
  RFLAGS_AC,
  RFLAGS_IF,
} from "@side-kernel/paging";
import { type ChargeCategory, InvalidOpcode, type Tss, USER_CS, USER_DS } from "@side-kernel/privilege";
import { BINDING, type BoundApi, bindKernelApi, kernelApiPrototype } from "./accessors.js";
import { EffectPlan, SERVICE_IMPLS } from "./binding.js";
import { type DomainOptions, DriverDomain } from "./domain.js";
import { DriverInstance } from "./driver.js";
import { hexAddr, KernelBug, KernelPanic, Livelock } from "./errors.js";
import { failureValue } from "./failpoints.js";
import type { Kernel } from "./kernel.js";
import { ENTRY_POINT_STRIDE, pml4Slot } from "./layout.js";
import { IRQ_LINES } from "./limits.js";

/**
 * IDT vector of the domain gate (DPL 3): a driver enters the kernel through it for a service
 * call and to return from an upcall. Linux's int 0x80 sits at 0x80; we take the next vector,
 * which Linux leaves to device interrupts (and our IRQ lines use 0x30..0x47).
 */
export const SIDE_GATE_VECTOR = 0x81;
/** Kernel-text address of the gate's handler (entry stubs live in kernel text). */
const SIDE_GATE_HANDLER = 0xffff_8100_2000;
/**
 * Default access budget of one upcall (memory and MMIO accesses of the driver itself; its
 * service calls do not count). The e1000's heaviest legitimate invocation, probe, makes about
 * 2 x 10^4; a million means a lockup, not a slow driver.
 */
export const DEFAULT_UPCALL_ACCESS_BUDGET = 1_000_000;
/** Bytes of an IRET frame without error code: RIP, CS, RFLAGS, RSP, SS (hardware.md 3.3). */
const FRAME_BYTES = 5 * 8;
/** Driver stack kept between nested upcalls (a call frame's worth; the JS stack is the real one). */
const NESTED_STACK_GAP = 256;
const TWO_32 = 2 ** 32;
/** Bit 47 of a linear address, in the high dword. */
const HIGH_BIT47 = 0x8000;
/** Bits 63:48 of a sign-extended upper-half pointer, in the high dword. */
const SIGN_EXTENSION_HI = 0xffff_0000;
/** An infinite access budget (the kernel's own work is not the driver's budget). */
const NO_BUDGET = Number.POSITIVE_INFINITY;
/** memset chunk of the RVL's eth_skb_pad. */
const ZEROS = new Uint8Array(ETH_ZLEN);

/** Options of isolated mode (`Kernel.loadDriver(module, { mode: "isolated", ... })`). */
export interface IsolationOptions {
  /** One page table for all: the driver region user-accessible in every address space (default false). */
  readonly sharedPageTable?: boolean;
  /** Memory/MMIO accesses the driver may make in one upcall before it counts as locked up. */
  readonly accessBudget?: number;
  /** Called once when the driver faults (after it is stopped). */
  readonly onFault?: FaultListener;
  /** SIDE optimization 1, streamlined crossing (PCID, no flush). Not in this release: true throws. */
  readonly streamlined?: boolean;
  /** SIDE optimization 2, batched submit. Not in this release: true throws. */
  readonly batch?: boolean;
  /** SIDE optimization 3, DMA address pre-translation. Not in this release: true throws. */
  readonly pretranslate?: boolean;
}

/** What the kernel reports when an isolated driver faults. */
export interface DriverFaultReport {
  readonly kind: DriverFaultKind;
  readonly message: string;
  /** Entry point running when it faulted (the innermost upcall). */
  readonly entryPoint: string | undefined;
  /** Kernel service being called (crossing or RVL), if any. */
  readonly service: string | undefined;
  /** Faulting linear address (#PF, lockup), if any. */
  readonly address: number | undefined;
  /** CPU error code (#PF, #GP), if any. */
  readonly errorCode: number | undefined;
  /** Simulated time of the fault. */
  readonly atNs: number;
  /** The DriverFault (with `cause`: the CPU exception or JS error behind it). */
  readonly fault: DriverFault;
}

/** A fault listener (the later recovery package hooks in here). */
export type FaultListener = (report: DriverFaultReport, instance: IsolatedDriverInstance) => void;

/** Crossings and checks of one isolated driver. */
export interface IsolationCounters {
  /** Upcalls (kernel -> driver at ring 3), each a round trip through the gate. */
  upcalls: number;
  /** Service calls that crossed into the kernel, each a round trip. */
  serviceCrossings: number;
  /** Service calls the RVL answered in the domain. */
  localCalls: number;
  /** Arguments checked by the checked-call layer. */
  argChecks: number;
}

/** Internal: unwinds driver code after its driver was stopped by a nested fault. */
class DriverStopped extends Error {
  override readonly name = "DriverStopped";
}
const DRIVER_STOPPED = new DriverStopped("the driver was stopped by a fault");

/** Mutable fault site: what runs now. */
interface Site {
  entryPoint: string | undefined;
  service: string | undefined;
}

/**
 * A driver instance in isolated mode: a DriverInstance whose `call` is an upcall into its
 * domain, whose `k` crosses, and which stops on a fault instead of taking the kernel down.
 */
export class IsolatedDriverInstance extends DriverInstance {
  /** The fault that stopped the driver, or null while it is healthy. */
  fault: DriverFaultReport | null = null;
  /** Crossing and check counters. */
  readonly isolation: IsolationCounters = { upcalls: 0, serviceCrossings: 0, localCalls: 0, argChecks: 0 };
  /** Access budget per upcall. */
  readonly accessBudget: number;
  /** RVL: the virtual interrupt flag (spin_lock_irqsave clears it) and the locks held. */
  virtualIf = true;
  locksHeld = 0;
  /** The checks' view of the domain (kservice CallerDomain). */
  readonly caller: CallerDomain;
  readonly site: Site = { entryPoint: undefined, service: undefined };
  private readonly listeners: FaultListener[] = [];
  private readonly entryFns: ((k: KernelApi, a: number, b: number) => unknown)[];
  private readonly entryNames: string[];
  /** The kernel's pci_devs (a handful: scanned, not hashed, on every upcall). */
  private readonly pdevs: Float64Array;
  /** CR3 the kernel runs in while it serves this upcall's calls (the interrupted context's). */
  private kernelCr3 = 0;
  private kernelTss: Tss;
  /** The clock categories the crossings charge, resolved once. */
  private readonly categories: { driver: ChargeCategory; check: ChargeCategory; kernel: ChargeCategory };
  private userRsp: number;

  /** Builds the instance on `domain`; see createIsolatedInstance. */
  constructor(
    readonly kn: Kernel,
    id: number,
    module: DriverModule,
    readonly domain: DriverDomain,
    options: IsolationOptions,
  ) {
    super(
      id,
      module,
      "isolated",
      { name: `domain ${domain.slot}`, cpl: 3, cr3: domain.cr3 },
      domain.heap,
      domain.textBase,
      kn,
    );
    const budget = options.accessBudget ?? DEFAULT_UPCALL_ACCESS_BUDGET;
    if (typeof budget !== "number" || !(budget > 0)) {
      throw new RangeError(`loadDriver: accessBudget ${String(budget)} is not a positive number`);
    }
    this.accessBudget = budget;
    if (options.onFault !== undefined) this.listeners.push(options.onFault);
    this.entryNames = Object.keys(module.entryPoints);
    this.entryFns = this.entryNames.map(
      (n) => module.entryPoints[n] as (k: KernelApi, a: number, b: number) => unknown,
    );
    this.pdevs = Float64Array.from(new Set(kn.pci.list().map((d) => d.ptr)));
    this.kernelTss = kn.machine.cpu.tss;
    this.userRsp = domain.stackTop;
    const clock = kn.machine.clock;
    this.categories = {
      driver: clock.category("driver"),
      check: clock.category("check"),
      kernel: clock.category("kernel"),
    };
    this.caller = {
      ownsRange: (addr, len) => domain.contains(addr, len),
      isEntryPoint: (addr) => this.isEntryPoint(addr),
      ownsIrq: (irq) => kn.pci.ownsIrq(this, irq),
      ownsHandle: (kind: HandleKind, value: number) => this.ownsHandle(kind, value),
    };
  }

  /** True once a fault stopped the driver. */
  get stopped(): boolean {
    return this.state === "faulted";
  }

  private ownsHandle(kind: HandleKind, value: number): boolean {
    if (kind === "pci-dev") {
      const pdev = this.domain.pdevOfShadow(value);
      if (pdev === 0) return false;
      return this.kn.pci.device(pdev, "checked call").driver?.owner === this;
    }
    return this.ledger.has(kind, value);
  }

  /** Add a fault listener; returns a function that removes it. */
  onFault(listener: FaultListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Frees the domain after a clean unload (called by the kernel). Throws KernelBug if memory is still held. */
  override dispose(): void {
    this.domain.destroy();
  }

  /**
   * Upcall the entry point at `code` with (a, b) at ring 3 in the domain. `a` naming a kernel
   * pci_dev is passed as the domain's shadow of it. Returns the entry point's result (undefined
   * counts as 0), or -EIO when the driver is stopped or faults now (the fault is then reported
   * and the driver stopped; the kernel goes on). KernelPanic, KernelBug and Livelock raised by
   * kernel code nested in the upcall pass through, with the CPU state restored.
   */
  override call(code: number, a = 0, b = 0): number {
    if (this.stopped) return -EIO;
    const kn = this.kn;
    const machine = kn.machine;
    const cpu = machine.cpu;
    const mmu = machine.mmu;
    const dom = this.domain;
    const off = code - this.textBase;
    const index = off >= 0 && off % ENTRY_POINT_STRIDE === 0 ? off / ENTRY_POINT_STRIDE : -1;
    const fn = index >= 0 ? this.entryFns[index] : undefined;
    const pdevs = this.pdevs;
    for (let i = 0; i < pdevs.length; i++) {
      if (pdevs[i] === a) {
        a = dom.shadowFor(a);
        break;
      }
    }
    this.counters.callbacks++;
    this.isolation.upcalls++;
    const savedRsp = cpu.rsp;
    const savedFlags = cpu.rflags;
    const savedCr3 = mmu.cr3;
    const savedTss = cpu.tss;
    const savedBudget = mmu.accessBudget;
    const savedKernelCr3 = this.kernelCr3;
    const savedKernelTss = this.kernelTss;
    const savedEntry = this.site.entryPoint;
    const savedService = this.site.service;
    const savedUserRsp = this.userRsp;
    const savedRsp0 = dom.tss.rsp0;
    const previous = kn.enterDriver(this);
    this.kernelCr3 = savedCr3;
    this.kernelTss = savedTss;
    this.site.entryPoint = fn !== undefined ? this.entryNames[index] : hexAddr(code);
    this.site.service = undefined;
    let r = -EIO;
    try {
      // ring-0 stub: the domain's address space and TSS, then IRET to ring 3 at the entry
      if (savedCr3 !== dom.cr3) cpu.switchAddressSpace(dom.cr3);
      dom.tss.rsp0 = savedRsp;
      cpu.ltr(dom.tss);
      writeFrame(mmu, savedRsp - FRAME_BYTES, code, this.userRsp, savedFlags & ~RFLAGS_AC);
      cpu.rsp = savedRsp - FRAME_BYTES;
      cpu.iret();
      mmu.accessBudget = this.accessBudget;
      // the instruction fetch at the entry address: user-executable text, or a fault
      mmu.translate(code, Access.Fetch);
      if (fn === undefined) {
        throw new InvalidOpcode(
          `upcall to ${hexAddr(code)}: not an entry point of module ${this.name} (text at ${hexAddr(this.textBase)})`,
        );
      }
      this.userRsp -= NESTED_STACK_GAP;
      const v = fn(this.k, a, b);
      r = typeof v === "number" ? v : 0;
      // return through the gate, back to the interrupted context
      machine.chargeAccessesTo(this.categories.driver);
      mmu.accessBudget = NO_BUDGET;
      cpu.intN(SIDE_GATE_VECTOR);
      cpu.ltr(savedTss);
      if (savedCr3 !== dom.cr3) cpu.switchAddressSpace(savedCr3);
      cpu.rsp = savedRsp;
      cpu.rflags = savedFlags;
    } catch (e) {
      // back to ring 0 in the interrupted context, whatever state the fault left
      mmu.accessBudget = NO_BUDGET;
      cpu.cpl = 0;
      cpu.rflags = savedFlags;
      cpu.rsp = savedRsp;
      cpu.ltr(savedTss);
      if (mmu.cr3 !== savedCr3) cpu.switchAddressSpace(savedCr3);
      if (e instanceof KernelPanic || e instanceof KernelBug || e instanceof Livelock) throw e;
      if (!(e instanceof DriverStopped)) this.stop(this.toFault(e));
      r = -EIO;
    } finally {
      this.kernelCr3 = savedKernelCr3;
      this.kernelTss = savedKernelTss;
      this.site.entryPoint = savedEntry;
      this.site.service = savedService;
      this.userRsp = savedUserRsp;
      dom.tss.rsp0 = savedRsp0;
      // (an infinite budget set again over an infinite one changes nothing: skip the reset)
      if (savedBudget !== NO_BUDGET || mmu.accessBudget !== NO_BUDGET) mmu.accessBudget = savedBudget;
      kn.leaveDriver(this, previous);
    }
    return r;
  }

  /**
   * A service call from driver code at ring 3: the crossing into the checked-call layer and the
   * kernel, and back. Returns the service's result. Throws DriverFault for an illegal argument
   * (or a KernelBug the service raised on the driver's behalf); unwinds with an internal error
   * when a nested upcall stopped the driver.
   */
  cross(stub: CrossStub, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown): number {
    if (this.stopped) throw DRIVER_STOPPED;
    const name = stub.name;
    const spec = stub.spec;
    const kn = this.kn;
    const machine = kn.machine;
    const cpu = machine.cpu;
    const mmu = machine.mmu;
    const clock = machine.clock;
    const dom = this.domain;
    const cats = this.categories;
    machine.chargeAccessesTo(cats.driver);
    this.counters.serviceCalls++;
    this.isolation.serviceCrossings++;
    const budgetLeft = mmu.accessBudget;
    mmu.accessBudget = NO_BUDGET;
    cpu.rsp = this.userRsp;
    this.site.service = name;
    cpu.intN(SIDE_GATE_VECTOR);
    // checked-call layer: ring 0, still in the domain's address space
    const argv = stub.argv;
    const n = argv.length;
    if (n > 0) argv[0] = a;
    if (n > 1) argv[1] = b;
    if (n > 2) argv[2] = c;
    if (n > 3) argv[3] = d;
    if (n > 4) argv[4] = e;
    checkCompiledCall(stub.check, argv, this.caller, this.site);
    this.isolation.argChecks += n;
    clock.chargeTo(cats.check, cpu.costs.argCheck * n);
    // The arguments as the driver passed them, for the ledger: `argv` is shared by every
    // instance's calls of this service, and a nested call may reuse it during `impl`.
    const argA = a;
    const argB = b;
    const pdevMask = stub.pdevMask;
    const skbMask = stub.skbMask;
    if (pdevMask !== 0) {
      if ((pdevMask & 1) !== 0) a = dom.pdevOfShadow(a as number);
      if ((pdevMask & 2) !== 0) b = dom.pdevOfShadow(b as number);
    }
    if (skbMask !== 0) {
      if ((skbMask & 1) !== 0) this.readSkb(a as number, name);
      if ((skbMask & 2) !== 0) this.readSkb(b as number, name);
    }
    machine.chargeAccessesTo(cats.check);
    // into the kernel's address space
    const kcr3 = this.kernelCr3;
    if (kcr3 !== dom.cr3) cpu.switchAddressSpace(kcr3);
    cpu.ltr(this.kernelTss);
    clock.chargeTo(cats.kernel, spec.cost);
    let rv: number;
    const fp = kn.failpoints;
    if (fp.armed !== 0 && fp.shouldFail(name, this.name)) {
      rv = failureValue(name, spec);
    } else {
      const r = this.runService(stub, a, b, c, d, e);
      if (this.stopped) throw DRIVER_STOPPED;
      rv = typeof r === "number" ? r : 0;
      stub.effect.apply(this.ledger, rv, argA, argB, c, d, e);
    }
    machine.chargeAccessesTo(cats.kernel);
    // back: the domain's address space and TSS, IRET to ring 3
    cpu.ltr(dom.tss);
    if (kcr3 !== dom.cr3) cpu.switchAddressSpace(dom.cr3);
    cpu.iret();
    this.site.service = undefined;
    mmu.accessBudget = budgetLeft;
    return rv;
  }

  /**
   * The kernel's implementation of `stub`'s service, called with the driver's arguments; a
   * throw becomes what `serviceError` makes of it. Kept out of `cross`: with a try block in it,
   * JSC's compiled `cross` called `Cpu.iret` through a slow path into the runtime, about 3% of
   * isolated host time under Bun.
   */
  private runService(stub: CrossStub, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown): unknown {
    try {
      return stub.impl(this.kn, this, a, b, c, d, e);
    } catch (err) {
      throw this.serviceError(err, stub.name);
    }
  }

  /** A call of a service `k` does not have: through the gate, then rejected by the checked-call layer. */
  unknownService(name: string): never {
    if (this.stopped) throw DRIVER_STOPPED;
    this.kn.machine.clock.chargeAccesses(this.kn.machine.mmu, "driver");
    this.kn.machine.mmu.accessBudget = NO_BUDGET;
    this.kn.machine.cpu.rsp = this.userRsp;
    this.kn.machine.cpu.intN(SIDE_GATE_VECTOR);
    throw unknownService(name, this.site);
  }

  /** Runs an RVL-local service: counted, charged as driver work, site kept for faults. */
  local(effect: EffectPlan, impl: LocalImpl, a: number, b: number, c: number): number {
    if (this.stopped) throw DRIVER_STOPPED;
    const name = effect.name;
    const spec = effect.spec;
    this.isolation.localCalls++;
    this.counters.serviceCalls++;
    const saved = this.site.service;
    this.site.service = name;
    this.kn.machine.clock.chargeTo(this.categories.driver, spec.cost);
    const fp = this.kn.failpoints;
    if (fp.armed !== 0 && fp.shouldFail(name, this.name)) {
      this.site.service = saved;
      return failureValue(name, spec);
    }
    const r = impl(this, a, b, c);
    effect.apply(this.ledger, r, a, b, c, 0, 0);
    this.site.service = saved;
    return r;
  }

  /**
   * The kernel reads a shared skb's fields once (RFLAGS.AC open around the reads: the region is
   * user memory in the domain's address space), checks them against its own record (data
   * within the buffer, tail = data + len, dev one of the domain's netdevs) and adopts them.
   * Throws DriverFault (illegal-argument) when they do not hold.
   */
  private readSkb(skb: number, service: string): void {
    const kn = this.kn;
    const cpu = kn.machine.cpu;
    const mmu = kn.machine.mmu;
    const rec = kn.skb.get(skb, service);
    const flags = cpu.rflags;
    cpu.rflags = flags | RFLAGS_AC; // stac
    let data: number;
    let len: number;
    let tail: number;
    let proto: number;
    let dev: number;
    try {
      data = mmu.loadPtr(skb + SkBuff.data);
      len = mmu.load32(skb + SkBuff.len);
      tail = mmu.load32(skb + SkBuff.tail);
      proto = mmu.load16(skb + SkBuff.protocol);
      dev = mmu.loadPtr(skb + SkBuff.dev);
    } finally {
      cpu.rflags = flags; // clac
    }
    const dataOff = data - rec.head;
    let why: string | undefined;
    if (dataOff < 0 || dataOff > rec.end) why = `data ${hexAddr(data)} is outside its ${rec.end}-byte buffer`;
    else if (dataOff + len > rec.end)
      why = `len ${len} at data offset ${dataOff} runs past its ${rec.end}-byte buffer`;
    else if (tail !== dataOff + len) why = `tail ${tail} is not data offset ${dataOff} + len ${len}`;
    else if (dev !== rec.dev && dev !== 0 && !this.ledger.has("netdev", dev))
      why = `dev ${hexAddr(dev)} is not its net_device`;
    if (why !== undefined) {
      throw new DriverFault(
        "illegal-argument",
        `${service}: skb ${hexAddr(skb)}: ${why}`,
        { ...this.site },
        { value: skb },
      );
    }
    rec.dataOff = dataOff;
    rec.len = len;
    rec.tail = tail;
    if (dev !== 0) rec.dev = dev;
    // eth_type_trans (RVL) pulled the Ethernet header: the MAC header sits right before data
    if (proto !== 0 && rec.macOff < 0 && dataOff >= ETH_HLEN) rec.macOff = dataOff - ETH_HLEN;
  }

  private serviceError(err: unknown, service: string): unknown {
    if (err instanceof DriverFault || err instanceof DriverStopped) return err;
    if (err instanceof KernelBug) {
      return new DriverFault(
        "illegal-argument",
        err.message,
        { ...this.site, service },
        { value: err.value },
        { cause: err },
      );
    }
    if (err instanceof PageFault && pml4Slot(err.address) === pml4Slot(this.domain.start)) {
      return new DriverFault(
        "illegal-argument",
        `${service}: the kernel faulted on driver memory the call named: ${err.message}`,
        { ...this.site, service },
        { address: err.address, errorCode: err.errorCode },
        { cause: err },
      );
    }
    return err;
  }

  private toFault(e: unknown): DriverFault {
    const site: FaultSite = { entryPoint: this.site.entryPoint, service: this.site.service };
    const mmu = this.kn.machine.mmu;
    const costs = this.kn.machine.cpu.costs;
    if (e instanceof DriverFault) return e;
    if (e instanceof CpuException || e instanceof AccessBudgetExceeded) {
      // the CPU's exception entry at ring 3 (the frame and handler are the kernel's stub)
      this.kn.machine.clock.charge("exception", costs.exceptionEntry);
    }
    if (e instanceof PageFault) {
      return new DriverFault(
        "page-fault",
        e.message,
        site,
        { address: e.address, errorCode: e.errorCode },
        { cause: e },
      );
    }
    if (e instanceof GeneralProtection) {
      return new DriverFault("general-protection", e.message, site, { errorCode: e.errorCode }, { cause: e });
    }
    if (e instanceof AccessBudgetExceeded) {
      return new DriverFault(
        "lockup",
        `lockup: more than ${this.accessBudget} accesses in one invocation (${e.message})`,
        site,
        { address: e.address },
        { cause: e },
      );
    }
    if (e instanceof InvalidOpcode || e instanceof CpuException) {
      return new DriverFault("invalid-opcode", e.message, site, {}, { cause: e });
    }
    void mmu;
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return new DriverFault(
      "invalid-opcode",
      `JS exception escaping driver code (treated as #UD): ${what}`,
      site,
      {},
      { cause: e },
    );
  }

  /**
   * Stop the driver after `fault`: state "faulted", the report kept, its IRQ lines masked, its
   * NAPI contexts disabled, its timers and work cancelled, its queues stopped, logged, and the
   * listeners told. Its ledger is left as is for the recovery that a later release adds.
   */
  private stop(fault: DriverFault): void {
    const kn = this.kn;
    this.state = "faulted";
    const report: DriverFaultReport = {
      kind: fault.kind,
      message: fault.message,
      entryPoint: fault.site.entryPoint ?? this.site.entryPoint,
      service: fault.site.service,
      address: fault.detail.address,
      errorCode: fault.detail.errorCode,
      atNs: kn.nowNs,
      fault,
    };
    this.fault = report;
    kn.log.write(
      "err",
      this.name,
      `driver fault (${fault.kind}) in ${report.entryPoint ?? "?"}${report.service ? ` calling ${report.service}` : ""}: ${fault.message}; driver stopped`,
    );
    for (let line = 0; line < IRQ_LINES; line++) {
      const actions = kn.irq.actions(line);
      if (actions.length > 0 && actions.every((x) => x.owner === this)) kn.machine.irqs.setMasked(line, true);
    }
    for (const dev of kn.net.devicesOf(this)) {
      kn.net.stopQueue(dev.ptr);
      for (const napi of kn.softirq.napisOf(dev.ptr)) kn.softirq.disable(napi.ptr);
    }
    for (const t of this.ledger.entries("timer")) kn.timers.del(t.key);
    for (const w of this.ledger.entries("work")) kn.work.cancel(w.key);
    for (const l of [...this.listeners]) {
      try {
        l(report, this);
      } catch (err) {
        kn.log.write("err", "kernel", `fault listener of ${this.name} threw: ${String(err)}`);
      }
    }
  }
}

/** The dwords of the frame writeFrame is writing (low, high per slot). */
const FRAME_DWORDS = new Int32Array(FRAME_BYTES / 4);

/**
 * Writes an IRET frame (RIP, CS, RFLAGS, RSP, SS) for ring 3 at `at`: each slot's low then high
 * dword, upward. The dwords are worked out first and stored by one
 * loop (one store32 call site, inlined: no boxed addresses). No other frame write can start while
 * these RAM stores run.
 */
function writeFrame(mmu: Kernel["mmu"], at: number, rip: number, rsp: number, rflags: number): void {
  const d = FRAME_DWORDS;
  // A typed-array store keeps the value mod 2^32: the low dword, without a double `%`.
  d[0] = rip;
  d[1] = slotHigh(rip);
  d[2] = USER_CS;
  d[3] = 0;
  d[4] = rflags;
  d[5] = slotHigh(rflags);
  d[6] = rsp;
  d[7] = slotHigh(rsp);
  d[8] = USER_DS;
  d[9] = 0;
  if (!mmu.storeWordsIfCached(at, d, d.length))
    for (let j = 0; j < d.length; j++) mmu.store32(at + 4 * j, d[j] >>> 0);
}

/** The high dword of slot value `v` (a non-negative number), sign-extended from bit 47. */
function slotHigh(v: number): number {
  const hi = Math.floor(v / TWO_32);
  return (hi & HIGH_BIT47) !== 0 ? (hi | SIGN_EXTENSION_HI) >>> 0 : hi;
}

// ------------------------------------------------------------------------------------ services

/** A service implementation (binding.ts's table shape). */
// biome-ignore lint/suspicious/noExplicitAny: arguments are numbers or (for "str" arguments) strings, per the spec table
type ServiceImpl = (kn: Kernel, inst: any, ...args: any[]) => unknown;

function dom(inst: DriverInstance): DriverDomain {
  return (inst as IsolatedDriverInstance).domain;
}

/** Kernel-side services that differ in isolated mode: mappings go into the domain's region. */
const ISOLATED_IMPLS: Partial<Record<ServiceName, ServiceImpl>> = {
  vzalloc: (_kn, inst, size: number) => dom(inst).vzalloc(size),
  vfree: (_kn, inst, va: number) => {
    if (va !== 0) dom(inst).vfree(va);
  },
  pci_ioremap_bar: (kn, inst, pdev: number, bar: number) => {
    const dev = kn.pci.device(pdev, "pci_ioremap_bar");
    if (dev.lens[bar] === 0 || (dev.flags[bar] & IORESOURCE_IO) !== 0) {
      kn.log.write("warn", dev.name, `pci_ioremap_bar: BAR ${bar} is not a memory BAR`);
      return 0;
    }
    return dom(inst).mapMmio(pdev, dev.starts[bar], Math.ceil(dev.lens[bar] / PAGE_SIZE));
  },
  iounmap: (_kn, inst, addr: number) => dom(inst).unmapMmio(addr),
  pci_request_selected_regions: (kn, inst, pdev: number, bars: number) => {
    const rc = kn.pci.requestRegions(inst, pdev, bars);
    if (rc === 0) forIoBars(kn, pdev, bars, (start, len) => dom(inst).grantPorts(start, len));
    return rc;
  },
  pci_release_selected_regions: (kn, inst, pdev: number, bars: number) => {
    kn.pci.releaseRegions(inst, pdev, bars);
    forIoBars(kn, pdev, bars, (start, len) => dom(inst).revokePorts(start, len));
  },
  pci_enable_device: (kn, inst, pdev: number) => {
    const rc = kn.pci.enable(pdev);
    dom(inst).refreshShadow(pdev);
    return rc;
  },
  dma_set_mask_and_coherent: (kn, inst, pdev: number, mask: number) => {
    const rc = kn.dmaSetMask(pdev, mask);
    dom(inst).refreshShadow(pdev);
    return rc;
  },
  msleep: (kn, inst: IsolatedDriverInstance, ms: number) => {
    if (inst.locksHeld > 0) {
      throw new KernelBug(
        "msleep",
        ms,
        `BUG: scheduling while atomic (driver holds ${inst.locksHeld} spinlocks)`,
      );
    }
    kn.msleep(ms);
  },
};

function forIoBars(kn: Kernel, pdev: number, bars: number, f: (start: number, len: number) => void): void {
  const dev = kn.pci.device(pdev, "I/O grant");
  for (let i = 0; i < PCI_NUM_RESOURCES; i++) {
    if ((bars & (1 << i)) !== 0 && dev.lens[i] > 0 && (dev.flags[i] & IORESOURCE_IO) !== 0)
      f(dev.starts[i], dev.lens[i]);
  }
}

/** An RVL service: runs at ring 3 on domain memory through the MMU (a bad pointer faults there). */
type LocalImpl = (inst: IsolatedDriverInstance, a: number, b: number, c: number) => number;

function localSkbOverPanic(inst: IsolatedDriverInstance, service: string, skb: number, msg: string): never {
  throw new DriverFault("illegal-argument", `${service}: skb_over_panic: ${msg} (skb ${hexAddr(skb)})`, {
    ...inst.site,
  });
}

const LOCAL_IMPLS: Partial<Record<ServiceName, LocalImpl>> = {
  dma_mapping_error: (_i, _pdev, dma) => (dma === DMA_MAPPING_ERROR ? 1 : 0),
  netdev_priv: (_i, dev) => dev + NetDevice.PRIV,
  jiffies: (i) => i.kn.jiffies,
  udelay: (i, us) => {
    i.kn.busyWait(us * 1e3);
    return 0;
  },
  mdelay: (i, ms) => {
    i.kn.busyWait(ms * 1e6);
    return 0;
  },
  netif_queue_stopped: (i, dev) =>
    (i.kn.mmu.load32(dev + NetDevice.state) & NETDEV_STATE_QUEUE_STOPPED) !== 0 ? 1 : 0,
  netif_carrier_ok: (i, dev) =>
    (i.kn.mmu.load32(dev + NetDevice.state) & NETDEV_STATE_CARRIER_OK) !== 0 ? 1 : 0,
  is_valid_ether_addr: (i, addr) => {
    const mmu = i.kn.mmu;
    if ((mmu.load8(addr) & 1) !== 0) return 0;
    for (let j = 0; j < ETH_ALEN; j++) if (mmu.load8(addr + j) !== 0) return 1;
    return 0;
  },
  // pci_dev helpers on the shadow
  pci_set_drvdata: (i, pdev, data) => {
    i.kn.mmu.store64(pdev + PciDev.driverData, data);
    return 0;
  },
  pci_get_drvdata: (i, pdev) => i.kn.mmu.load64(pdev + PciDev.driverData),
  pci_resource_start: (i, pdev, bar) => i.kn.mmu.load64(resource(pdev, bar) + Resource.start),
  pci_resource_len: (i, pdev, bar) => {
    const r = resource(pdev, bar);
    const end = i.kn.mmu.load64(r + Resource.end);
    return end === 0 ? 0 : end - i.kn.mmu.load64(r + Resource.start) + 1;
  },
  pci_resource_flags: (i, pdev, bar) => i.kn.mmu.load64(resource(pdev, bar) + Resource.flags),
  pci_select_bars: (i, pdev, flags) => {
    let mask = 0;
    for (let bar = 0; bar < PCI_NUM_RESOURCES; bar++) {
      if ((i.kn.mmu.load64(resource(pdev, bar) + Resource.flags) & flags) !== 0) mask |= 1 << bar;
    }
    return mask;
  },
  // spinlocks against the virtual interrupt flag
  spin_lock_init: (i, lock) => {
    i.kn.mmu.store32(lock, 0);
    return 0;
  },
  spin_lock: (i, lock) => localLock(i, lock, "spin_lock"),
  spin_unlock: (i, lock) => localUnlock(i, lock, "spin_unlock"),
  spin_lock_irqsave: (i, lock) => {
    const flags = i.virtualIf ? RFLAGS_IF : 0;
    i.virtualIf = false;
    localLock(i, lock, "spin_lock_irqsave");
    return flags;
  },
  spin_unlock_irqrestore: (i, lock, flags) => {
    localUnlock(i, lock, "spin_unlock_irqrestore");
    if ((flags & RFLAGS_IF) !== 0) i.virtualIf = true;
    return 0;
  },
  // skb helpers on the shared struct (the kernel re-reads and checks it at the next crossing)
  skb_put: (i, skb, len) => {
    const mmu = i.kn.mmu;
    const tail = mmu.load32(skb + SkBuff.tail);
    const end = mmu.load32(skb + SkBuff.end);
    if (tail + len > end)
      localSkbOverPanic(i, "skb_put", skb, `put ${len} bytes at tail ${tail} of a ${end}-byte buffer`);
    mmu.store32(skb + SkBuff.tail, tail + len);
    mmu.store32(skb + SkBuff.len, mmu.load32(skb + SkBuff.len) + len);
    return mmu.loadPtr(skb + SkBuff.head) + tail;
  },
  skb_reserve: (i, skb, len) => {
    const mmu = i.kn.mmu;
    if (mmu.load32(skb + SkBuff.len) !== 0) localSkbOverPanic(i, "skb_reserve", skb, "the skb is not empty");
    const tail = mmu.load32(skb + SkBuff.tail);
    if (tail + len > mmu.load32(skb + SkBuff.end))
      localSkbOverPanic(i, "skb_reserve", skb, `reserving ${len} bytes passes the end`);
    mmu.storePtr(skb + SkBuff.data, mmu.loadPtr(skb + SkBuff.data) + len);
    mmu.store32(skb + SkBuff.tail, tail + len);
    return 0;
  },
  skb_trim: (i, skb, len) => {
    const mmu = i.kn.mmu;
    if (len >= mmu.load32(skb + SkBuff.len)) return 0;
    mmu.store32(skb + SkBuff.len, len);
    mmu.store32(skb + SkBuff.tail, mmu.loadPtr(skb + SkBuff.data) - mmu.loadPtr(skb + SkBuff.head) + len);
    return 0;
  },
  eth_skb_pad: (i, skb) => {
    const mmu = i.kn.mmu;
    const len = mmu.load32(skb + SkBuff.len);
    if (len >= ETH_ZLEN) return 0;
    const need = ETH_ZLEN - len;
    const tail = mmu.load32(skb + SkBuff.tail);
    if (tail + need > mmu.load32(skb + SkBuff.end)) {
      (i.k as unknown as { dev_kfree_skb_any(s: number): number }).dev_kfree_skb_any(skb);
      return -ENOMEM;
    }
    mmu.writeBytes(mmu.loadPtr(skb + SkBuff.head) + tail, ZEROS, 0, need);
    mmu.store32(skb + SkBuff.tail, tail + need);
    mmu.store32(skb + SkBuff.len, len + need);
    return 0;
  },
  eth_type_trans: (i, skb, dev) => {
    const mmu = i.kn.mmu;
    const len = mmu.load32(skb + SkBuff.len);
    if (len < ETH_HLEN) {
      throw new DriverFault(
        "illegal-argument",
        `eth_type_trans: frame of ${len} bytes is shorter than an Ethernet header`,
        {
          ...i.site,
        },
      );
    }
    const data = mmu.loadPtr(skb + SkBuff.data);
    let pktType = PACKET_HOST;
    if ((mmu.load8(data) & 1) !== 0) {
      let bcast = true;
      for (let j = 0; j < ETH_ALEN; j++) if (mmu.load8(data + j) !== 0xff) bcast = false;
      pktType = bcast ? PACKET_BROADCAST : PACKET_MULTICAST;
    } else {
      for (let j = 0; j < ETH_ALEN; j++) {
        if (mmu.load8(data + j) !== mmu.load8(dev + NetDevice.devAddr + j)) {
          pktType = PACKET_OTHERHOST;
          break;
        }
      }
    }
    const proto = mmu.load16(data + 2 * ETH_ALEN);
    mmu.storePtr(skb + SkBuff.data, data + ETH_HLEN);
    mmu.store32(skb + SkBuff.len, len - ETH_HLEN);
    mmu.storePtr(skb + SkBuff.dev, dev);
    mmu.store16(skb + SkBuff.protocol, proto);
    mmu.store8(skb + SkBuff.pktType, pktType);
    return proto;
  },
};

function resource(pdev: number, bar: number): number {
  return pdev + PciDev.resource + bar * PciDev.RESOURCE_SIZE;
}

function localLock(i: IsolatedDriverInstance, lock: number, service: string): number {
  const mmu = i.kn.mmu;
  if (mmu.load32(lock) !== 0) {
    throw new DriverFault("illegal-argument", `${service}: deadlock: lock ${hexAddr(lock)} is already held`, {
      ...i.site,
    });
  }
  mmu.store32(lock, 1);
  i.locksHeld++;
  return 0;
}

function localUnlock(i: IsolatedDriverInstance, lock: number, service: string): number {
  const mmu = i.kn.mmu;
  if (mmu.load32(lock) === 0) {
    throw new DriverFault("illegal-argument", `${service}: lock ${hexAddr(lock)} is not held`, { ...i.site });
  }
  mmu.store32(lock, 0);
  i.locksHeld--;
  return 0;
}

/** Bit i set when argument i of `spec` is a handle of `kind`. */
function handleMask(spec: ServiceSpec, kind: HandleKind): number {
  let m = 0;
  spec.args.forEach((a, i) => {
    if (a.kind === "handle" && a.of === kind) m |= 1 << i;
  });
  return m;
}

/**
 * What a crossing knows about its service, decided once when this module loads: the spec, the
 * kernel-side implementation, the compiled argument checks, the argument array the checks read
 * (reused by every call of every instance: no crossing starts before another's checks are
 * done), and which arguments are pci_dev shadows to translate and shared skbs to read.
 */
class CrossStub {
  readonly check: CallCheck;
  readonly argv: unknown[];
  readonly pdevMask: number;
  readonly skbMask: number;
  readonly effect: EffectPlan;

  constructor(
    readonly name: ServiceName,
    readonly spec: ServiceSpec,
    readonly impl: ServiceImpl,
  ) {
    this.check = compileCallCheck(name, spec);
    this.argv = new Array(spec.args.length).fill(0);
    this.pdevMask = handleMask(spec, "pci-dev");
    this.skbMask = handleMask(spec, "skb");
    this.effect = new EffectPlan(name, spec);
  }
}

/** Names `k` must never answer with an unknown-service trap (probes by tools, promises). */
const NOT_SERVICES = new Set([
  "then",
  "toJSON",
  "constructor",
  "asymmetricMatch",
  "nodeType",
  "$$typeof",
  "inspect",
]);

/** The isolated instance a `k` method runs for. */
function isolatedOf(api: BoundApi): IsolatedDriverInstance {
  return api[BINDING].inst as IsolatedDriverInstance;
}

/**
 * The service methods of an isolated `k`: an RVL method for each `rvl: "local"` service, a
 * crossing for every other (one CrossStub per service, shared by every instance).
 */
function isolatedServices(): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (const name of Object.keys(SERVICES) as ServiceName[]) {
    const spec: ServiceSpec = SERVICES[name];
    const localImpl = spec.rvl === "local" ? LOCAL_IMPLS[name] : undefined;
    if (localImpl !== undefined) {
      const effect = new EffectPlan(name, spec);
      services[name] = function (this: BoundApi, a = 0, b = 0, c = 0) {
        return isolatedOf(this).local(effect, localImpl, a, b, c);
      };
      continue;
    }
    const stub = new CrossStub(name, spec, ISOLATED_IMPLS[name] ?? SERVICE_IMPLS[name]);
    services[name] = function (
      this: BoundApi,
      a?: unknown,
      b?: unknown,
      c?: unknown,
      d?: unknown,
      e?: unknown,
    ) {
      return isolatedOf(this).cross(stub, a, b, c, d, e);
    };
  }
  return services;
}

/**
 * The end of an isolated `k`'s prototype chain: any other name is an unknown service, a trap
 * into the checked-call layer when called.
 */
const UNKNOWN_SERVICE_TRAP = new Proxy(Object.create(null) as object, {
  get(_target, prop, api: BoundApi) {
    if (typeof prop !== "string" || NOT_SERVICES.has(prop)) return undefined;
    return () => isolatedOf(api).unknownService(prop);
  },
});

/** The prototype of every isolated `k`. */
const ISOLATED_API = kernelApiPrototype(UNKNOWN_SERVICE_TRAP, isolatedServices());

/**
 * Build the isolated `k` of `inst`: the accessors of `kernelApiPrototype` through the MMU (at
 * CPL 3 in the domain while the driver runs), port I/O and `arch` on the CPU (so #GP at ring 3),
 * an RVL method for each `rvl: "local"` service, a crossing for every other, and an
 * unknown-service trap for names that are not services.
 */
export function bindIsolated(kn: Kernel, inst: IsolatedDriverInstance): KernelApi {
  return bindKernelApi(ISOLATED_API, kn, inst) as unknown as KernelApi;
}

/**
 * Kernel side of `loadDriver(module, { mode: "isolated" })`: takes the first free driver-domain
 * slot, builds the domain (region, PML4, TSS), installs the DPL-3 gate, makes the instance and
 * binds its `k`. Throws Error when every slot is taken or an optimization not in this release
 * is asked for, TypeError for a malformed module, OutOfFramesError when memory runs out.
 */
export function createIsolatedInstance(
  kn: Kernel,
  id: number,
  module: DriverModule,
  options: IsolationOptions,
  usedSlots: ReadonlySet<number>,
): IsolatedDriverInstance {
  for (const opt of ["streamlined", "batch", "pretranslate"] as const) {
    if (options[opt] === true) {
      throw new Error(
        `loadDriver: SIDE optimization "${opt}" is not implemented in this release (base mode only)`,
      );
    }
  }
  let slot = 0;
  while (usedSlots.has(slot)) slot++;
  const domOptions: DomainOptions = { sharedPageTable: options.sharedPageTable };
  const domain = new DriverDomain(kn, slot, Object.keys(module.entryPoints).length, domOptions);
  let inst: IsolatedDriverInstance;
  try {
    inst = new IsolatedDriverInstance(kn, id, module, domain, options);
  } catch (e) {
    domain.destroy();
    throw e;
  }
  kn.machine.cpu.idt.setGate(SIDE_GATE_VECTOR, { handler: SIDE_GATE_HANDLER, type: "trap", dpl: 3 });
  inst.k = bindIsolated(kn, inst);
  return inst;
}
