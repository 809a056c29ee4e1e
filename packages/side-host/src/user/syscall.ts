/**
 * The system-call table (xv6's syscall.c style): Linux x86-64 numbers -> handlers, and one
 * fallback, -ENOSYS, for every other number. Handlers get the calling process and the raw
 * argument registers; user pointers are checked and copied with copy_from_user /
 * copy_to_user (src/user/uaccess.ts), so a bad pointer is -EFAULT.
 */
import type { UdpStack } from "../net/stack.js";
import {
  AF_INET,
  EADDRNOTAVAIL,
  EAFNOSUPPORT,
  EAGAIN,
  EBADF,
  EDESTADDRREQ,
  EINVAL,
  EMFILE,
  ENOSYS,
  EOPNOTSUPP,
  EPROTONOSUPPORT,
  ESOCKTNOSUPPORT,
  EXIT_STATUS_MASK,
  IPPROTO_IP,
  IPPROTO_UDP_NUM,
  IPV4_ADDR_LEN,
  MSG_DONTWAIT,
  MSG_TRUNC,
  NR_SYSCALLS,
  SIN_ADDR,
  SIN_FAMILY,
  SIN_PORT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCKADDR_IN_SIZE,
  SOCKLEN_SIZE,
  SYS_bind,
  SYS_close,
  SYS_exit,
  SYS_recvfrom,
  SYS_sendto,
  SYS_socket,
} from "./abi.js";
import type { Process } from "./process.js";
import type { UserCopy } from "./uaccess.js";

/** What a handler can reach. */
export interface SyscallEnv {
  readonly stack: UdpStack;
  readonly uaccess: UserCopy;
  /** End process `p` with `code` (the scheduler reaps it after its step). */
  exit(p: Process, code: number): void;
}

/** A system-call handler: returns the result or a negative errno. */
export type SyscallHandler = (
  env: SyscallEnv,
  p: Process,
  a0: number,
  a1: number,
  a2: number,
  a3: number,
  a4: number,
  a5: number,
) => number;

/** Flags recvfrom and sendto accept. */
const KNOWN_MSG_FLAGS = MSG_DONTWAIT | MSG_TRUNC;
/** Most fds per process (a small RLIMIT_NOFILE). */
export const MAX_FDS = 256;

const addr = new Uint8Array(SOCKADDR_IN_SIZE);

function socketOf(p: Process, fd: number) {
  return Number.isInteger(fd) && fd >= 0 && fd < p.fds.length ? p.fds[fd] : null;
}

/** Reads a struct sockaddr_in from user memory into `addr`. Returns 0, -EINVAL, -EFAULT or -EAFNOSUPPORT. */
function readSockaddr(env: SyscallEnv, ptr: number, len: number): number {
  if (!Number.isInteger(len) || len < SOCKADDR_IN_SIZE) return -EINVAL;
  const rc = env.uaccess.copyFromUser(addr, 0, ptr, SOCKADDR_IN_SIZE);
  if (rc !== 0) return rc;
  if ((addr[SIN_FAMILY] | (addr[SIN_FAMILY + 1] << 8)) !== AF_INET) return -EAFNOSUPPORT;
  return 0;
}

function sinPort(): number {
  return (addr[SIN_PORT] << 8) | addr[SIN_PORT + 1];
}

function sinAddr(): number {
  return (
    ((addr[SIN_ADDR] << 24) | (addr[SIN_ADDR + 1] << 16) | (addr[SIN_ADDR + 2] << 8) | addr[SIN_ADDR + 3]) >>>
    0
  );
}

/** socket(domain, type, protocol): AF_INET + SOCK_DGRAM (+ NONBLOCK/CLOEXEC) + 0 or UDP only. */
function sysSocket(env: SyscallEnv, p: Process, domain: number, type: number, protocol: number): number {
  if (domain !== AF_INET) return -EAFNOSUPPORT;
  if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== SOCK_DGRAM) return -ESOCKTNOSUPPORT;
  if (protocol !== IPPROTO_IP && protocol !== IPPROTO_UDP_NUM) return -EPROTONOSUPPORT;
  let fd = p.fds.indexOf(null);
  if (fd < 0) fd = p.fds.length;
  if (fd >= MAX_FDS) return -EMFILE;
  const s = env.stack.socket();
  if (typeof s === "number") return s;
  p.fds[fd] = s;
  p.fdNonblock[fd] = (type & SOCK_NONBLOCK) !== 0;
  return fd;
}

/** bind(fd, addr, addrlen). */
function sysBind(env: SyscallEnv, p: Process, fd: number, ptr: number, len: number): number {
  const s = socketOf(p, fd);
  if (s === null) return -EBADF;
  const rc = readSockaddr(env, ptr, len);
  if (rc !== 0) return rc;
  return env.stack.bind(s, sinAddr(), sinPort());
}

