/**
 * Failure injection for driver service calls, in the spirit of Linux's fault-injection framework
 * (failslab, fail_page_alloc; Documentation/fault-injection/fault-injection.rst): an armed
 * failpoint makes matching calls of one service return that service's failure value without
 * running it, so a driver's error paths can be driven one by one. The service stubs of both
 * modes ask `armed` first: one branch per call while nothing is armed.
 */
import {
  DMA_MAPPING_ERROR,
  ENOMEM,
  SERVICES,
  type ServiceName,
  type ServiceSpec,
} from "@side-kernel/kservice";

/** How a failpoint picks its calls. */
export interface FailpointOptions {
  /** The first matching call that fails, counted from arming (1 = the next one). Default 1. */
  readonly nth?: number;
  /** How many consecutive matching calls fail from the nth on (Infinity: all). Default 1. */
  readonly times?: number;
  /** Only calls from the driver module of this name match; every driver's by default. */
  readonly driver?: string;
}

/** One injected failure, in call order. */
export interface InjectedFailure {
  readonly service: ServiceName;
  readonly driver: string;
  readonly value: number;
}

interface Point {
  readonly driver: string | undefined;
  seen: number;
  readonly first: number;
  readonly last: number;
}

/**
 * The value a call of `spec` returns when it fails: ptr -> 0 (NULL), errno -> -ENOMEM,
 * dma -> DMA_MAPPING_ERROR, bool and int -> 0. Throws TypeError for a void service (it cannot fail).
 */
export function failureValue(name: string, spec: ServiceSpec): number {
  switch (spec.returns) {
    case "ptr":
    case "bool":
    case "int":
      return 0;
    case "errno":
      return -ENOMEM;
    case "dma":
      return DMA_MAPPING_ERROR;
    default:
      throw new TypeError(`failpoints: service ${name} returns void and cannot fail`);
  }
}

/** The kernel's failpoints (`kernel.failpoints`). */
export class Failpoints {
  /** Number of armed failpoints: the stubs' fast check. */
  armed = 0;
  /** Failures injected since boot (or the last `clear`). */
  injected = 0;
  /** Every injected failure, in order. */
  readonly history: InjectedFailure[] = [];
  private readonly points = new Map<string, Point>();

  /**
   * Arm `service`: the nth matching call from now on and the `times - 1` after it return the
   * service's failure value (`failureValue`) without running, changing no ledger. Re-arming a
   * service replaces its failpoint. Throws TypeError for an unknown or void service, RangeError
   * for nth < 1 or times < 1 (or not integers, Infinity allowed for times).
   */
  arm(service: ServiceName, options: FailpointOptions = {}): void {
    const spec = (SERVICES as Record<string, ServiceSpec | undefined>)[service];
    if (spec === undefined || !Object.hasOwn(SERVICES, service))
      throw new TypeError(`failpoints.arm: unknown service ${String(service)}`);
    failureValue(service, spec);
    const nth = options.nth ?? 1;
    const times = options.times ?? 1;
    if (!Number.isInteger(nth) || nth < 1)
      throw new RangeError(`failpoints.arm: nth ${nth} is not an integer >= 1`);
    if (!(times === Number.POSITIVE_INFINITY || (Number.isInteger(times) && times >= 1)))
      throw new RangeError(`failpoints.arm: times ${times} is not an integer >= 1 or Infinity`);
    this.points.set(service, { driver: options.driver, seen: 0, first: nth, last: nth + times - 1 });
    this.armed = this.points.size;
  }

  /**
   * Matching calls of `service` its failpoint has seen since it was armed (0 when not armed):
   * arm with a large `nth` to count a driver's calls without failing any.
   */
  seen(service: ServiceName): number {
    return this.points.get(service)?.seen ?? 0;
  }

  /** Disarm `service`, or every failpoint when none is named. */
  disarm(service?: ServiceName): void {
    if (service === undefined) this.points.clear();
    else this.points.delete(service);
    this.armed = this.points.size;
  }

  /** Disarm everything and reset `injected` and `history`. */
  clear(): void {
    this.disarm();
    this.injected = 0;
    this.history.length = 0;
  }

  /**
   * Called by a stub (only while `armed !== 0`) before it runs `service` for driver `driver`:
   * true if this call must fail. A failpoint disarms itself after its last failure.
   */
  shouldFail(service: string, driver: string): boolean {
    const p = this.points.get(service);
    if (p === undefined) return false;
    if (p.driver !== undefined && p.driver !== driver) return false;
    const n = ++p.seen;
    if (n < p.first) return false;
    if (n >= p.last) {
      this.points.delete(service);
      this.armed = this.points.size;
    }
    const value = failureValue(service, SERVICES[service as ServiceName]);
    this.injected++;
    this.history.push({ service: service as ServiceName, driver, value });
    return true;
  }
}
