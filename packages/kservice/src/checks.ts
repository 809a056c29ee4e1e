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
 * Specs `checkCall` found, by name: a Map hit costs less than `serviceSpec`'s own-property test
 * and keyed lookup on the ~90-entry SERVICES object, which is a constant table.
 */
const SPEC_CACHE = new Map<string, ServiceSpec>();

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
  let spec = SPEC_CACHE.get(name);
  if (spec === undefined) {
    spec = serviceSpec(name);
    if (!spec) throw unknownService(name, site);
    SPEC_CACHE.set(name, spec);
  }
  checkCallSpec(name, spec, args, domain, site);
  return spec;
}

/** The arity and argument checks of `checkCall` once the spec is known. */
function checkCallSpec(
  name: string,
  spec: ServiceSpec,
  args: readonly unknown[],
  domain: CallerDomain,
  site: FaultSite,
): void {
  if (args.length !== spec.args.length) {
    throw illegalArgument(
      name,
      args.length,
      "arity",
      args.length,
      `expects ${spec.args.length} arguments`,
      site,
    );
  }
  for (let i = 0; i < spec.args.length; i++) {
    const reason = checkArgument(spec.args[i], args[i], args, domain);
    if (reason !== undefined) throw illegalArgument(name, i, spec.args[i].name, args[i], reason, site);
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