/** sendto(fd, buf, len, flags, dest_addr, addrlen): no connect(), so dest_addr is required. */
function sysSendto(
  env: SyscallEnv,
  p: Process,
  fd: number,
  buf: number,
  len: number,
  flags: number,
  dest: number,
  destLen: number,
): number {
  const s = socketOf(p, fd);
  if (s === null) return -EBADF;
  if ((flags & ~KNOWN_MSG_FLAGS) !== 0) return -EOPNOTSUPP;
  if (dest === 0) return -EDESTADDRREQ;
  const rc = readSockaddr(env, dest, destLen);
  if (rc !== 0) return rc;
  const ip = sinAddr();
  if (ip === 0) return -EADDRNOTAVAIL;
  const r = env.stack.sendto(s, buf, len, ip, sinPort(), env.uaccess);
  if (r === -EAGAIN && !p.fdNonblock[fd] && (flags & MSG_DONTWAIT) === 0) return p.sleepOn(env.stack.txWait);
  return r;
}

/** recvfrom(fd, buf, len, flags, src_addr, addrlen*). */
function sysRecvfrom(
  env: SyscallEnv,
  p: Process,
  fd: number,
  buf: number,
  len: number,
  flags: number,
  src: number,
  srcLenPtr: number,
): number {
  const s = socketOf(p, fd);
  if (s === null) return -EBADF;
  if ((flags & ~KNOWN_MSG_FLAGS) !== 0) return -EOPNOTSUPP;
  let srcLen = 0;
  if (src !== 0) {
    const rc = env.uaccess.copyFromUser(addr, 0, srcLenPtr, SOCKLEN_SIZE);
    if (rc !== 0) return rc;
    srcLen = (addr[0] | (addr[1] << 8) | (addr[2] << 16) | (addr[3] << 24)) >>> 0;
  }
  const r = env.stack.recvfrom(s, buf, len, env.uaccess, (flags & MSG_TRUNC) !== 0);
  if (r === -EAGAIN && !p.fdNonblock[fd] && (flags & MSG_DONTWAIT) === 0) return p.sleepOn(s.rxWait);
  if (r < 0 || src === 0) return r;
  addr.fill(0);
  addr[SIN_FAMILY] = AF_INET;
  addr[SIN_PORT] = s.lastSrcPort >>> 8;
  addr[SIN_PORT + 1] = s.lastSrcPort & 0xff;
  for (let i = 0; i < IPV4_ADDR_LEN; i++) addr[SIN_ADDR + i] = (s.lastSrcIp >>> (24 - 8 * i)) & 0xff;
  const n = Math.min(srcLen, SOCKADDR_IN_SIZE);
  let rc = env.uaccess.copyBytesToUser(src, addr, 0, n);
  if (rc === 0) {
    addr[0] = SOCKADDR_IN_SIZE;
    addr[1] = 0;
    addr[2] = 0;
    addr[3] = 0;
    rc = env.uaccess.copyBytesToUser(srcLenPtr, addr, 0, SOCKLEN_SIZE);
  }
  return rc !== 0 ? rc : r;
}

/** close(fd). */
function sysClose(env: SyscallEnv, p: Process, fd: number): number {
  const s = socketOf(p, fd);
  if (s === null) return -EBADF;
  env.stack.close(s);
  p.fds[fd] = null;
  return 0;
}

/** exit(code): the low 8 bits are the status. */
function sysExit(env: SyscallEnv, p: Process, code: number): number {
  env.exit(p, code & EXIT_STATUS_MASK);
  return 0;
}

/** The table: index = Linux x86-64 system-call number. */
export const SYSCALL_TABLE: readonly (SyscallHandler | null)[] = (() => {
  const t: (SyscallHandler | null)[] = new Array(NR_SYSCALLS).fill(null);
  t[SYS_close] = sysClose as SyscallHandler;
  t[SYS_socket] = sysSocket as SyscallHandler;
  t[SYS_sendto] = sysSendto;
  t[SYS_recvfrom] = sysRecvfrom;
  t[SYS_bind] = sysBind as SyscallHandler;
  t[SYS_exit] = sysExit as SyscallHandler;
  return Object.freeze(t);
})();

/** Names of the implemented calls, by number (for traces and reports). */
export const SYSCALL_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [SYS_close]: "close",
  [SYS_socket]: "socket",
  [SYS_sendto]: "sendto",
  [SYS_recvfrom]: "recvfrom",
  [SYS_bind]: "bind",
  [SYS_exit]: "exit",
});

/**
 * Dispatch `nr` through SYSCALL_TABLE. Returns the handler's result, or -ENOSYS for a number
 * outside the table or without a handler (never throws for a bad number).
 */
export function dispatchSyscall(
  env: SyscallEnv,
  p: Process,
  nr: number,
  a0: number,
  a1: number,
  a2: number,
  a3: number,
  a4: number,
  a5: number,
): number {
  const h = Number.isInteger(nr) && nr >= 0 && nr < NR_SYSCALLS ? SYSCALL_TABLE[nr] : null;
  if (h === null) return -ENOSYS;
  return h(env, p, a0, a1, a2, a3, a4, a5);
}
