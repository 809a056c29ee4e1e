/**
 * The checked-call layer's argument checks, generated from the service table. Each argument of
 * a call from an isolated driver is checked against its `ArgSpec` before the kernel acts on it.
 */
import { type FaultSite, illegalArgument, unknownService } from "./faults.js";
import { type ArgSpec, type HandleKind, type ServiceSpec, serviceSpec } from "./spec.js";

/** Highest linear address + 1. */
const LINEAR_LIMIT = 2 ** 48;

/** What the checks need to know about the calling driver domain. */
export interface CallerDomain {
  /** True if [addr, addr + len) lies in memory the domain may hand to the kernel. */
  ownsRange(addr: number, len: number): boolean;
  /** True if `addr` is an entry point of the domain's module. */
  isEntryPoint(addr: number): boolean;
  /** True if `irq` is the interrupt line of one of the domain's devices. */
  ownsIrq(irq: number): boolean;
  /** True if the domain holds this kernel object or resource. */
  ownsHandle(kind: HandleKind, value: number): boolean;
}

/**
 * Compiled checks `checkCall` found, by name: a Map hit costs less than `serviceSpec`'s
 * own-property test and keyed lookup on the ~90-entry SERVICES object, which is a constant table.
 */
const CHECK_CACHE = new Map<string, CallCheck>();

/**
 * Check one call. Returns the service's spec when every argument passes; throws a DriverFault
 * (unknown-service or illegal-argument) naming the service, the argument, its value and the
 * reason otherwise.
 */
export function checkCall(
  name: string,
  args: readonly unknown[],
  domain: CallerDomain,
  site: FaultSite = {},
): ServiceSpec {
  let check = CHECK_CACHE.get(name);
  if (check === undefined) {
    const spec = serviceSpec(name);
    if (!spec) throw unknownService(name, site);
    check = compileCallCheck(name, spec);
    CHECK_CACHE.set(name, check);
  }
  checkCompiledCall(check, args, domain, site);
  return check.spec;
}

// Argument kinds as small integers, so that the hot check reads one monomorphic record.
const K_STR = 0;
const K_VALUE = 1;
const K_SIZE = 2;
const K_FLAGS = 3;
const K_ENUM = 4;
const K_FN = 5;
const K_IRQ = 6;
const K_HANDLE = 7;
const K_PTR = 8;
/** A kind `checkArgument` does not know: any integer passes. */
const K_OTHER = 9;
const KIND_CODES: Readonly<Record<string, number>> = {
  str: K_STR,
  value: K_VALUE,
  size: K_SIZE,
  flags: K_FLAGS,
  enum: K_ENUM,
  fn: K_FN,
  irq: K_IRQ,
  handle: K_HANDLE,
  ptr: K_PTR,
};
/** Largest magnitude a "value" argument may have (exclusive), as checkArgument says. */
const VALUE_LIMIT = 2 ** 53;
/** Flags arguments are 32-bit. */
const FLAGS_MAX = 0xffff_ffff;

/**
 * One argument's check in one shape for every kind (the ArgSpec union has a shape per kind, so
 * reading it in a hot loop is a megamorphic load). Fields a kind does not use hold neutral values.
 */
export class ArgCheck {
  readonly kind: number;
  /** Handle kind ("handle"), else "pci-dev" (unused). */
  readonly of: HandleKind;
  readonly nullable: boolean;
  /** "size": bounds; "str": max length. */
  readonly min: number;
  readonly max: number;
  /** "flags": the allowed bits. */
  readonly mask: number;
  /** "ptr": constant length (len ?? 1), or the index of the length argument (-1: none). */
  readonly len: number;
  readonly lenArg: number;
  /** "enum": the allowed values. */
  readonly values: readonly number[];

  constructor(spec: ArgSpec) {
    const s = spec as Partial<{
      of: HandleKind;
      nullable: boolean;
      min: number;
      max: number;
      mask: number;
      len: number;
      lenArg: number;
      values: readonly number[];
    }>;
    this.kind = KIND_CODES[spec.kind] ?? K_OTHER;
    this.of = s.of ?? "pci-dev";
    this.nullable = s.nullable === true;
    this.min = s.min ?? 0;
    this.max = s.max as number;
    this.mask = s.mask ?? 0;
    this.len = s.len ?? 1;
    this.lenArg = s.lenArg ?? -1;
    this.values = s.values ?? [];
  }
}

/** A service's checks compiled once (`compileCallCheck`), for `checkCompiledCall`. */
export interface CallCheck {
  readonly name: string;
  readonly spec: ServiceSpec;
  /** One record per argument (internal to the checks). */
  readonly args: readonly ArgCheck[];
}

