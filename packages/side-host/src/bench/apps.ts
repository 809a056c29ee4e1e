/**
 * Benchmark applications, run as user processes (src/user): a UDP sender like netperf's
 * UDP_STREAM (sendto of N datagrams of one size to the peer) and a UDP receiver (a recvfrom
 * loop that checks sequence numbers). Each is a state machine: one system call per step.
 *
 * Payload format (net-nic's traffic format, so a Sink can check it): bytes 0-3 the sequence
 * number and 4-11 the simulated send time in ns, both big-endian.
 */
import { parseIpv4 } from "@side-kernel/net-nic";
import {
  AF_INET,
  ERESTARTSYS,
  IPV4_ADDR_LEN,
  SIN_ADDR,
  SIN_FAMILY,
  SIN_PORT,
  SOCK_DGRAM,
  SOCKADDR_IN_SIZE,
  SYS_bind,
  SYS_close,
  SYS_exit,
  SYS_recvfrom,
  SYS_sendto,
  SYS_socket,
} from "../user/abi.js";
import type { Process, UserProgram } from "../user/process.js";

/** Sequence number (4) + timestamp (8): the smallest payload the apps use. */
export const APP_HEADER_LEN = 12;
/** Offsets in the app's data pages: sockaddr at 0, socklen at 32, payload buffer at 64. */
const ADDR_OFF = 0;
const ADDRLEN_OFF = 32;
const BUF_OFF = 64;
/** Payload offsets of the send timestamp's high and low 32-bit words. */
const TS_HI_OFF = 4;
const TS_LO_OFF = 8;
/** Largest UDP payload the apps handle (an Ethernet MTU of 1500 minus IPv4 and UDP headers). */
export const MAX_APP_PAYLOAD = 1472;
const TWO_32 = 0x1_0000_0000;

/** Something that tells simulated time (the kernel; user code would read the vDSO clock). */
export interface TimeSource {
  readonly nowNs: number;
}

/** Writes a sockaddr_in for ip:port at user `va` with user-mode stores. */
function writeSockaddr(p: Process, va: number, ip: number, port: number): void {
  for (let i = 0; i < SOCKADDR_IN_SIZE; i++) p.store8(va + i, 0);
  p.store8(va + SIN_FAMILY, AF_INET);
  p.store8(va + SIN_PORT, port >>> 8);
  p.store8(va + SIN_PORT + 1, port & 0xff);
  for (let i = 0; i < IPV4_ADDR_LEN; i++) p.store8(va + SIN_ADDR + i, (ip >>> (24 - 8 * i)) & 0xff);
}

/** A 32-bit value in network byte order as the little-endian word store32 writes. */
function bswap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** The phases both apps end with: close the socket, exit, done. */
type Ending = "close" | "exit" | "done";

/**
 * What both apps share: the socket, the first error, and the socket -> ... -> close -> exit
 * life cycle. A subclass runs its own phases and calls `openSocket` and `finish`.
 */
abstract class UdpSocketApp<Phase extends string> implements UserProgram {
  abstract readonly name: string;
  /** The first error a call returned (negative errno), or 0. */
  error = 0;
  /** Where the app is in its life cycle. */
  phase: Phase | Ending;
  protected fd = -1;

  constructor(first: Phase) {
    this.phase = first;
  }

  abstract step(p: Process): void;

  /** socket(AF_INET, SOCK_DGRAM): true with `fd` set, or false after `fail`. */
  protected openSocket(p: Process): boolean {
    const fd = p.syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
      this.fail(fd);
      return false;
    }
    this.fd = fd;
    return true;
  }

  /** Runs the "close" or "exit" phase (one system call); does nothing in any other phase. */
  protected finish(p: Process): void {
    if (this.phase === "close") {
      const r = p.syscall(SYS_close, this.fd);
      if (r < 0) this.fail(r);
      else this.phase = "exit";
    } else if (this.phase === "exit") {
      this.phase = "done";
      p.syscall(SYS_exit, this.error === 0 ? 0 : 1);
    }
  }

  /** Remember the first error and go straight to exit. */
  protected fail(errno: number): void {
    if (this.error === 0) this.error = errno;
    this.phase = "exit";
  }
}

