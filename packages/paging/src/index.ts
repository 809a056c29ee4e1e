/**
 * @side-kernel/paging: physical memory, a frame allocator, x86-64 4-level page tables kept in
 * simulated memory, a TLB with PCIDs and global pages, and an MMU with exact #PF error codes.
 */
export * from "./bits.js";
export * from "./exceptions.js";
export * from "./frames.js";
export * from "./layout.js";
export * from "./limits.js";
export * from "./memory.js";
export * from "./mmu.js";
export * from "./page-table.js";
export * from "./pte.js";
export * from "./regs.js";
export * from "./tlb.js";