/**
 * Compile the checks of service `name` with spec `spec` (from SERVICES) for `checkCompiledCall`,
 * which then skips the name lookup and reads one record shape per argument. Never throws.
 */
export function compileCallCheck(name: string, spec: ServiceSpec): CallCheck {
  return { name, spec, args: spec.args.map((a) => new ArgCheck(a)) };
}

/**
 * `checkCall` for a compiled service: the same checks, faults and messages, without the lookup.
 * Returns nothing when every argument passes; throws the DriverFault (illegal-argument) that
 * `checkCall` throws otherwise.
 */
export function checkCompiledCall(
  check: CallCheck,
  args: readonly unknown[],
  domain: CallerDomain,
  site: FaultSite = {},
): void {
  const checks = check.args;
  const n = checks.length;
  if (args.length !== n) {
    throw illegalArgument(check.name, args.length, "arity", args.length, `expects ${n} arguments`, site);
  }
  for (let i = 0; i < n; i++) {
    if (passes(checks[i], args[i], args, domain)) continue;
    // the reason (and, should the two ever disagree, the verdict) comes from checkArgument
    const spec = check.spec.args[i];
    const reason = checkArgument(spec, args[i], args, domain);
    if (reason !== undefined) throw illegalArgument(check.name, i, spec.name, args[i], reason, site);
  }
}

/**
 * True when `value` passes `c`. Accepts exactly what checkArgument accepts (never more; the
 * callers ask checkArgument again for the reason when this says no), calling the domain's
 * methods the same way.
 */
function passes(c: ArgCheck, value: unknown, args: readonly unknown[], domain: CallerDomain): boolean {
  const kind = c.kind;
  if (kind === K_STR) return typeof value === "string" && value.length <= c.max;
  if (typeof value !== "number" || !Number.isInteger(value)) return false;
  switch (kind) {
    case K_HANDLE:
      return (value === 0 && c.nullable) || domain.ownsHandle(c.of, value);
    case K_SIZE:
      return value >= c.min && value <= c.max;
    case K_PTR: {
      if (value === 0 && c.nullable) return true;
      const len = c.lenArg >= 0 ? args[c.lenArg] : c.len;
      if (value < 0 || value >= LINEAR_LIMIT) return false;
      if (typeof len !== "number" || !Number.isInteger(len) || len < 0) return false;
      return domain.ownsRange(value, Math.max(len, 1));
    }
    case K_ENUM:
      return c.values.includes(value);
    case K_FLAGS:
      return value >= 0 && value <= FLAGS_MAX && (value & ~c.mask) === 0;
    case K_VALUE:
      return value >= -VALUE_LIMIT && value < VALUE_LIMIT;
    case K_FN:
      return domain.isEntryPoint(value);
    case K_IRQ:
      return domain.ownsIrq(value);
    default:
      return true;
  }
}

/** Check one argument; returns why it is illegal, or undefined when it passes. */
export function checkArgument(
  spec: ArgSpec,
  value: unknown,
  args: readonly unknown[],
  domain: CallerDomain,
): string | undefined {
  if (spec.kind === "str") {
    if (typeof value !== "string") return "not a string";
    return value.length > spec.max ? `longer than ${spec.max} characters` : undefined;
  }
  if (typeof value !== "number" || !Number.isInteger(value)) return "not an integer";
  switch (spec.kind) {
    case "value":
      return value < -(2 ** 53) || value >= 2 ** 53 ? "out of range" : undefined;
    case "size":
      if (value < (spec.min ?? 0) || value > spec.max) return `not in [${spec.min ?? 0}, ${spec.max}]`;
      return undefined;
    case "flags":
      return value < 0 || (value & ~spec.mask) !== 0 || value > 0xffff_ffff
        ? `has bits outside 0x${spec.mask.toString(16)}`
        : undefined;
    case "enum":
      return spec.values.includes(value) ? undefined : `not one of ${spec.values.join(", ")}`;
    case "fn":
      return domain.isEntryPoint(value) ? undefined : "not an entry point of the calling module";
    case "irq":
      return domain.ownsIrq(value) ? undefined : "not an interrupt line of the driver's device";
    case "handle":
      if (value === 0 && spec.nullable) return undefined;
      return domain.ownsHandle(spec.of, value) ? undefined : `not a ${spec.of} owned by this driver`;
    case "ptr": {
      if (value === 0 && spec.nullable) return undefined;
      const len = spec.lenArg !== undefined ? (args[spec.lenArg] as number) : (spec.len ?? 1);
      if (value < 0 || value >= LINEAR_LIMIT) return "not a canonical address";
      if (!Number.isInteger(len) || len < 0) return "has no valid length";
      return domain.ownsRange(value, Math.max(len, 1))
        ? undefined
        : `[0x${value.toString(16)}, +${len}) is not inside the driver's region`;
    }
  }
}
