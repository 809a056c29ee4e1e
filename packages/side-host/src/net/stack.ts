/**
 * A minimal UDP/IPv4 stack on the kernel's netdev seam (kernel.net, see src/netdev.ts NOTES):
 * one interface with a static address (10.0.0.1/24) and one static neighbour entry (the link
 * peer, 10.0.0.2 at 02:00:00:00:00:02), IPv4 header build and validation, UDP with the
 * pseudo-header checksum (verified on receive; bad ones dropped and counted), and sockets with
 * a bounded receive queue of skbs (SO_RCVBUF: a datagram that does not fit is dropped and
 * counted, as Linux's UDP RcvbufErrors).
 *
 * Send path (udp_sendmsg -> ip_output -> dev_queue_xmit): an skb from `allocSkb`, the payload
 * copied from user memory together with the checksum (Linux's csum_and_copy_from_user), the
 * Ethernet, IPv4 and UDP headers written in front, `xmit`. When the device queue is stopped the
 * caller gets -EAGAIN and may sleep on `txWait` (the system-call layer does); the queue's wake
 * is observed by `pollTxWake` (NetCore has no wake notifier; the process scheduler polls it
 * between steps, a cheap field read).
 *
 * Receive path (the `protocolHandler` hook, after eth_type_trans): validate IPv4 (version,
 * IHL, total length, header checksum, TTL, fragments, destination, protocol) and UDP (length,
 * checksum), find the socket by port, queue the skb on it and wake its readers. Every skb is
 * freed: when dropped, when read by `recvfrom`, or when its socket closes.
 *
 * Costs: `stackTxPerPacket` / `stackRxPerPacket` / `stackRecvmsgPerPacket` to "stack" (labelled
 * estimates, src/net/limits.ts), copies at the cost model's copy bandwidth to "copy", and the
 * receive checksum pass at the same bandwidth to "stack". Memory accesses through the MMU are
 * charged by the kernel at its boundaries.
 */
import { NetDevice, SkBuff } from "@side-kernel/kservice";
import {
  checksumAdd,
  ETHERTYPE_IPV4,
  finishChecksum,
  IPPROTO_UDP,
  IPV4_HEADER_LEN,
  parseIpv4,
  parseMac,
  UDP_HEADER_LEN,
  udpChecksum,
  writeIpv4Header,
  writeUdpHeader,
} from "@side-kernel/net-nic";
import { copyCycles } from "@side-kernel/privilege";
import type { Kernel } from "../kernel.js";
import type { NetdevRecord } from "../netdev.js";
import {
  EADDRINUSE,
  EADDRNOTAVAIL,
  EAGAIN,
  EHOSTUNREACH,
  EINVAL,
  EMFILE,
  EMSGSIZE,
  ENETDOWN,
  ENETUNREACH,
  ENOMEM,
} from "../user/abi.js";
import {
  DEFAULT_LOCAL_IP,
  DEFAULT_PEER_IP,
  DEFAULT_PEER_MAC,
  DEFAULT_PREFIX_LEN,
  DEFAULT_RCVBUF,
  DEFAULT_STACK_COSTS,
  EPHEMERAL_PORT_FIRST,
  EPHEMERAL_PORT_LAST,
  MAX_SOCKETS,
  MIN_RCVBUF,
  type StackCosts,
} from "./limits.js";
import { WaitQueue } from "./wait.js";

/** Shortest Ethernet frame without FCS (IEEE 802.3 ETH_ZLEN): 60. */
const ETH_ZLEN = 60;
/** Ethernet header length (IEEE 802.3): 14. */
const ETH_HLEN = 14;
/** Offset of the EtherType in an Ethernet header. */
const ETH_TYPE_OFFSET = 12;
/** Bytes of a MAC address. */
const ETH_ALEN = 6;
/** Headers in front of a UDP payload: Ethernet 14 + IPv4 20 + UDP 8 = 42. */
const UDP_FRAME_OVERHEAD = ETH_HLEN + IPV4_HEADER_LEN + UDP_HEADER_LEN;
/** IPv4 version field value. */
const IPV4_VERSION = 4;
/** IPv4 flags/fragment-offset word: MF bit 0x2000 and the 13-bit offset mask 0x1fff (RFC 791). */
const IPV4_MF = 0x2000;
const IPV4_FRAG_OFFSET_MASK = 0x1fff;
/** Limited broadcast 255.255.255.255. */
const IPV4_BROADCAST = 0xffff_ffff;
/** Largest port number. */
const PORT_MAX = 0xffff;
/** Largest IPv4 datagram (total length is 16 bits). */
const IPV4_MAX_TOTAL = 0xffff;
/**
 * IPv4 header field offsets (RFC 791): version/IHL 0, total length 2, flags/fragment offset 6,
 * TTL 8, protocol 9, source 12, destination 16. IHL counts 32-bit words.
 */
