/**
 * A small MMU for the tests: page-granular mapped/unmapped, user/supervisor pages, and the
 * #PF error codes of hardware.md 1.5, so delivery tests can read frames back and see faults.
 * (@side-kernel/paging's Mmu satisfies the same CpuMmu interface; this double keeps these
 * tests independent of its page-table layout.)
 */
import {
  DEFAULT_CR0,
  DEFAULT_CR4,
  DEFAULT_EFER,
  PageFault,
  PF_PROT,
  PF_USER,
  PF_WRITE,
} from "@side-kernel/paging";
import type { CpuMmu } from "../src/index.js";

const PAGE = 4096;

export class TestMmu implements CpuMmu {
  cpl = 0;
  ac = false;
  cr0 = DEFAULT_CR0;
  cr3 = 0;
  cr4 = DEFAULT_CR4;
  efer = DEFAULT_EFER;
  accesses = 0;
  mmioReads = 0;
  mmioWrites = 0;
  readonly tlb = { stats: { hits: 0, misses: 0, walks: 0, flushes: 0, invalidations: 0 } };
  readonly cr3Writes: { value: number; noFlush: boolean }[] = [];
  readonly invalidated: number[] = [];
  private readonly pages = new Map<number, { user: boolean; data: DataView }>();

  /** Maps [va, va + bytes) as zeroed pages, user-accessible or not. */
  map(va: number, bytes: number, user = false): void {
    for (let p = Math.floor(va / PAGE); p * PAGE < va + bytes; p++) {
      this.pages.set(p, { user, data: new DataView(new ArrayBuffer(PAGE)) });
    }
  }

  private page(va: number, write: boolean) {
    const user = this.cpl === 3;
    const e = this.pages.get(Math.floor(va / PAGE));
    const code = (write ? PF_WRITE : 0) | (user ? PF_USER : 0);
    if (e === undefined) throw new PageFault(va, code);
    if (user && !e.user) throw new PageFault(va, code | PF_PROT);
    return e.data;
  }

  load32(va: number): number {
    this.accesses++;
    return this.page(va, false).getUint32(va % PAGE, true);
  }

  store32(va: number, value: number): void {
    this.accesses++;
    this.page(va, true).setUint32(va % PAGE, value, true);
  }

  /** Reads a 64-bit slot as [lo, hi] without counting or checking (test inspection). */
  peek64(va: number): [number, number] {
    const e = this.pages.get(Math.floor(va / PAGE));
    if (e === undefined) throw new Error(`peek of unmapped ${va.toString(16)}`);
    return [e.data.getUint32(va % PAGE, true), e.data.getUint32((va % PAGE) + 4, true)];
  }

  /** Reads a 64-bit slot as a number (exact below 2^53). */
  peek(va: number): number {
    const [lo, hi] = this.peek64(va);
    return hi * 2 ** 32 + lo;
  }

  writeCr0(v: number): void {
    this.cr0 = v;
  }
  writeCr3(value: number, noFlush = false): void {
    this.cr3 = value;
    this.cr3Writes.push({ value, noFlush });
    if (!noFlush) this.tlb.stats.flushes++;
  }
  writeCr4(v: number): void {
    this.cr4 = v;
  }
  writeEfer(v: number): void {
    this.efer = v;
  }
  invlpg(va: number): void {
    this.invalidated.push(va);
  }
  invpcid(_type: number, _pcid: number, va: number): void {
    this.invalidated.push(va);
  }
}
