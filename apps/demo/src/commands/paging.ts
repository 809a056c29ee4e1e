/**
 * `paging` command: a kernel address space with a supervisor-only kernel region and a
 * user-accessible driver region at kernel addresses (DESIGN.md "The isolated driver domain"),
 * a set of accesses at CPL 0 and CPL 3, and the outcome of each.
 */
import {
  Access,
  AddressSpace,
  CpuException,
  CR4_PAE,
  CR4_SMAP,
  describePageFaultCode,
  FrameAllocator,
  formatLinear,
  Mmu,
  PAGE_SIZE,
  PageFault,
  PhysicalMemory,
} from "@side-kernel/paging";
import Table from "cli-table3";

/** First linear address of the kernel half (prints as 0xffff800000000000). */
const KERNEL_BASE = 0x8000_0000_0000;
/** Kernel text/data: supervisor-only. */
const KERNEL_REGION = KERNEL_BASE + 0x10_0000;
/** The driver region: user-accessible pages at kernel addresses. */
const DRIVER_REGION = KERNEL_BASE + 0x4000_0000;
/** A read-only page inside the driver region (e.g. a shared descriptor the driver must not change). */
const DRIVER_RO_PAGE = DRIVER_REGION + 4 * PAGE_SIZE;
/** A data page mapped execute-disabled. */
const XD_PAGE = DRIVER_REGION + 5 * PAGE_SIZE;

/** One row of the demo: what was tried and what happened. */
export interface Outcome {
  what: string;
  cpl: number;
  result: string;
  expected: string;
}

/** Runs one access and describes the outcome. Never throws for CPU exceptions. */
function attempt(mmu: Mmu, what: string, cpl: number, expected: string, fn: () => number): Outcome {
  mmu.cpl = cpl;
  let result: string;
  try {
    result = `ok -> 0x${fn().toString(16)}`;
  } catch (e) {
    if (e instanceof PageFault)
      result = `#PF 0x${e.errorCode.toString(16)} (${describePageFaultCode(e.errorCode)})`;
    else if (e instanceof CpuException) result = e.message;
    else throw e;
  }
  mmu.cpl = 0;
  return { what, cpl, result, expected };
}

/** Builds the machine, runs the accesses, returns the outcomes and the TLB statistics. */
export function runPagingScenario(): { outcomes: Outcome[]; stats: Record<string, number> } {
  const memory = new PhysicalMemory(16 * 1024 * 1024);
  const frames = new FrameAllocator(memory);
  const space = new AddressSpace(memory, frames);
  const mmu = new Mmu(memory);
  space.mapRange(KERNEL_REGION, frames.allocContiguous(4), 4 * PAGE_SIZE, { writable: true, global: true });
  space.mapRange(DRIVER_REGION, frames.allocContiguous(4), 4 * PAGE_SIZE, { writable: true, user: true });
  space.map(DRIVER_RO_PAGE, frames.alloc(), PAGE_SIZE, { user: true });
  space.map(XD_PAGE, frames.alloc(), PAGE_SIZE, { user: true, writable: true, noExecute: true });
  mmu.writeCr3(space.root);
  mmu.store64(DRIVER_REGION + 0x108, 0x0001_0000_0000_0000);
  mmu.tlb.resetStats();

  const read = (va: number) => () => mmu.translate(va, Access.Read);
  const write = (va: number) => () => mmu.translate(va, Access.Write);
  const outcomes: Outcome[] = [
    attempt(mmu, `kernel read ${formatLinear(KERNEL_REGION)}`, 0, "ok", read(KERNEL_REGION)),
    attempt(mmu, `driver read ${formatLinear(DRIVER_REGION)}`, 3, "ok", read(DRIVER_REGION + 0x40)),
    attempt(mmu, `driver write ${formatLinear(DRIVER_REGION + 0x40)}`, 3, "ok", write(DRIVER_REGION + 0x40)),
    attempt(mmu, `driver reads kernel ${formatLinear(KERNEL_REGION)}`, 3, "#PF 0x5", read(KERNEL_REGION)),
    attempt(
      mmu,
      `driver writes read-only ${formatLinear(DRIVER_RO_PAGE)}`,
      3,
      "#PF 0x7",
      write(DRIVER_RO_PAGE),
    ),
    attempt(
      mmu,
      `driver reads unmapped ${formatLinear(DRIVER_REGION + 0x10_0000)}`,
      3,
      "#PF 0x4",
      read(DRIVER_REGION + 0x10_0000),
    ),
    attempt(mmu, "driver fetches from XD page", 3, "#PF 0x15", () => mmu.translate(XD_PAGE, Access.Fetch)),
    attempt(mmu, "driver loads non-canonical pointer", 3, "#GP(0)", () => mmu.loadPtr(DRIVER_REGION + 0x108)),
  ];
  mmu.writeCr4(CR4_PAE | CR4_SMAP);
  outcomes.push(attempt(mmu, "kernel reads driver page, SMAP, AC=0", 0, "#PF 0x1", read(DRIVER_REGION)));
  mmu.ac = true;
  outcomes.push(attempt(mmu, "kernel reads driver page, SMAP, AC=1 (stac)", 0, "ok", read(DRIVER_REGION)));
  mmu.ac = false;
  return { outcomes, stats: { ...mmu.tlb.stats } };
}

/** The `paging` command: prints the outcomes and TLB statistics as tables. Returns the exit code. */
export function pagingCommand(): number {
  const { outcomes, stats } = runPagingScenario();
  const table = new Table({
    head: ["access", "CPL", "expected", "outcome"],
    wordWrap: true,
    colWidths: [46, 5, 10, 70],
  });
  for (const o of outcomes) table.push([o.what, o.cpl, o.expected, o.result]);
  console.log(table.toString());
  const t = new Table({ head: Object.keys(stats) });
  t.push(Object.values(stats));
  console.log("TLB statistics");
  console.log(t.toString());
  return 0;
}