const IP_VER_IHL = 0;
const IP_TOTAL_LENGTH = 2;
const IP_FRAG = 6;
const IP_TTL = 8;
const IP_PROTOCOL = 9;
const IP_SRC = 12;
const IP_DST = 16;
const IHL_MASK = 0xf;
const IHL_UNIT = 4;
/** UDP header field offsets (RFC 768): source port 0, destination port 2, length 4, checksum 6. */
const UDP_SRC_PORT = 0;
const UDP_DST_PORT = 2;
const UDP_LENGTH = 4;
const UDP_CHECKSUM = 6;
/** The IPv4 identification field is 16 bits. */
const IP_ID_MASK = 0xffff;
/** Bits in an IPv4 address. */
const IPV4_BITS = 32;

/** Big-endian 16-bit field at `o`. */
function be16(f: Uint8Array, o: number): number {
  return (f[o] << 8) | f[o + 1];
}

/** Big-endian 32-bit field at `o`, as an unsigned number. */
function be32(f: Uint8Array, o: number): number {
  return ((f[o] << 24) | (f[o + 1] << 16) | (f[o + 2] << 8) | f[o + 3]) >>> 0;
}

/** Fields per queued datagram in a socket's receive ring: skb, src ip, src port, truesize, payload offset from skb data, payload length. */
const RQ_FIELDS = 6;
/** Initial capacity of a receive ring (datagrams); it doubles when needed. */
const RQ_INITIAL = 64;

/** Copies between user memory and the kernel, with the user-access rules applied (src/user/uaccess.ts). */
export interface UserAccess {
  /** Copy `length` bytes at user `userVa` into `dst[dstOffset..]`. Returns 0 or -EFAULT. */
  copyFromUser(dst: Uint8Array, dstOffset: number, userVa: number, length: number): number;
  /** Copy `length` bytes at kernel `kernelVa` to user `userVa`. Returns 0 or -EFAULT. */
  copyToUser(userVa: number, kernelVa: number, length: number): number;
}

/** Options of `new UdpStack`. */
export interface UdpStackOptions {
  /** The interface (default "eth0"); it may be registered later, it is looked up per packet. */
  dev?: string;
  /** The interface's address (default 10.0.0.1). */
  localIp?: string;
  /** Prefix length of its subnet, 0..32 (default 24). */
  prefixLen?: number;
  /** The static neighbour's address (default 10.0.0.2). */
  peerIp?: string;
  /** The static neighbour's MAC (default 02:00:00:00:00:02). */
  peerMac?: string;
  /** Default SO_RCVBUF of new sockets in bytes of truesize (default 212992). */
  rcvbuf?: number;
  /** Per-packet cost overrides. */
  costs?: Partial<StackCosts>;
}

/** Counters of the stack (Linux's /proc/net/snmp names where there is one). */
export interface StackCounters {
  /** IP datagrams handed to the stack (InReceives). */
  ipInReceives: number;
  /** Dropped: not IPv4, bad version, IHL or total length (InHdrErrors, length part). */
  ipInHdrErrors: number;
  /** Dropped: bad IPv4 header checksum (InCsumErrors). */
  ipInCsumErrors: number;
  /** Dropped: TTL 0. */
  ipInTtlErrors: number;
  /** Dropped: fragments (no reassembly here; ReasmFails). */
  ipReasmFails: number;
  /** Dropped: not addressed to us (InAddrErrors). */
  ipInAddrErrors: number;
  /** Dropped: not UDP (InUnknownProtos). */
  ipInUnknownProtos: number;
  /** Datagrams queued on a socket (UDP InDatagrams). */
  udpInDatagrams: number;
  /** Dropped: bad UDP length (InErrors). */
  udpInErrors: number;
  /** Dropped: bad UDP checksum (InCsumErrors). */
  udpInCsumErrors: number;
  /** Dropped: no socket on the port (NoPorts). */
  udpNoPorts: number;
  /** Dropped: the socket's receive queue was full (RcvbufErrors). */
  udpRcvbufErrors: number;
  /** Datagrams sent (OutDatagrams). */
  udpOutDatagrams: number;
  /** sendto calls that found the device queue stopped (-EAGAIN). */
  udpSndBlocked: number;
}

