/**
 * The Linux x86-64 user ABI the simulated processes see: system-call numbers
 * (arch/x86/entry/syscalls/syscall_64.tbl), errno values (include/uapi/asm-generic/errno-base.h
 * and errno.h), socket constants (include/linux/socket.h, include/linux/net.h) and the layout
 * of struct sockaddr_in (include/uapi/linux/in.h).
 */
export { EAGAIN, EFAULT, EINVAL, ENOMEM } from "@side-kernel/kservice";

/** close(2): 3. */
export const SYS_close = 3;
/** socket(2): 41. */
export const SYS_socket = 41;
/** sendto(2): 44. */
export const SYS_sendto = 44;
/** recvfrom(2): 45. */
export const SYS_recvfrom = 45;
/** bind(2): 49. */
export const SYS_bind = 49;
/** exit(2): 60. */
export const SYS_exit = 60;
/** Entries of the system-call table (NR_syscalls on x86-64 is about 460; we size the table so). */
export const NR_SYSCALLS = 512;

/** Bad file descriptor. */
export const EBADF = 9;
/** Too many open files. */
export const EMFILE = 24;
/** Function not implemented: an unknown system-call number. */
export const ENOSYS = 38;
/** Socket operation on non-socket. */
export const ENOTSOCK = 88;
/** Destination address required. */
export const EDESTADDRREQ = 89;
/** Message too long (a datagram beyond the MTU: no fragmentation here). */
export const EMSGSIZE = 90;
/** Protocol not supported. */
export const EPROTONOSUPPORT = 93;
/** Socket type not supported. */
export const ESOCKTNOSUPPORT = 94;
/** Operation not supported (e.g. unknown flags). */
export const EOPNOTSUPP = 95;
/** Address family not supported by protocol. */
export const EAFNOSUPPORT = 97;
/** Address already in use. */
export const EADDRINUSE = 98;
/** Cannot assign requested address. */
export const EADDRNOTAVAIL = 99;
/** Network is down. */
export const ENETDOWN = 100;
/** Network is unreachable. */
export const ENETUNREACH = 101;
/** No route to host. */
export const EHOSTUNREACH = 113;
/**
 * Kernel-internal "restart the system call" (include/linux/errno.h ERESTARTSYS = 512): never
 * returned to user space. Here it tells a program that its process went to sleep inside the
 * call, and that it must issue the same call again on its next step.
 */
export const ERESTARTSYS = 512;

/** AF_INET: 2. */
export const AF_INET = 2;
/** SOCK_DGRAM: 2. */
export const SOCK_DGRAM = 2;
/** IPPROTO_IP (0, "the default protocol for the type") and IPPROTO_UDP (17). */
export const IPPROTO_IP = 0;
export const IPPROTO_UDP_NUM = 17;
/** Type flags that may be or-ed into socket()'s type: SOCK_NONBLOCK 0o4000, SOCK_CLOEXEC 0o2000000. */
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
/** MSG_DONTWAIT: 0x40. */
export const MSG_DONTWAIT = 0x40;
/** MSG_TRUNC: 0x20 (recvfrom returns the real datagram length). */
export const MSG_TRUNC = 0x20;

/** struct sockaddr_in: sin_family u16 (host order), sin_port u16 (network order), sin_addr u32 (network order), 8 bytes zero. */
export const SOCKADDR_IN_SIZE = 16;
export const SIN_FAMILY = 0;
export const SIN_PORT = 2;
export const SIN_ADDR = 4;
/** socklen_t: a 32-bit unsigned integer (little-endian on x86-64). */
export const SOCKLEN_SIZE = 4;
/** Bytes of an IPv4 address. */
export const IPV4_ADDR_LEN = 4;
/** exit(2) keeps the low 8 bits of the status (WEXITSTATUS). */
export const EXIT_STATUS_MASK = 0xff;
