/**
 * Interrupt handling: request_irq/free_irq (shared lines need IRQF_SHARED on every handler),
 * synchronize_irq, and dispatch: a pending unmasked line is delivered through the CPU
 * (deliverInterrupt through the IDT vector IRQ_VECTOR_BASE + line, which charges the entry and
 * pushes the frame), each handler on the line is called through its code address, and IRET
 * returns (charging the exit). A line whose handlers keep answering IRQ_NONE is disabled after
 * SPURIOUS_IRQ_LIMIT deliveries, as Linux's "nobody cared".
 */
import { EBUSY, EINVAL, IRQ_HANDLED, IRQF_SHARED } from "@side-kernel/kservice";
import type { DriverInstance } from "./driver.js";
import { hex, KernelBug } from "./errors.js";
import type { Kernel } from "./kernel.js";
import { IRQ_LINES, IRQ_VECTOR_BASE, SPURIOUS_IRQ_LIMIT } from "./limits.js";

/** One installed handler. */
export interface IrqAction {
  readonly handler: number;
  readonly flags: number;
  readonly name: string;
  readonly devId: number;
  readonly owner: DriverInstance;
}

/** The IRQ subsystem. */
export class IrqCore {
  /** Handlers per line; replaced (not mutated) on change so a dispatch in progress is safe. */
  private readonly lines: IrqAction[][] = Array.from({ length: IRQ_LINES }, () => []);
  private readonly unhandled = new Float64Array(IRQ_LINES);
  /** Deliveries per line. */
  readonly count = new Float64Array(IRQ_LINES);

  constructor(private readonly kn: Kernel) {}

  /** Handlers installed on `irq` (a copy). */
  actions(irq: number): IrqAction[] {
    return [...(this.lines[irq] ?? [])];
  }

  /** Handlers installed on all lines. */
  actionCount(): number {
    let n = 0;
    for (const l of this.lines) n += l.length;
    return n;
  }

  /**
   * request_irq: install `handler` for `devId` on `irq` and unmask the line. Returns 0, -EINVAL
   * for a line that does not exist, -EBUSY when the line is taken and either side lacks
   * IRQF_SHARED. Throws KernelBug when the same handler and dev_id are already installed.
   */
  request(
    inst: DriverInstance,
    irq: number,
    handler: number,
    flags: number,
    name: string,
    devId: number,
  ): number {
    if (!Number.isInteger(irq) || irq < 0 || irq >= IRQ_LINES) return -EINVAL;
    const list = this.lines[irq];
    for (const a of list) {
      if (a.handler === handler && a.devId === devId) {
        throw new KernelBug(
          "request_irq",
          irq,
          `handler ${hex(handler)} with dev_id ${hex(devId)} is already installed on IRQ ${irq}`,
        );
      }
    }
    if (list.length > 0 && ((flags & IRQF_SHARED) === 0 || list.some((a) => (a.flags & IRQF_SHARED) === 0))) {
      this.kn.log.write("err", inst.name, `request_irq ${irq} (${name}): line busy and not shared`);
      return -EBUSY;
    }
    this.lines[irq] = [...list, { handler, flags, name, devId, owner: inst }];
    this.unhandled[irq] = 0;
    this.kn.machine.irqs.setMasked(irq, false);
    return 0;
  }

  /**
   * free_irq: remove the handler installed with `devId` by `inst`; masks the line when it was
   * the last. No handler can be running (one CPU, handlers are not preempted), so it returns at
   * once. Throws KernelBug when there is no such handler ("Trying to free already-free IRQ").
   */
  free(inst: DriverInstance, irq: number, devId: number): void {
    const list = Number.isInteger(irq) && irq >= 0 && irq < IRQ_LINES ? this.lines[irq] : undefined;
    const i = list ? list.findIndex((a) => a.devId === devId && a.owner === inst) : -1;
    if (list === undefined || i < 0) {
      throw new KernelBug(
        "free_irq",
        irq,
        `trying to free already-free IRQ ${irq} (no handler with dev_id ${hex(devId)})`,
      );
    }
    const next = list.filter((_, j) => j !== i);
    this.lines[irq] = next;
    if (next.length === 0) this.kn.machine.irqs.setMasked(irq, true);
  }

  /** synchronize_irq: nothing runs concurrently on one CPU; checks the line. KernelBug for a bad line. */
  synchronize(irq: number): void {
    if (!Number.isInteger(irq) || irq < 0 || irq >= IRQ_LINES)
      throw new KernelBug("synchronize_irq", irq, `no IRQ line ${irq}`);
  }

  /**
   * Deliver one pending unmasked interrupt if RFLAGS.IF = 1: through the CPU's IDT, to every
   * handler of the line, then IRET. Returns true if an interrupt was taken.
   */
  deliverPending(): boolean {
    const line = this.kn.machine.irqs.pendingLine();
    if (line < 0) return false;
    const cpu = this.kn.machine.cpu;
    if (!cpu.deliverInterrupt(IRQ_VECTOR_BASE + line)) return false;
    this.count[line]++;
    const kn = this.kn;
    kn.inIrq++;
    let handled = false;
    try {
      const list = this.lines[line];
      for (let i = 0; i < list.length; i++) {
        const a = list[i];
        if (a.owner.call(a.handler, line, a.devId) === IRQ_HANDLED) handled = true;
      }
    } finally {
      kn.inIrq--;
    }
    cpu.iret();
    if (handled) {
      this.unhandled[line] = 0;
    } else if (++this.unhandled[line] >= SPURIOUS_IRQ_LIMIT) {
      kn.machine.irqs.setMasked(line, true);
      kn.log.write("err", "kernel", `irq ${line}: nobody cared; disabling IRQ #${line}`);
    }
    return true;
  }
}