/** Options of `UdpSenderApp`. */
export interface UdpSenderOptions {
  /** Datagrams to send. */
  count: number;
  /** UDP payload bytes, APP_HEADER_LEN..MAX_APP_PAYLOAD. */
  payloadSize: number;
  /** Destination (default 10.0.0.2:9, the discard port). */
  dstIp?: string;
  dstPort?: number;
  /** Timestamps for the payload. */
  clock: TimeSource;
}

/** netperf UDP_STREAM-style sender: socket, then `count` sendto calls, close, exit. */
export class UdpSenderApp extends UdpSocketApp<"socket" | "send"> {
  readonly name = "udp-send";
  /** Datagrams sendto accepted. */
  sent = 0;
  private stamped = false;
  private readonly dstIp: number;
  private readonly dstPort: number;

  /** Throws RangeError for a bad count, payload size, address or port. */
  constructor(private readonly o: UdpSenderOptions) {
    super("socket");
    if (!Number.isInteger(o.count) || o.count < 0) throw new RangeError(`UdpSenderApp: bad count ${o.count}`);
    if (!Number.isInteger(o.payloadSize) || o.payloadSize < APP_HEADER_LEN || o.payloadSize > MAX_APP_PAYLOAD)
      throw new RangeError(
        `UdpSenderApp: payloadSize ${o.payloadSize} is not ${APP_HEADER_LEN}..${MAX_APP_PAYLOAD}`,
      );
    this.dstIp = parseIpv4(o.dstIp ?? "10.0.0.2");
    this.dstPort = o.dstPort ?? 9;
    if (!Number.isInteger(this.dstPort) || this.dstPort < 1 || this.dstPort > 0xffff)
      throw new RangeError(`UdpSenderApp: bad port ${this.dstPort}`);
  }

  /** One step: one system call (plus the user-mode work before it). */
  step(p: Process): void {
    const base = p.dataBase;
    switch (this.phase) {
      case "socket": {
        if (!this.openSocket(p)) return;
        writeSockaddr(p, base + ADDR_OFF, this.dstIp, this.dstPort);
        this.phase = this.o.count > 0 ? "send" : "close";
        return;
      }
      case "send": {
        const buf = base + BUF_OFF;
        if (!this.stamped) {
          // user code fills the payload header: sequence number and send time, big-endian
          const t = Math.floor(this.o.clock.nowNs);
          p.store32(buf, bswap32(this.sent));
          p.store32(buf + TS_HI_OFF, bswap32(Math.floor(t / TWO_32)));
          p.store32(buf + TS_LO_OFF, bswap32(t % TWO_32));
          this.stamped = true;
        }
        const r = p.syscall(
          SYS_sendto,
          this.fd,
          buf,
          this.o.payloadSize,
          0,
          base + ADDR_OFF,
          SOCKADDR_IN_SIZE,
        );
        if (r === -ERESTARTSYS) return; // asleep until the device queue runs; same call next step
        if (r < 0) {
          this.fail(r);
          return;
        }
        this.stamped = false;
        if (++this.sent >= this.o.count) this.phase = "close";
        return;
      }
      default:
        this.finish(p);
    }
  }
}

/** Options of `UdpReceiverApp`. */
export interface UdpReceiverOptions {
  /** Port to bind (default 9). */
  port?: number;
  /** Stop after this many datagrams (default: until `stop()`). */
  count?: number;
  /** Receive buffer size in bytes (default MAX_APP_PAYLOAD). */
  bufferSize?: number;
  /** Timestamps of receipt. */
  clock: TimeSource;
}

