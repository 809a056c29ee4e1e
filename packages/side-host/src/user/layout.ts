/**
 * The user half of a process address space (Linux x86-64 conventions, 4-level paging):
 *
 *   0x000000000000 .. 0x0000003fffff   unmapped (NULL guard)
 *   0x000000400000                     code: CODE_PAGES pages, user, read-only, executable
 *                                      (the ELF default load address of a non-PIE binary)
 *   0x000010000000                     data: the program's buffers, user, RW, NX
 *   ...                                unmapped
 *   USER_STACK_TOP - stack size        stack: user, RW, NX, growing down
 *   0x7ffffffff000                     TASK_SIZE_MAX: the last user page boundary; a user
 *                                      pointer at or above it is -EFAULT (access_ok)
 *   0x800000000000 ..                  kernel half: root slots 256..511 shared with the kernel
 *                                      (supervisor), so kernel code runs in any process's CR3
 */

/** Linux TASK_SIZE_MAX on x86-64 with 4-level paging: (1 << 47) - 4096. */
export const TASK_SIZE_MAX = 0x7fff_ffff_f000;
/** Where a process's code is mapped (the ELF non-PIE default, 0x400000). */
export const USER_CODE_BASE = 0x40_0000;
/** Where a process's data buffers start. */
export const USER_DATA_BASE = 0x1000_0000;
/** Top of the user stack (one guard page below TASK_SIZE_MAX). */
export const USER_STACK_TOP = TASK_SIZE_MAX - 0x1000;
/** Pages of (placeholder) code per process. */
export const CODE_PAGES = 1;
/** Default data pages per process (64 KiB). */
export const DEFAULT_DATA_PAGES = 16;
/** Default stack pages (8 KiB, Linux's minimum stack is larger; programs here are shallow). */
export const DEFAULT_STACK_PAGES = 2;
/** Most data pages a process may ask for (16 MiB). */
export const MAX_DATA_PAGES = 4096;
