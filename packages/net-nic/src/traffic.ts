/**
 * Traffic peers for a link: a UDP/IPv4 `TrafficGenerator` and a `Sink` that checks order and
 * measures latency. Frame sizes follow the on-the-wire convention: 64..1518 bytes including the
 * 4-byte FCS, so the frame handed to the link is `frameSize - 4` bytes.
 *
 * Generated payload (big-endian): bytes 0-3 sequence number, 4-11 the simulated send time in ns
 * (a 64-bit integer), the rest zero.
 */
import { ETH_FCS_LEN, NS_PER_SECOND, SPEED_1G } from "./limits.js";
import { wireTimeNs } from "./link.js";
import type { NetBackend, NetClient } from "./net.js";
import {
  buildUdpFrame,
  checksumAdd,
  finishChecksum,
  IPPROTO_UDP,
  IPV4_HEADER_LEN,
  IPV4_OFFSET,
  parseIpv4,
  parseMac,
  UDP_HEADER_LEN,
  UDP_OFFSET,
  UDP_PAYLOAD_OFFSET,
  udpChecksumsOk,
  udpHeaderOffset,
} from "./packet.js";
import type { Scheduler } from "./scheduler.js";

/** Smallest and largest generated frame, on the wire including FCS (IEEE 802.3). */
export const MIN_WIRE_FRAME = 64;
export const MAX_WIRE_FRAME = 1518;
/** Payload bytes used by the sequence number and timestamp. */
export const TRAFFIC_HEADER_LEN = 12;
const TWO_32 = 0x100000000;
/** `Sink.dstPort` when any port is accepted (UDP ports are 0..65535). */
const NO_PORT = -1;

function readU32(f: Uint8Array, o: number): number {
  return ((f[o] << 24) | (f[o + 1] << 16) | (f[o + 2] << 8) | f[o + 3]) >>> 0;
}

/** Options for `new TrafficGenerator`. */
export interface TrafficOptions {
  scheduler: Scheduler;
  srcMac?: string;
  dstMac?: string;
  srcIp?: string;
  dstIp?: string;
  srcPort?: number;
  dstPort?: number;
  /** Frame size on the wire including FCS, 64..1518 (default 64). */
  frameSize?: number;
  /** Frames per second; omit for line rate at `bitsPerSecond`. */
  ratePps?: number;
  /** Line speed used for line-rate pacing (default 1 Gbit/s). */
  bitsPerSecond?: number;
  /** Stop after this many frames. */
  count?: number;
  /** Stop after this much simulated time from `start()`. One of count/durationNs is required. */
  durationNs?: number;
}

/**
 * Sends UDP/IPv4 frames with sequence numbers and timestamps at a fixed rate. The generator
 * stands for another machine: it paces on its own timeline, frame k at start + k x interval,
 * whatever the time its callback actually runs (a scheduler that fires events late, like a busy
 * simulated CPU advancing its clock in chunks, does not slow the offered load). Each frame
 * carries its ideal send time; a late frame goes out at once and the wire serialises it.
 */
export class TrafficGenerator implements NetClient {
  /** Frames sent so far. */
  sent = 0;
  /** Frames received from the link (a generator ignores them but counts). */
  received = 0;
  private backend: NetBackend | null = null;
  private readonly scheduler: Scheduler;
  private readonly frame: Uint8Array;
  private readonly ipBaseSum: number;
  private readonly udpBaseSum: number;
  private readonly intervalNs: number;
  private readonly srcIp: number;
  private readonly dstIp: number;
  private readonly count: number;
  private readonly durationNs: number;
  private stopAtNs = Number.POSITIVE_INFINITY;
  /** The ideal send time of the next frame (start + sent x interval). */
  private nextAtNs = 0;
  private running = false;
  private readonly tick: () => void;