/** A recvfrom loop checking sequence numbers: counts datagrams, gaps and reordering. */
export class UdpReceiverApp extends UdpSocketApp<"socket" | "bind" | "recv"> {
  readonly name = "udp-recv";
  /** Datagrams received. */
  received = 0;
  /** Payload bytes received. */
  bytes = 0;
  /** Sequence numbers skipped (lost before the app). */
  gaps = 0;
  /** Datagrams whose sequence number was below the next expected one. */
  outOfOrder = 0;
  /** Datagrams shorter than the app header. */
  runts = 0;
  /** Simulated time of the first and last receipt (ns; -1 before any). */
  firstRxNs = -1;
  lastRxNs = -1;
  /** Receipt time minus the payload's send timestamp, per datagram with a full app header (ns). */
  readonly latenciesNs: number[] = [];
  private nextSeq = 0;
  private stopping = false;
  private readonly port: number;
  private readonly count: number;
  private readonly bufferSize: number;

  /** Throws RangeError for a bad port, count or buffer size. */
  constructor(private readonly o: UdpReceiverOptions) {
    super("socket");
    this.port = o.port ?? 9;
    this.count = o.count ?? Number.POSITIVE_INFINITY;
    this.bufferSize = o.bufferSize ?? MAX_APP_PAYLOAD;
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 0xffff)
      throw new RangeError(`UdpReceiverApp: bad port ${this.port}`);
    if (!(this.count >= 0)) throw new RangeError(`UdpReceiverApp: bad count ${o.count}`);
    if (
      !Number.isInteger(this.bufferSize) ||
      this.bufferSize < APP_HEADER_LEN ||
      this.bufferSize > MAX_APP_PAYLOAD
    )
      throw new RangeError(
        `UdpReceiverApp: bufferSize ${this.bufferSize} is not ${APP_HEADER_LEN}..${MAX_APP_PAYLOAD}`,
      );
  }

  /** True once bound and waiting for datagrams. */
  get ready(): boolean {
    return this.phase === "recv";
  }

  /** Ask the receiver to close and exit at its next step (wake it if it sleeps). */
  stop(p: Process): void {
    this.stopping = true;
    p.wake();
  }

  /** One step: one system call (plus the user-mode work after it). */
  step(p: Process): void {
    const base = p.dataBase;
    switch (this.phase) {
      case "socket": {
        if (!this.openSocket(p)) return;
        writeSockaddr(p, base + ADDR_OFF, 0, this.port);
        this.phase = "bind";
        return;
      }
      case "bind": {
        const r = p.syscall(SYS_bind, this.fd, base + ADDR_OFF, SOCKADDR_IN_SIZE);
        if (r < 0) {
          this.fail(r);
          return;
        }
        this.phase = this.count > 0 ? "recv" : "close";
        return;
      }
      case "recv": {
        if (this.stopping) {
          this.phase = "close";
          this.step(p);
          return;
        }
        const buf = base + BUF_OFF;
        if (!p.inKernel) p.store32(base + ADDRLEN_OFF, SOCKADDR_IN_SIZE);
        const r = p.syscall(
          SYS_recvfrom,
          this.fd,
          buf,
          this.bufferSize,
          0,
          base + ADDR_OFF,
          base + ADDRLEN_OFF,
        );
        if (r === -ERESTARTSYS) return; // asleep until a datagram arrives
        if (r < 0) {
          this.fail(r);
          return;
        }
        const now = this.o.clock.nowNs;
        if (this.firstRxNs < 0) this.firstRxNs = now;
        this.lastRxNs = now;
        this.received++;
        this.bytes += r;
        if (r < APP_HEADER_LEN) {
          this.runts++;
        } else {
          const seq = bswap32(p.load32(buf));
          const sentAt = bswap32(p.load32(buf + TS_HI_OFF)) * TWO_32 + bswap32(p.load32(buf + TS_LO_OFF));
          this.latenciesNs.push(now - sentAt);
          if (seq >= this.nextSeq) {
            this.gaps += seq - this.nextSeq;
            this.nextSeq = seq + 1;
          } else {
            this.outOfOrder++;
          }
        }
        if (this.received >= this.count) this.phase = "close";
        return;
      }
      default:
        this.finish(p);
    }
  }
}
