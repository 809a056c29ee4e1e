/**
 * The interrupt descriptor table: 256 gates of 16 bytes (hardware.md 3.3, SDM-64INT).
 *
 *   bytes 0-1  offset[15:0]     2-3  segment selector     4  IST (bits 2:0)
 *   byte  5    P (7) | DPL (6:5) | 0 | type (3:0): 0xE interrupt gate, 0xF trap gate
 *   bytes 6-7  offset[31:16]    8-11 offset[63:32]        12-15 reserved
 *
 * The gates are kept in typed arrays (handler addresses and the type/attribute byte as the
 * hardware holds it) for the delivery hot path; `toBytes` produces the hardware layout.
 */
import { formatLinear } from "@side-kernel/paging";
import { KERNEL_CS } from "./regs.js";

/** Number of IDT vectors. */
export const IDT_VECTORS = 256;
/** Bytes per 64-bit IDT gate. */
export const IDT_GATE_SIZE = 16;
/** Type field of a 64-bit interrupt gate (clears IF on delivery). */
export const GATE_TYPE_INTERRUPT = 0xe;
/** Type field of a 64-bit trap gate (leaves IF alone). */
export const GATE_TYPE_TRAP = 0xf;
/** Present bit of the type/attribute byte. */
export const GATE_PRESENT = 0x80;
/** Shift of the DPL field in the type/attribute byte. */
export const GATE_DPL_SHIFT = 5;
/** Mask of the type field in the type/attribute byte. */
export const GATE_TYPE_MASK = 0xf;
/** Highest IST index (IST1..IST7; 0 = no IST). */
export const MAX_IST = 7;

const TWO_32 = 2 ** 32;
const TWO_16 = 2 ** 16;
const LINEAR_LIMIT = 2 ** 48;

/** Gate kinds: an interrupt gate clears RFLAGS.IF on delivery, a trap gate does not. */
export type GateType = "interrupt" | "trap";

/** Options of `Idt.setGate`. */
export interface GateOptions {
  /** Handler address (48-bit linear). */
  handler: number;
  /** Gate type; default "interrupt". */
  type?: GateType;
  /** Descriptor privilege level 0..3 (the highest CPL allowed to INT n through it); default 0. */
  dpl?: number;
  /** Interrupt stack table slot 0..7 (0 = none); default 0. */
  ist?: number;
  /** Present bit; default true. */
  present?: boolean;
}

/** A decoded gate, as returned by `Idt.gate`. */
export interface Gate {
  readonly handler: number;
  readonly type: GateType;
  readonly dpl: number;
  readonly ist: number;
  readonly present: boolean;
}

/** A 256-entry IDT. Fresh: every gate not present. */
export class Idt {
  /** Handler address per vector. */
  readonly handlers = new Float64Array(IDT_VECTORS);
  /** Type/attribute byte per vector (P, DPL, type), as in gate byte 5. */
  readonly attributes = new Uint8Array(IDT_VECTORS);
  /** IST index per vector (gate byte 4, bits 2:0). */
  readonly istIndex = new Uint8Array(IDT_VECTORS);

  /**
   * Installs the gate for `vector`. Returns nothing. Throws RangeError for a vector outside
   * 0..255, a handler that is not a 48-bit linear address, a DPL outside 0..3 or an IST outside
   * 0..7, and TypeError for an unknown type.
   */
  setGate(vector: number, options: GateOptions): void {
    checkVector(vector, "Idt.setGate");
    const { handler, type = "interrupt", dpl = 0, ist = 0, present = true } = options;
    if (!Number.isInteger(handler) || handler < 0 || handler >= LINEAR_LIMIT) {
      throw new RangeError(
        `Idt.setGate(${vector}): handler must be a 48-bit linear address, got ${String(handler)}`,
      );
    }
    if (type !== "interrupt" && type !== "trap") {
      throw new TypeError(`Idt.setGate(${vector}): type must be "interrupt" or "trap", got ${String(type)}`);
    }
    if (!Number.isInteger(dpl) || dpl < 0 || dpl > 3) {
      throw new RangeError(`Idt.setGate(${vector}): dpl must be 0..3, got ${String(dpl)}`);
    }
    if (!Number.isInteger(ist) || ist < 0 || ist > MAX_IST) {
      throw new RangeError(`Idt.setGate(${vector}): ist must be 0..7, got ${String(ist)}`);
    }
    this.handlers[vector] = handler;
    this.attributes[vector] =
      (present ? GATE_PRESENT : 0) |
      (dpl << GATE_DPL_SHIFT) |
      (type === "interrupt" ? GATE_TYPE_INTERRUPT : GATE_TYPE_TRAP);
    this.istIndex[vector] = ist;
  }

  /** Marks `vector`'s gate not present. Throws RangeError for a vector outside 0..255. */
  clearGate(vector: number): void {
    checkVector(vector, "Idt.clearGate");
    this.attributes[vector] = 0;
    this.handlers[vector] = 0;
    this.istIndex[vector] = 0;
  }

  /** The decoded gate of `vector`. Throws RangeError for a vector outside 0..255. */
  gate(vector: number): Gate {
    checkVector(vector, "Idt.gate");
    const a = this.attributes[vector];
    return {
      handler: this.handlers[vector],
      type: (a & GATE_TYPE_MASK) === GATE_TYPE_TRAP ? "trap" : "interrupt",
      dpl: (a >> GATE_DPL_SHIFT) & 3,
      ist: this.istIndex[vector],
      present: (a & GATE_PRESENT) !== 0,
    };
  }

  /**
   * Encodes the table in the hardware layout (4096 bytes; selector KERNEL_CS; handler offsets
   * sign-extended to canonical form). Returns a new Uint8Array.
   */
  toBytes(): Uint8Array {
    const out = new Uint8Array(IDT_VECTORS * IDT_GATE_SIZE);
    const view = new DataView(out.buffer);
    for (let v = 0; v < IDT_VECTORS; v++) {
      const a = this.attributes[v];
      if (a === 0) continue;
      const base = v * IDT_GATE_SIZE;
      const h = this.handlers[v];
      const lo = h % TWO_32;
      const hi = Math.floor(h / TWO_32);
      view.setUint16(base, lo % TWO_16, true);
      view.setUint16(base + 2, KERNEL_CS, true);
      view.setUint8(base + 4, this.istIndex[v]);
      view.setUint8(base + 5, a);
      view.setUint16(base + 6, Math.floor(lo / TWO_16), true);
      view.setUint32(base + 8, (hi >= 0x8000 ? hi | 0xffff_0000 : hi) >>> 0, true);
    }
    return out;
  }

  /** A one-line description of `vector`'s gate for error messages. Never throws. */
  describe(vector: number): string {
    if (!Number.isInteger(vector) || vector < 0 || vector >= IDT_VECTORS) return `vector ${String(vector)}`;
    const g = this.gate(vector);
    return g.present
      ? `${g.type} gate ${vector} -> ${formatLinear(g.handler)} (DPL ${g.dpl}, IST ${g.ist})`
      : `gate ${vector} (not present)`;
  }
}

function checkVector(vector: number, op: string): void {
  if (!Number.isInteger(vector) || vector < 0 || vector >= IDT_VECTORS) {
    throw new RangeError(`${op}: vector must be an integer 0..255, got ${String(vector)}`);
  }
}