/** A UDP socket (struct sock + struct udp_sock, kernel side). */
export class UdpSocket {
  /** Bound local port, 0 while unbound. */
  localPort = 0;
  /** True after close. */
  closed = false;
  /** SO_RCVBUF in bytes of truesize. */
  rcvbuf: number;
  /** Bytes of truesize queued. */
  queuedBytes = 0;
  /** Readers sleeping for a datagram. */
  readonly rxWait = new WaitQueue();
  /** Source address and port of the datagram the last `shift` returned. */
  lastSrcIp = 0;
  lastSrcPort = 0;
  /** Offset of its payload from skb->data (the headers stay in the skb) and the payload length. */
  lastPayloadOffset = 0;
  lastPayloadLength = 0;
  /** Datagrams queued / read / dropped for lack of room. */
  readonly stats = { queued: 0, read: 0, dropped: 0, sent: 0 };
  private ring = new Float64Array(RQ_INITIAL * RQ_FIELDS);
  private head = 0;
  private count = 0;

  constructor(
    /** Socket id, unique in its stack. */
    readonly id: number,
    rcvbuf: number,
  ) {
    this.rcvbuf = rcvbuf;
  }

  /** Datagrams waiting in the receive queue. */
  get queued(): number {
    return this.count;
  }

  /** @internal Append a datagram; the caller checked room. */
  push(
    skb: number,
    srcIp: number,
    srcPort: number,
    truesize: number,
    payloadOffset: number,
    payloadLength: number,
  ): void {
    const cap = this.ring.length / RQ_FIELDS;
    if (this.count === cap) {
      const bigger = new Float64Array(this.ring.length * 2);
      for (let i = 0; i < this.count; i++) {
        const from = ((this.head + i) % cap) * RQ_FIELDS;
        bigger.set(this.ring.subarray(from, from + RQ_FIELDS), i * RQ_FIELDS);
      }
      this.ring = bigger;
      this.head = 0;
    }
    const at = ((this.head + this.count) % (this.ring.length / RQ_FIELDS)) * RQ_FIELDS;
    const r = this.ring;
    r[at] = skb;
    r[at + 1] = srcIp;
    r[at + 2] = srcPort;
    r[at + 3] = truesize;
    r[at + 4] = payloadOffset;
    r[at + 5] = payloadLength;
    this.count++;
    this.queuedBytes += truesize;
  }

  /** @internal Remove the oldest datagram: returns its skb (0 when empty) and sets lastSrc*. */
  shift(): number {
    if (this.count === 0) return 0;
    const r = this.ring;
    const at = this.head * RQ_FIELDS;
    const skb = r[at];
    this.lastSrcIp = r[at + 1];
    this.lastSrcPort = r[at + 2];
    this.queuedBytes -= r[at + 3];
    this.lastPayloadOffset = r[at + 4];
    this.lastPayloadLength = r[at + 5];
    this.head = (this.head + 1) % (r.length / RQ_FIELDS);
    this.count--;
    return skb;
  }
}

