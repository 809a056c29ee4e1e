/**
 * A small register-file device model for the bus tests (not the e1000): every BAR is a byte
 * array the CPU can read and write; resets and Command changes are recorded.
 */
import type {
  AccessSize,
  BarDefinition,
  CapabilityDefinition,
  DmaMemory,
  InterruptSink,
  PciBusOptions,
  PciDeviceModel,
  PciDevicePort,
  PciIdentity,
  ResetKind,
} from "../src/index.js";
import { PciBus } from "../src/index.js";

/** QEMU's -device e1000 identity (hardware.md 5.1). */
export const E1000_IDENTITY: PciIdentity = {
  vendorId: 0x8086,
  deviceId: 0x100e,
  revision: 0x03,
  classCode: 0x020000,
  subsystemVendorId: 0x1af4,
  subsystemId: 0x1100,
  interruptPin: 1,
  cacheLineSize: 0x10,
};

/** QEMU's e1000 BARs: 128 KiB 32-bit MMIO, 64-byte I/O (hardware.md 5.1). */
export const E1000_BARS: readonly BarDefinition[] = [
  { kind: "mem32", size: 0x20000 },
  { kind: "io", size: 0x40 },
];

export interface FakeOptions {
  identity?: Partial<PciIdentity>;
  bars?: readonly (BarDefinition | undefined)[];
  capabilities?: readonly CapabilityDefinition[];
  rom?: Uint8Array;
}

/** Largest register file kept per BAR; accesses beyond it read 0 and are dropped. */
const MAX_REGFILE = 0x10000;

export class FakeDevice implements PciDeviceModel {
  readonly identity: PciIdentity;
  readonly bars: readonly (BarDefinition | undefined)[];
  readonly capabilities?: readonly CapabilityDefinition[];
  readonly rom?: Uint8Array;
  port!: PciDevicePort;
  readonly regs: Uint8Array[];
  readonly resets: ResetKind[] = [];
  readonly commands: number[] = [];
  readonly accesses: { bar: number; offset: number; size: number; write: boolean; value: number }[] = [];
  recordAccesses = true;

  constructor(options: FakeOptions = {}) {
    this.identity = { ...E1000_IDENTITY, ...options.identity };
    this.bars = options.bars ?? E1000_BARS;
    if (options.capabilities !== undefined) this.capabilities = options.capabilities;
    if (options.rom !== undefined) this.rom = options.rom;
    this.regs = this.bars.map((b) => new Uint8Array(b === undefined ? 0 : Math.min(b.size, MAX_REGFILE)));
  }

  attach(port: PciDevicePort): void {
    this.port = port;
  }

  barRead(bar: number, offset: number, size: AccessSize): number {
    if (this.recordAccesses) this.accesses.push({ bar, offset, size, write: false, value: 0 });
    const r = this.regs[bar];
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (offset + i < r.length ? r[offset + i] : 0);
    return v;
  }

  barWrite(bar: number, offset: number, size: AccessSize, value: number): void {
    if (this.recordAccesses) this.accesses.push({ bar, offset, size, write: true, value });
    const r = this.regs[bar];
    for (let i = 0; i < size; i++) if (offset + i < r.length) r[offset + i] = (value >>> (8 * i)) & 0xff;
  }

  reset(kind: ResetKind): void {
    this.resets.push(kind);
    for (const r of this.regs) r.fill(0);
  }

  commandChanged(command: number): void {
    this.commands.push(command);
  }
}

/** A Uint8Array-backed DmaMemory. */
export class ArrayMemory implements DmaMemory {
  readonly bytes: Uint8Array;
  constructor(readonly size: number) {
    this.bytes = new Uint8Array(size);
  }
  readBytes(pa: number, dst: Uint8Array, dstOffset: number, length: number): void {
    dst.set(this.bytes.subarray(pa, pa + length), dstOffset);
  }
  writeBytes(pa: number, src: Uint8Array, srcOffset: number, length: number): void {
    this.bytes.set(src.subarray(srcOffset, srcOffset + length), pa);
  }
}

/** Records every INTx level change and MSI message. */
export class RecordingSink implements InterruptSink {
  readonly levels = new Map<number, boolean>();
  readonly changes: { irq: number; level: boolean }[] = [];
  readonly msis: { address: number; data: number }[] = [];
  setIrqLevel(irq: number, level: boolean): void {
    this.levels.set(irq, level);
    this.changes.push({ irq, level });
  }
  deliverMsi(address: number, data: number): void {
    this.msis.push({ address, data });
  }
}

export function makeBus(options: Partial<PciBusOptions> = {}): {
  bus: PciBus;
  memory: ArrayMemory;
  sink: RecordingSink;
} {
  const memory = new ArrayMemory(1 << 20);
  const sink = new RecordingSink();
  const bus = new PciBus({ memory, interrupts: sink, ...options });
  return { bus, memory, sink };
}
