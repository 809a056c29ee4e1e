/**
 * The interrupt controller: IRQ_LINES level-triggered lines (an IOAPIC's 24 redirection
 * entries), each with a mask. It implements the PCI bus's `InterruptSink`. The CPU takes a
 * pending unmasked line only at boundaries the kernel controls (the run loop, between events,
 * when interrupts are re-enabled, when a handler returns): driver code is never preempted in
 * the middle of a function. That is a model limit, stated in the README.
 */
import type { InterruptSink } from "@side-kernel/pci";
import { IRQ_LINES } from "./limits.js";

/** A recorded MSI message (the e1000 uses INTx; MSI is recorded, not delivered). */
export interface MsiMessage {
  readonly address: number;
  readonly data: number;
}

/** Level-triggered lines with masks. Lines start masked, as Linux leaves a line without a handler. */
export class InterruptController implements InterruptSink {
  /** Current level of each line (1 = asserted). */
  readonly level = new Uint8Array(IRQ_LINES);
  /** Mask of each line (1 = masked). */
  readonly masked = new Uint8Array(IRQ_LINES).fill(1);
  /** Rising edges seen per line. */
  readonly raised = new Float64Array(IRQ_LINES);
  /** MSI messages written by devices (bounded to the last 64). */
  readonly msi: MsiMessage[] = [];
  private asserted = 0;

  /** InterruptSink: a line's level changed. Throws RangeError for a line outside 0..IRQ_LINES-1. */
  setIrqLevel(irq: number, level: boolean): void {
    if (!Number.isInteger(irq) || irq < 0 || irq >= IRQ_LINES) {
      throw new RangeError(`InterruptController: IRQ ${String(irq)} is not a line 0..${IRQ_LINES - 1}`);
    }
    const v = level ? 1 : 0;
    if (this.level[irq] === v) return;
    this.level[irq] = v;
    if (v === 1) {
      this.asserted++;
      this.raised[irq]++;
    } else {
      this.asserted--;
    }
  }

  /** InterruptSink: an MSI write; recorded only (no MSI-capable device is modelled here). */
  deliverMsi(address: number, data: number): void {
    if (this.msi.length >= 64) this.msi.shift();
    this.msi.push({ address, data });
  }

  /** The lowest asserted unmasked line, or -1. */
  pendingLine(): number {
    if (this.asserted === 0) return -1;
    for (let i = 0; i < IRQ_LINES; i++) if (this.level[i] === 1 && this.masked[i] === 0) return i;
    return -1;
  }

  /** Mask (true) or unmask (false) a line. Throws RangeError for a bad line. */
  setMasked(irq: number, masked: boolean): void {
    if (!Number.isInteger(irq) || irq < 0 || irq >= IRQ_LINES) {
      throw new RangeError(`InterruptController: IRQ ${String(irq)} is not a line 0..${IRQ_LINES - 1}`);
    }
    this.masked[irq] = masked ? 1 : 0;
  }
}
