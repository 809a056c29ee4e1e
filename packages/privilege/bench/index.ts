/**
 * Host-time throughput of the crossings: syscall+sysret pairs, interrupt delivery+iret (frame
 * written to and read from memory through an MMU), and event-queue schedule+run.
 * `npm run bench -w @side-kernel/privilege -- --json` prints one JSON object; without --json a
 * table goes to stdout.
 */
import { Bench } from "tinybench";
import {
  Cpu,
  type CpuMmu,
  EventQueue,
  Idt,
  KERNEL_CS,
  MSR_LSTAR,
  MSR_STAR,
  SimClock,
  USER32_CS,
} from "../src/index.js";

const KERNEL = 0x8000_0000_0000;
const STACK_TOP = KERNEL + 0x2000;

/** A flat two-page kernel stack MMU: the frame really goes to memory. */
class StackMmu implements CpuMmu {
  cpl = 0;
  ac = false;
  cr0 = 0x8001_0001;
  cr3 = 0;
  cr4 = 0x20;
  efer = 0xd01;
  accesses = 0;
  mmioReads = 0;
  mmioWrites = 0;
  tlb = { stats: { misses: 0 } };
  private readonly words = new Uint32Array(0x2000 / 4);
  private readonly base = STACK_TOP - 0x2000;
  writeCr0(): void {}
  writeCr3(): void {}
  writeCr4(): void {}
  writeEfer(): void {}
  invlpg(): void {}
  invpcid(): void {}
  load32(va: number): number {
    this.accesses++;
    return this.words[(va - this.base) >>> 2];
  }
  store32(va: number, v: number): void {
    this.accesses++;
    this.words[(va - this.base) >>> 2] = v;
  }
}

const cpu = new Cpu({ mmu: new StackMmu() });
cpu.wrmsr(MSR_STAR, USER32_CS * 2 ** 48 + KERNEL_CS * 2 ** 32);
cpu.wrmsr(MSR_LSTAR, KERNEL + 0x10_0000);
cpu.tss.rsp0 = STACK_TOP;
const idt = new Idt();
idt.setGate(32, { handler: KERNEL + 0x20_0000 });
cpu.lidt(idt);
cpu.rflags = 1 << 9;
cpu.rip = 0x40_1000;
cpu.cpl = 3;

const clock = new SimClock();
const queue = new EventQueue(clock);
let fired = 0;
const onEvent = () => {
  fired++;
};

const BATCH = 1000;
const bench = new Bench({ time: 500, warmupTime: 100 });
bench
  .add("syscall+sysret", () => {
    for (let i = 0; i < BATCH; i++) {
      cpu.syscall();
      cpu.sysret();
    }
  })
  .add("interrupt+iret", () => {
    for (let i = 0; i < BATCH; i++) {
      cpu.deliverInterrupt(32);
      cpu.iret();
    }
  })
  .add("event schedule+run", () => {
    const t = clock.nowNs;
    for (let i = 0; i < BATCH; i++) queue.schedule(t + ((i * 7919) % 997), onEvent);
    while (queue.runNext());
  });

await bench.run();

function perSecond(name: string): number {
  const task = bench.tasks.find((t) => t.name === name);
  const r = task?.result as { throughput?: { mean: number } } | undefined;
  const mean = r?.throughput?.mean;
  if (mean === undefined) throw new Error(`bench task ${name} has no result`);
  return Math.round(mean * BATCH);
}

const figures = {
  syscallSysretPairsPerSec: perSecond("syscall+sysret"),
  interruptIretPairsPerSec: perSecond("interrupt+iret"),
  eventScheduleRunPerSec: perSecond("event schedule+run"),
  eventsFired: fired,
};
if (process.argv.includes("--json")) console.log(JSON.stringify(figures));
else console.table(figures);