/** The UDP/IPv4 stack. */
export class UdpStack {
  /** The interface name. */
  readonly devName: string;
  /** Our address, prefix and the static neighbour (numbers in host order). */
  readonly localIp: number;
  readonly prefixLen: number;
  readonly peerIp: number;
  readonly peerMac: Uint8Array;
  /** Stack costs in effect. */
  readonly costs: StackCosts;
  /** Senders sleeping until the device queue runs again. */
  readonly txWait = new WaitQueue();
  /** Counters. */
  readonly counters: StackCounters = {
    ipInReceives: 0,
    ipInHdrErrors: 0,
    ipInCsumErrors: 0,
    ipInTtlErrors: 0,
    ipReasmFails: 0,
    ipInAddrErrors: 0,
    ipInUnknownProtos: 0,
    udpInDatagrams: 0,
    udpInErrors: 0,
    udpInCsumErrors: 0,
    udpNoPorts: 0,
    udpRcvbufErrors: 0,
    udpOutDatagrams: 0,
    udpSndBlocked: 0,
  };
  private readonly kn: Kernel;
  private readonly netmask: number;
  private readonly defaultRcvbuf: number;
  private readonly ports = new Map<number, UdpSocket>();
  private readonly sockets = new Set<UdpSocket>();
  private nextSocketId = 1;
  private nextEphemeral = EPHEMERAL_PORT_FIRST;
  private ipId = 0;
  private attached = false;
  /** Staging buffer for one frame (headers + payload): the largest IPv4 datagram plus Ethernet. */
  private readonly scratch = new Uint8Array(ETH_HLEN + IPV4_MAX_TOTAL);
  private readonly onReceive: (skb: number, dev: NetdevRecord) => void;

