/**
 * copy_from_user / copy_to_user (arch/x86/include/asm/uaccess.h): access_ok on the user range
 * (entirely below TASK_SIZE_MAX), then the copy with user-page access opened for its duration
 * only, as STAC ... CLAC does under SMAP (RFLAGS.AC = 1 around the copy). A #PF during the copy
 * (an unmapped or supervisor page) is caught by the exception-table fixup and becomes -EFAULT:
 * never a kernel crash. Any other exception passes through (it is a kernel bug).
 */
import { CpuException, type Mmu, RFLAGS_AC, X86_TRAP_PF } from "@side-kernel/paging";
import type { Cpu } from "@side-kernel/privilege";
import type { UserAccess } from "../net/stack.js";
import { EFAULT } from "./abi.js";
import { TASK_SIZE_MAX } from "./layout.js";

/** access_ok: [va, va + length) lies in the user half. Never throws. */
export function accessOk(va: number, length: number): boolean {
  return (
    Number.isInteger(va) && Number.isInteger(length) && va >= 0 && length >= 0 && va + length <= TASK_SIZE_MAX
  );
}

/** The direction of a user copy. */
enum CopyKind {
  FromUser,
  ToUserFromKernel,
  ToUserFromHost,
}

/** User copies through a CPU's MMU (the current CR3 decides whose memory). */
export class UserCopy implements UserAccess {
  /** Copies that ended in -EFAULT (bad range or a #PF in the copy). */
  faults = 0;
  /** Bytes copied in and out. */
  bytesIn = 0;
  bytesOut = 0;

  /** `cpu` holds RFLAGS.AC; `mmu` is its MMU (the one whose CR3 is the current process's). */
  constructor(
    private readonly cpu: Cpu,
    private readonly mmu: Mmu,
  ) {}

  private stac(): void {
    this.cpu.rflags = this.cpu.rflags | RFLAGS_AC;
  }

  private clac(): void {
    this.cpu.rflags = this.cpu.rflags & ~RFLAGS_AC;
  }

  /**
   * One user copy of `length` bytes at `userVa`, in direction `kind`: access_ok, STAC, the copy,
   * CLAC. Returns 0, or -EFAULT for a bad range or a #PF during the copy; rethrows anything else.
   */
  private copyUser(
    kind: CopyKind,
    userVa: number,
    buffer: Uint8Array | null,
    bufferOffset: number,
    kernelVa: number,
    length: number,
  ): number {
    if (!accessOk(userVa, length)) {
      this.faults++;
      return -EFAULT;
    }
    if (length === 0) return 0;
    this.stac();
    try {
      if (kind === CopyKind.FromUser) this.mmu.readBytes(userVa, buffer!, bufferOffset, length);
      else if (kind === CopyKind.ToUserFromKernel) this.mmu.copy(userVa, kernelVa, length);
      else this.mmu.writeBytes(userVa, buffer!, bufferOffset, length);
    } catch (e) {
      if (e instanceof CpuException && e.vector === X86_TRAP_PF) {
        this.faults++;
        return -EFAULT;
      }
      throw e;
    } finally {
      this.clac();
    }
    if (kind === CopyKind.FromUser) this.bytesIn += length;
    else this.bytesOut += length;
    return 0;
  }

  /** copy_from_user into `dst[dstOffset..]`. Returns 0 or -EFAULT; throws RangeError for a bad host range. */
  copyFromUser(dst: Uint8Array, dstOffset: number, userVa: number, length: number): number {
    return this.copyUser(CopyKind.FromUser, userVa, dst, dstOffset, 0, length);
  }

  /** copy_to_user from kernel linear `kernelVa`. Returns 0 or -EFAULT. */
  copyToUser(userVa: number, kernelVa: number, length: number): number {
    return this.copyUser(CopyKind.ToUserFromKernel, userVa, null, 0, kernelVa, length);
  }

  /** copy_to_user from a host buffer (kernel data built in JS). Returns 0 or -EFAULT. */
  copyBytesToUser(userVa: number, src: Uint8Array, srcOffset: number, length: number): number {
    return this.copyUser(CopyKind.ToUserFromHost, userVa, src, srcOffset, 0, length);
  }
}