  /** Validate options and build the frame template. Throws a RangeError naming a bad option. */
  constructor(o: TrafficOptions) {
    this.scheduler = o.scheduler;
    const frameSize = o.frameSize ?? MIN_WIRE_FRAME;
    if (!Number.isInteger(frameSize) || frameSize < MIN_WIRE_FRAME || frameSize > MAX_WIRE_FRAME)
      throw new RangeError(
        `TrafficGenerator: frameSize ${frameSize} outside ${MIN_WIRE_FRAME}..${MAX_WIRE_FRAME}`,
      );
    if (o.count === undefined && o.durationNs === undefined)
      throw new RangeError("TrafficGenerator: give a count or a durationNs");
    if (o.count !== undefined && !(Number.isInteger(o.count) && o.count >= 0))
      throw new RangeError(`TrafficGenerator: bad count ${o.count}`);
    if (o.ratePps !== undefined && !(o.ratePps > 0))
      throw new RangeError(`TrafficGenerator: bad ratePps ${o.ratePps}`);
    this.count = o.count ?? Number.POSITIVE_INFINITY;
    this.durationNs = o.durationNs ?? Number.POSITIVE_INFINITY;
    this.srcIp = parseIpv4(o.srcIp ?? "10.0.0.2");
    this.dstIp = parseIpv4(o.dstIp ?? "10.0.0.1");
    const frameLen = frameSize - ETH_FCS_LEN;
    this.frame = buildUdpFrame({
      srcMac: parseMac(o.srcMac ?? "02:00:00:00:00:02"),
      dstMac: parseMac(o.dstMac ?? "52:54:00:12:34:56"),
      srcIp: this.srcIp,
      dstIp: this.dstIp,
      srcPort: o.srcPort ?? 9,
      dstPort: o.dstPort ?? 9,
      payload: new Uint8Array(frameLen - UDP_PAYLOAD_OFFSET),
    });
    // Checksum sums of the template with the per-frame fields (IP id, sequence, time) and the
    // checksum fields zero; buildUdpFrame left the payload zero.
    const f = this.frame;
    f[IPV4_OFFSET + 10] = 0;
    f[IPV4_OFFSET + 11] = 0;
    this.ipBaseSum = checksumAdd(f, IPV4_OFFSET, IPV4_HEADER_LEN);
    f[UDP_OFFSET + 6] = 0;
    f[UDP_OFFSET + 7] = 0;
    const udpLen = f.length - UDP_OFFSET;
    const s = this.srcIp;
    const d = this.dstIp;
    const pseudo = (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff) + IPPROTO_UDP + udpLen;
    this.udpBaseSum = checksumAdd(f, UDP_OFFSET, udpLen, pseudo);
    this.intervalNs =
      o.ratePps !== undefined ? NS_PER_SECOND / o.ratePps : wireTimeNs(frameLen, o.bitsPerSecond ?? SPEED_1G);
    this.tick = () => this.sendNext();
  }

  /** Begin sending now; frames go out every interval until the count or duration is reached. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const now = this.scheduler.now();
    this.stopAtNs = now + this.durationNs;
    this.nextAtNs = now;
    this.sendNext();
  }

  /** Stop sending. */
  stop(): void {
    this.running = false;
  }

  /** Whether the generator is still sending. */
  get active(): boolean {
    return this.running;
  }

  /** The interval between frames in ns. */
  get interval(): number {
    return this.intervalNs;
  }

  private sendNext(): void {
    if (!this.running) return;
    const now = this.nextAtNs; // the ideal time of this frame, even if the callback runs late
    if (this.sent >= this.count || now >= this.stopAtNs) {
      this.running = false;
      return;
    }
    const f = this.frame;
    const seq = this.sent;
    const p = UDP_PAYLOAD_OFFSET;
    f[p] = seq >>> 24;
    f[p + 1] = (seq >>> 16) & 0xff;
    f[p + 2] = (seq >>> 8) & 0xff;
    f[p + 3] = seq & 0xff;
    const t = Math.floor(now);
    const hi = Math.floor(t / TWO_32);
    const lo = t % TWO_32;
    for (let i = 0; i < 4; i++) {
      f[p + 4 + i] = (hi >>> (24 - 8 * i)) & 0xff;
      f[p + 8 + i] = (lo >>> (24 - 8 * i)) & 0xff;
    }
    // IP identification = low 16 bits of the sequence number. Both checksums are the template's
    // sums (taken with these fields zero) plus the changed 16-bit words (RFC 1071's sum is
    // order-independent), so a frame costs the same whatever its payload size.
    const id = seq & 0xffff;
    f[IPV4_OFFSET + 4] = id >>> 8;
    f[IPV4_OFFSET + 5] = id & 0xff;
    const ipc = finishChecksum(this.ipBaseSum + id);
    f[IPV4_OFFSET + 10] = ipc >>> 8;
    f[IPV4_OFFSET + 11] = ipc & 0xff;
    const udpSum =
      this.udpBaseSum +
      (seq >>> 16) +
      (seq & 0xffff) +
      (hi >>> 16) +
      (hi & 0xffff) +
      (lo >>> 16) +
      (lo & 0xffff);
    const uc = finishChecksum(udpSum);
    f[UDP_OFFSET + 6] = uc === 0 ? 0xff : uc >>> 8; // a computed 0 is sent as 0xFFFF (RFC 768)
    f[UDP_OFFSET + 7] = uc === 0 ? 0xff : uc & 0xff;
    this.sent++;
    this.backend?.send(f, f.length);
    if (this.sent < this.count) {
      this.nextAtNs = now + this.intervalNs;
      this.scheduler.schedule(Math.max(this.nextAtNs, this.scheduler.now()), this.tick);
    } else {
      this.running = false;
    }
  }