  /** Builds the stack (not yet attached). Throws RangeError for a bad address, prefix, MAC or rcvbuf. */
  constructor(kernel: Kernel, options: UdpStackOptions = {}) {
    this.kn = kernel;
    this.devName = options.dev ?? "eth0";
    this.localIp = parseIpv4(options.localIp ?? DEFAULT_LOCAL_IP);
    const prefix = options.prefixLen ?? DEFAULT_PREFIX_LEN;
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > IPV4_BITS)
      throw new RangeError(`UdpStack: prefixLen ${String(prefix)} is not 0..${IPV4_BITS}`);
    this.prefixLen = prefix;
    this.netmask = prefix === 0 ? 0 : (IPV4_BROADCAST << (IPV4_BITS - prefix)) >>> 0;
    this.peerIp = parseIpv4(options.peerIp ?? DEFAULT_PEER_IP);
    this.peerMac = parseMac(options.peerMac ?? DEFAULT_PEER_MAC);
    const rcvbuf = options.rcvbuf ?? DEFAULT_RCVBUF;
    if (!Number.isInteger(rcvbuf) || rcvbuf < MIN_RCVBUF)
      throw new RangeError(`UdpStack: rcvbuf ${String(rcvbuf)} is below the minimum ${MIN_RCVBUF}`);
    this.defaultRcvbuf = rcvbuf;
    const costs = { ...DEFAULT_STACK_COSTS, ...options.costs };
    for (const [k, v] of Object.entries(costs)) {
      if (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v))
        throw new RangeError(`UdpStack: cost ${k} must be a finite number >= 0, got ${String(v)}`);
    }
    this.costs = Object.freeze(costs);
    this.onReceive = (skb, dev) => this.receive(skb, dev);
  }

  /** True between `attach` and `detach`. */
  get isAttached(): boolean {
    return this.attached;
  }

  /** Open sockets. */
  get socketCount(): number {
    return this.sockets.size;
  }

  /**
   * Register as the kernel's protocol handler for received skbs. Throws Error when another
   * handler is installed or this stack is already attached.
   */
  attach(): void {
    if (this.attached) throw new Error("UdpStack.attach: already attached");
    if (this.kn.net.protocolHandler !== null)
      throw new Error("UdpStack.attach: another protocol handler is installed");
    this.kn.net.protocolHandler = this.onReceive;
    this.attached = true;
  }

  /** Close every socket (freeing queued skbs) and unregister the handler. No-op when detached. */
  detach(): void {
    if (!this.attached) return;
    for (const s of [...this.sockets]) this.close(s);
    if (this.kn.net.protocolHandler === this.onReceive) this.kn.net.protocolHandler = null;
    this.attached = false;
  }

  // ------------------------------------------------------------------ sockets

  /** socket(AF_INET, SOCK_DGRAM): a new unbound socket, or -EMFILE when MAX_SOCKETS are open. */
  socket(): UdpSocket | number {
    if (this.sockets.size >= MAX_SOCKETS) return -EMFILE;
    const s = new UdpSocket(this.nextSocketId++, this.defaultRcvbuf);
    this.sockets.add(s);
    return s;
  }

  /**
   * bind: `ip` must be 0 (INADDR_ANY) or ours, `port` 0..65535 (0 picks an ephemeral port).
   * Returns 0, -EINVAL (already bound, closed, bad port), -EADDRNOTAVAIL or -EADDRINUSE.
   */
  bind(s: UdpSocket, ip: number, port: number): number {
    if (s.closed || s.localPort !== 0) return -EINVAL;
    if (!Number.isInteger(port) || port < 0 || port > PORT_MAX) return -EINVAL;
    if (ip !== 0 && ip !== this.localIp) return -EADDRNOTAVAIL;
    const p = port === 0 ? this.ephemeralPort() : port;
    if (p === 0 || this.ports.has(p)) return -EADDRINUSE;
    s.localPort = p;
    this.ports.set(p, s);
    return 0;
  }

  private ephemeralPort(): number {
    const span = EPHEMERAL_PORT_LAST - EPHEMERAL_PORT_FIRST + 1;
    for (let i = 0; i < span; i++) {
      const p = this.nextEphemeral;
      this.nextEphemeral = p === EPHEMERAL_PORT_LAST ? EPHEMERAL_PORT_FIRST : p + 1;
      if (!this.ports.has(p)) return p;
    }
    return 0;
  }

  /** close: unbind, free every queued skb, wake sleepers (they see the socket closed). Idempotent. */
  close(s: UdpSocket): void {
    if (s.closed) return;
    s.closed = true;
    if (s.localPort !== 0 && this.ports.get(s.localPort) === s) this.ports.delete(s.localPort);
    for (let skb = s.shift(); skb !== 0; skb = s.shift()) this.kn.net.freeSkb(skb);
    this.sockets.delete(s);
    s.rxWait.wakeAll();
  }

  // ------------------------------------------------------------------ send

  /** The interface if it is registered, else undefined. */
  device(): NetdevRecord | undefined {
    return this.kn.net.byName(this.devName);
  }

  /**
   * If senders sleep on `txWait` and the device queue runs again (or the device went away or
   * down, so they must see the error), wake them. Returns the number woken. Cheap: called by
   * the process scheduler between steps.
   */
  pollTxWake(): number {
    if (this.txWait.length === 0) return 0;
    const d = this.device();
    if (d?.up && d.stopped) return 0;
    return this.txWait.wakeAll();
  }

  /**
   * sendto: one datagram of `length` bytes at user `userVa` to `dstIp`:`dstPort`, through `ua`.
   * An unbound socket is bound to an ephemeral port first. Returns `length`, or -EINVAL (closed,
   * bad port or length), -EMSGSIZE (beyond the MTU: no fragmentation), -ENETUNREACH (outside
   * the subnet), -EHOSTUNREACH (in the subnet but no neighbour entry), -ENETDOWN (interface
   * missing or down), -EAGAIN (the device queue is stopped: the caller may sleep on `txWait`),
   * -EFAULT (bad user buffer), -ENOMEM (no skb) or -EADDRINUSE (no ephemeral port left).
   */
  sendto(
    s: UdpSocket,
    userVa: number,
    length: number,
    dstIp: number,
    dstPort: number,
    ua: UserAccess,
  ): number {
    if (s.closed) return -EINVAL;
    if (!Number.isInteger(dstPort) || dstPort <= 0 || dstPort > PORT_MAX) return -EINVAL;
    if (!Number.isInteger(length) || length < 0) return -EINVAL;
    const d = this.device();
    if (d === undefined || !d.up) return -ENETDOWN;
    const mtu = this.kn.mmu.load32(d.ptr + NetDevice.mtu);
    if (length + IPV4_HEADER_LEN + UDP_HEADER_LEN > mtu) return -EMSGSIZE;
    const dst = dstIp >>> 0;
    let mac: Uint8Array;
    if (dst === IPV4_BROADCAST || dst === (this.localIp | ~this.netmask) >>> 0) mac = BROADCAST_MAC;
    else if ((dst & this.netmask) !== (this.localIp & this.netmask)) return -ENETUNREACH;
    else if (dst === this.peerIp) mac = this.peerMac;
    else return -EHOSTUNREACH;
    if (d.stopped || d.qdisc.length > 0) {
      this.counters.udpSndBlocked++;
      return -EAGAIN;
    }
    if (s.localPort === 0) {
      const rc = this.bind(s, 0, 0);
      if (rc !== 0) return rc;
    }
    // Payload first: csum_and_copy_from_user copies and sums in one pass.
    const f = this.scratch;
    const rc = ua.copyFromUser(f, UDP_FRAME_OVERHEAD, userVa, length);
    if (rc !== 0) return rc;
    const udpLength = UDP_HEADER_LEN + length;
    const frameLength = UDP_FRAME_OVERHEAD + length;
    const mmu = this.kn.mmu;
    f.set(mac, 0);
    mmu.readBytes(d.ptr + NetDevice.devAddr, f, ETH_ALEN, ETH_ALEN);
    f[ETH_TYPE_OFFSET] = ETHERTYPE_IPV4 >>> 8;
    f[ETH_TYPE_OFFSET + 1] = ETHERTYPE_IPV4 & 0xff;
    this.ipId = (this.ipId + 1) & IP_ID_MASK;
    writeIpv4Header(f, ETH_HLEN, IPV4_HEADER_LEN + udpLength, IPPROTO_UDP, this.localIp, dst, this.ipId);
    const u = ETH_HLEN + IPV4_HEADER_LEN;
    writeUdpHeader(f, u, s.localPort, dstPort, udpLength);
    const c = udpChecksum(f, this.localIp, dst, u, udpLength);
    f[u + UDP_CHECKSUM] = c >>> 8;
    f[u + UDP_CHECKSUM + 1] = c & 0xff;
    // Tailroom for the driver's padding of runts to ETH_ZLEN (Linux reserves dev->needed_tailroom).
    const skb = this.kn.net.allocSkb(d.ptr, Math.max(frameLength, ETH_ZLEN));
    if (skb === 0) return -ENOMEM;
    mmu.writeBytes(this.kn.net.put(skb, frameLength), f, 0, frameLength);
    const clock = this.kn.machine.clock;
    clock.charge("stack", this.costs.stackTxPerPacket);
    clock.charge("copy", copyCycles(clock.costs, length));
    this.kn.net.xmit(skb);
    s.stats.sent++;
    this.counters.udpOutDatagrams++;
    return length;
  }

  // ------------------------------------------------------------------ receive

  /**
   * recvfrom: the oldest datagram's payload, up to `length` bytes, copied to user `userVa`
   * through `ua`; its source is left in `s.lastSrcIp` / `s.lastSrcPort`. Returns the bytes
   * copied (the datagram's full length when `trunc`, as MSG_TRUNC), -EAGAIN when the queue is
   * empty (the caller may sleep on `s.rxWait`), -EINVAL for a closed socket or a bad length,
   * or -EFAULT for a bad user buffer (the datagram is consumed, as Linux does).
   */
  recvfrom(s: UdpSocket, userVa: number, length: number, ua: UserAccess, trunc = false): number {
    if (s.closed) return -EINVAL;
    if (!Number.isInteger(length) || length < 0) return -EINVAL;
    const skb = s.shift();
    if (skb === 0) return -EAGAIN;
    const rec = this.kn.skb.get(skb, "udp_recvmsg");
    const full = s.lastPayloadLength;
    const n = Math.min(full, length);
    const rc = ua.copyToUser(userVa, rec.head + rec.dataOff + s.lastPayloadOffset, n);
    this.kn.net.freeSkb(skb);
    const clock = this.kn.machine.clock;
    clock.charge("stack", this.costs.stackRecvmsgPerPacket);
    clock.charge("copy", copyCycles(clock.costs, n));
    s.stats.read++;
    if (rc !== 0) return rc;
    return trunc ? full : n;
  }

  /** The protocol handler: validate, queue on a socket or drop (every skb is freed or queued). */
  private receive(skb: number, _dev: NetdevRecord): void {
    const kn = this.kn;
    const c = this.counters;
    c.ipInReceives++;
    const rec = kn.skb.get(skb, "ip_rcv");
    const clock = kn.machine.clock;
    clock.charge("stack", this.costs.stackRxPerPacket);
    const len = rec.len;
    const f = this.scratch;
    const data = rec.head + rec.dataOff;
    const proto = kn.mmu.load16(rec.ptr + SkBuff.protocol);
    if (proto !== HTONS_ETH_P_IP || len < IPV4_HEADER_LEN || len > f.length) {
      c.ipInHdrErrors++;
      kn.net.freeSkb(skb);
      return;
    }
    kn.mmu.readBytes(data, f, 0, len);
    const verdict = this.validate(f, len);
    if (verdict < 0) {
      kn.net.freeSkb(skb);
      return;
    }
    // verdict = offset of the UDP header; the payload follows it.
    const u = verdict;
    const udpLength = be16(f, u + UDP_LENGTH);
    clock.charge("stack", copyCycles(clock.costs, udpLength));
    const dstPort = be16(f, u + UDP_DST_PORT);
    const s = this.ports.get(dstPort);
    if (s === undefined) {
      c.udpNoPorts++;
      kn.net.freeSkb(skb);
      return;
    }
    const truesize = rec.end + SkBuff.SIZE;
    if (s.queuedBytes + truesize > s.rcvbuf) {
      c.udpRcvbufErrors++;
      s.stats.dropped++;
      kn.net.freeSkb(skb);
      return;
    }
    // The payload's place is remembered with the datagram (Linux pulls the headers instead).
    const srcIp = be32(f, IP_SRC);
    s.push(skb, srcIp, be16(f, u + UDP_SRC_PORT), truesize, u + UDP_HEADER_LEN, udpLength - UDP_HEADER_LEN);
    s.stats.queued++;
    c.udpInDatagrams++;
    s.rxWait.wakeAll();
  }

  /**
   * Validate the IPv4 datagram in `f[0..len)` (len = bytes after the Ethernet header) and its
   * UDP header. Returns the UDP header's offset, or -1 after counting why it was dropped.
   */
  private validate(f: Uint8Array, len: number): number {
    const c = this.counters;
    const ihl = (f[IP_VER_IHL] & IHL_MASK) * IHL_UNIT;
    const total = be16(f, IP_TOTAL_LENGTH);
    if (f[IP_VER_IHL] >>> 4 !== IPV4_VERSION || ihl < IPV4_HEADER_LEN || total < ihl || total > len) {
      c.ipInHdrErrors++;
      return -1;
    }
    if (finishChecksum(checksumAdd(f, 0, ihl)) !== 0) {
      c.ipInCsumErrors++;
      return -1;
    }
    if (f[IP_TTL] === 0) {
      c.ipInTtlErrors++;
      return -1;
    }
    const frag = be16(f, IP_FRAG);
    if ((frag & (IPV4_MF | IPV4_FRAG_OFFSET_MASK)) !== 0) {
      c.ipReasmFails++;
      return -1;
    }
    const dst = be32(f, IP_DST);
    if (dst !== this.localIp && dst !== IPV4_BROADCAST && dst !== (this.localIp | ~this.netmask) >>> 0) {
      c.ipInAddrErrors++;
      return -1;
    }
    if (f[IP_PROTOCOL] !== IPPROTO_UDP) {
      c.ipInUnknownProtos++;
      return -1;
    }
    const u = ihl;
    const udpLength = total - ihl >= UDP_HEADER_LEN ? be16(f, u + UDP_LENGTH) : 0;
    if (udpLength < UDP_HEADER_LEN || udpLength > total - ihl) {
      c.udpInErrors++;
      return -1;
    }
    if (be16(f, u + UDP_CHECKSUM) !== 0) {
      // RFC 768 pseudo-header: source, destination, protocol, UDP length, as 16-bit words
      const src = be32(f, IP_SRC);
      const pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + IPPROTO_UDP + udpLength;
      if (finishChecksum(checksumAdd(f, u, udpLength, pseudo)) !== 0) {
        c.udpInCsumErrors++;
        return -1;
      }
    }
    return u;
  }
}

/** ff:ff:ff:ff:ff:ff. */
const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
/** skb->protocol holds htons(ETH_P_IP): the bytes 08 00 read as a little-endian u16 = 0x0008. */
const HTONS_ETH_P_IP = 0x0008;
