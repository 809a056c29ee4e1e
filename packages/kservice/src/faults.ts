/**
 * Driver faults: what the kernel reports when a driver misbehaves. In isolated mode each one
 * stops the driver and leaves the kernel running (DESIGN.md, "Faults and recovery").
 */

/** The kinds of driver fault. */
export type DriverFaultKind =
  | "page-fault"
  | "general-protection"
  | "invalid-opcode"
  | "unknown-service"
  | "illegal-argument"
  | "exception"
  | "lockup";

/** Where in the driver the fault happened: the entry point running, and the service called if any. */
export interface FaultSite {
  readonly entryPoint?: string;
  readonly service?: string;
}

/** A driver fault. `cause` holds the CPU exception or JS error behind it, when there is one. */
export class DriverFault extends Error {
  override readonly name = "DriverFault";
  constructor(
    readonly kind: DriverFaultKind,
    message: string,
    readonly site: FaultSite = {},
    readonly detail: {
      readonly address?: number;
      readonly errorCode?: number;
      readonly argIndex?: number;
      readonly argName?: string;
      readonly value?: unknown;
    } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A call to a service the kernel does not export. */
export function unknownService(name: string, site: FaultSite = {}): DriverFault {
  return new DriverFault("unknown-service", `unknown kernel service "${name}"`, { ...site, service: name });
}

/** An argument that failed its check: names the service, the argument, its value and why. */
export function illegalArgument(
  service: string,
  argIndex: number,
  argName: string,
  value: unknown,
  reason: string,
  site: FaultSite = {},
): DriverFault {
  const shown = typeof value === "number" ? `0x${value.toString(16)}` : JSON.stringify(value);
  return new DriverFault(
    "illegal-argument",
    `${service}: argument ${argIndex} (${argName}) = ${shown}: ${reason}`,
    { ...site, service },
    { argIndex, argName, value },
  );
}