  /** Always listening (counts what it gets). */
  canReceive(): boolean {
    return true;
  }
  /** Count and drop. Returns true. */
  receive(_frame: Uint8Array, _length: number): boolean {
    this.received++;
    return true;
  }
  /** Nothing to do. */
  linkStatusChanged(_up: boolean): void {}
  /** Keep the backend to send through. */
  attachBackend(backend: NetBackend | null): void {
    this.backend = backend;
  }
}

/** Latency summary in ns. */
export interface LatencyStats {
  count: number;
  min: number;
  mean: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
}

/** Sink counters. */
export interface SinkStats {
  frames: number;
  /** Frame bytes without FCS. */
  bytes: number;
  /** Frames that were not UDP/IPv4 to the expected port, or had bad checksums. */
  invalid: number;
  /** Sequence numbers skipped (lost frames). */
  gaps: number;
  /** Frames whose sequence number was below the next expected one (reordered or duplicated). */
  outOfOrder: number;
  latency: LatencyStats;
}

/** Counts frames and bytes, checks sequence order and records latency from generator payloads. */
export class Sink implements NetClient {
  private readonly scheduler: Scheduler;
  private readonly dstPort: number;
  private frames = 0;
  private bytes = 0;
  private invalid = 0;
  private gaps = 0;
  private outOfOrder = 0;
  private nextSeq = 0;
  private readonly latencies: number[] = [];

  /** `dstPort`: accept only UDP to this port (default any). */
  constructor(options: { scheduler: Scheduler; dstPort?: number }) {
    this.scheduler = options.scheduler;
    this.dstPort = options.dstPort ?? NO_PORT;
  }

  /** Always listening. */
  canReceive(): boolean {
    return true;
  }

  /** Account a frame; returns true. Reads the frame's bytes in place: no allocation per frame. */
  receive(frame: Uint8Array, length: number): boolean {
    const u = udpHeaderOffset(frame, length);
    if (
      u < 0 ||
      ((frame[u + 4] << 8) | frame[u + 5]) - UDP_HEADER_LEN < TRAFFIC_HEADER_LEN ||
      (this.dstPort !== NO_PORT && ((frame[u + 2] << 8) | frame[u + 3]) !== this.dstPort) ||
      !udpChecksumsOk(frame, u)
    ) {
      this.invalid++;
      return true;
    }
    const p = u + UDP_HEADER_LEN;
    const seq = readU32(frame, p);
    const sentAt = readU32(frame, p + 4) * TWO_32 + readU32(frame, p + 8);
    this.frames++;
    this.bytes += length;
    if (seq >= this.nextSeq) {
      this.gaps += seq - this.nextSeq;
      this.nextSeq = seq + 1;
    } else {
      this.outOfOrder++;
    }
    this.latencies.push(this.scheduler.now() - sentAt);
    return true;
  }

  /** Nothing to do. */
  linkStatusChanged(_up: boolean): void {}
  /** A sink never sends. */
  attachBackend(_backend: NetBackend | null): void {}

  /** The counters and latency summary (percentiles by nearest rank; all 0 with no frames). */
  stats(): SinkStats {
    const l = this.latencies.slice().sort((a, b) => a - b);
    const n = l.length;
    const pct = (q: number) => (n === 0 ? 0 : l[Math.min(n - 1, Math.ceil(q * n) - 1)]);
    let sum = 0;
    for (const x of l) sum += x;
    return {
      frames: this.frames,
      bytes: this.bytes,
      invalid: this.invalid,
      gaps: this.gaps,
      outOfOrder: this.outOfOrder,
      latency: {
        count: n,
        min: n === 0 ? 0 : l[0],
        mean: n === 0 ? 0 : sum / n,
        max: n === 0 ? 0 : l[n - 1],
        p50: pct(0.5),
        p90: pct(0.9),
        p99: pct(0.99),
      },
    };
  }
}
