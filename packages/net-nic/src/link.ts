/**
 * The wire: a full-duplex point-to-point link between two `NetClient`s (a NIC, a second NIC, a
 * traffic generator, a sink, a loopback plug). Each direction serialises frames at the link speed:
 * a frame occupies the wire for (preamble 8 + frame padded to 60 + FCS 4 + IFG 12) byte times, so
 * a 64-byte frame takes 84 byte times = 672 ns at 1 Gbit/s. A sent frame is copied into the
 * direction's FIFO (once, into a reused buffer) and delivered to the far end when its last bit
 * arrives; frames the far end cannot take (`canReceive` false) are dropped and counted. Each end
 * sees the wire's speed as its backend's `bitsPerSecond` (the E1000 paces its TX FIFO by it).
 */
import {
  ETH_FCS_LEN,
  ETH_ZLEN,
  NS_PER_SECOND,
  SPEED_1G,
  WIRE_IFG_BYTES,
  WIRE_PREAMBLE_BYTES,
} from "./limits.js";
import type { NetBackend, NetClient } from "./net.js";
import type { PcapWriter } from "./pcap.js";
import type { Scheduler } from "./scheduler.js";

/**
 * Nanoseconds a frame of `length` bytes (no FCS) occupies a wire of `bitsPerSecond`, including
 * preamble, padding to the 64-byte minimum, FCS and inter-frame gap.
 */
export function wireTimeNs(length: number, bitsPerSecond: number): number {
  const frame = Math.max(length, ETH_ZLEN) + ETH_FCS_LEN;
  return ((WIRE_PREAMBLE_BYTES + frame + WIRE_IFG_BYTES) * 8 * NS_PER_SECOND) / bitsPerSecond;
}

/** Options for `new Link`. */
export interface LinkOptions {
  /** Bits per second (default 1 Gbit/s; SPEED_10G for 10 Gbit/s). */
  bitsPerSecond?: number;
  /** Capture every frame at the time it starts on the wire. */
  capture?: PcapWriter;
}

/** Per-direction counters. */
export interface LinkDirectionStats {
  frames: number;
  bytes: number;
  /** Frames the receiver refused (not listening). */
  dropped: number;
}

/** Initial number of frame slots of a direction's queue (it doubles when full). */
const INITIAL_SLOTS = 64;
/** Smallest buffer a slot gets: a whole standard frame, so most slots never grow. */
const MIN_SLOT_BYTES = 2048;
/**
 * Frames at most this long are copied as 32-bit words through cached views (no allocation,
 * several times cheaper than a subarray view + `set` for small frames); longer ones with `set`.
 */
const WORD_COPY_MAX = 256;

/**
 * One direction of the link: a FIFO of frames in flight, each copied once into a reused slot
 * buffer (no allocation per frame once the slots have grown to the traffic's size).
 */
class Direction implements NetBackend {
  readonly stats: LinkDirectionStats = { frames: 0, bytes: 0, dropped: 0 };
  readonly bitsPerSecond: number;
  busyUntilNs = 0;
  private bufs: Uint8Array[] = [];
  private words: Int32Array[] = [];
  private lens: Int32Array = new Int32Array(INITIAL_SLOTS);
  // The last sender buffer and its word view (a NIC always sends from the same staging buffer).
  private srcArr: Uint8Array | null = null;
  private srcWords: Int32Array | null = null;
  private head = 0;
  private count = 0;
  private readonly deliverNext: () => void;

  constructor(
    private readonly link: Link,
    public to: NetClient | null,
  ) {
    this.bitsPerSecond = link.bitsPerSecond;
    for (let i = 0; i < INITIAL_SLOTS; i++) this.addSlot(this.bufs, this.words, MIN_SLOT_BYTES);
    this.deliverNext = () => this.deliver();
  }

  send(frame: Uint8Array, length: number): void {
    if (!this.link.connected || this.to === null) return;
    const sch = this.link.scheduler;
    const now = sch.now();
    const start = Math.max(this.busyUntilNs, now);
    const end = start + wireTimeNs(length, this.bitsPerSecond);
    this.busyUntilNs = end;
    if (this.count === this.lens.length) this.grow();
    const slot = (this.head + this.count) & (this.lens.length - 1);
    let buf = this.bufs[slot];
    if (buf.length < length) {
      buf = new Uint8Array(length);
      this.bufs[slot] = buf;
      this.words[slot] = new Int32Array(buf.buffer, 0, length >> 2);
    }
    const src = length <= WORD_COPY_MAX ? this.wordsOf(frame) : null;
    if (src !== null) {
      const dst = this.words[slot];
      const n = length >> 2;
      for (let i = 0; i < n; i++) dst[i] = src[i];
      for (let i = n << 2; i < length; i++) buf[i] = frame[i];
    } else {
      buf.set(length === frame.length ? frame : frame.subarray(0, length));
    }
    this.lens[slot] = length;
    this.count++;
    this.link.capture?.record(start, buf, length);
    sch.schedule(end, this.deliverNext);
  }

  /** `frame` as 32-bit words from its start (cached for the last sender buffer), or null if unaligned. */
  private wordsOf(frame: Uint8Array): Int32Array | null {
    if (frame === this.srcArr) return this.srcWords;
    this.srcArr = frame;
    this.srcWords =
      (frame.byteOffset & 3) === 0 ? new Int32Array(frame.buffer, frame.byteOffset, frame.length >> 2) : null;
    return this.srcWords;
  }

  private addSlot(bufs: Uint8Array[], words: Int32Array[], bytes: number): void {
    const b = new Uint8Array(bytes);
    bufs.push(b);
    words.push(new Int32Array(b.buffer, 0, bytes >> 2));
  }

  /** Double the slot ring, keeping the frames in order. */
  private grow(): void {
    const n = this.lens.length;
    const bufs: Uint8Array[] = [];
    const words: Int32Array[] = [];
    const lens = new Int32Array(2 * n);
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) & (n - 1);
      bufs.push(this.bufs[i]);
      words.push(this.words[i]);
      lens[k] = this.lens[i];
    }
    for (let k = n; k < 2 * n; k++) this.addSlot(bufs, words, MIN_SLOT_BYTES);
    this.bufs = bufs;
    this.words = words;
    this.lens = lens;
    this.head = 0;
  }

  private deliver(): void {
    if (this.count === 0) return;
    const slot = this.head;
    const to = this.to;
    if (to !== null && this.link.connected) {
      const length = this.lens[slot];
      // The slot stays owned until receive() returns: a send() on this direction from inside it
      // (a receiver wired back to the sender) takes another slot.
      if (to.canReceive() && to.receive(this.bufs[slot], length)) {
        this.stats.frames++;
        this.stats.bytes += length;
      } else {
        this.stats.dropped++;
      }
    }
    this.head = (this.head + 1) & (this.lens.length - 1); // `grow()` inside receive() moved it to 0
    this.count--;
  }
}

/** A point-to-point link between end A and end B. */
export class Link {
  readonly scheduler: Scheduler;
  readonly bitsPerSecond: number;
  readonly capture: PcapWriter | undefined;
  /** Whether the two ends are connected. */
  connected = false;
  private readonly aToB: Direction;
  private readonly bToA: Direction;
  private a: NetClient | null = null;
  private b: NetClient | null = null;

  /** Create an unconnected link. Throws a RangeError for a non-positive speed. */
  constructor(scheduler: Scheduler, options: LinkOptions = {}) {
    this.scheduler = scheduler;
    this.bitsPerSecond = options.bitsPerSecond ?? SPEED_1G;
    if (!(this.bitsPerSecond > 0)) throw new RangeError(`Link: bad speed ${this.bitsPerSecond} bit/s`);
    this.capture = options.capture;
    this.aToB = new Direction(this, null);
    this.bToA = new Direction(this, null);
  }

  /** Plug `a` and `b` in: each gets its backend and hears linkStatusChanged(true). */
  connect(a: NetClient, b: NetClient): void {
    this.a = a;
    this.b = b;
    this.aToB.to = b;
    this.bToA.to = a;
    this.connected = true;
    a.attachBackend(this.aToB);
    b.attachBackend(this.bToA);
    a.linkStatusChanged(true);
    b.linkStatusChanged(true);
  }

  /** Unplug both ends: frames in flight are lost; each end hears linkStatusChanged(false). */
  disconnect(): void {
    if (!this.connected) return;
    this.connected = false;
    const a = this.a;
    const b = this.b;
    a?.attachBackend(null);
    b?.attachBackend(null);
    a?.linkStatusChanged(false);
    b?.linkStatusChanged(false);
  }

  /** Counters of the A -> B direction. */
  get statsAtoB(): LinkDirectionStats {
    return this.aToB.stats;
  }

  /** Counters of the B -> A direction. */
  get statsBtoA(): LinkDirectionStats {
    return this.bToA.stats;
  }

  /** Time at which the wire from `end` ("a" or "b") is free again. */
  busyUntilNs(end: "a" | "b"): number {
    return end === "a" ? this.aToB.busyUntilNs : this.bToA.busyUntilNs;
  }
}

/** A loopback plug: every frame received is sent straight back. */
export class Loopback implements NetClient {
  private backend: NetBackend | null = null;
  /** Frames reflected. */
  frames = 0;
  /** Always listening. */
  canReceive(): boolean {
    return true;
  }
  /** Reflect the frame; returns true. */
  receive(frame: Uint8Array, length: number): boolean {
    this.frames++;
    this.backend?.send(frame, length);
    return true;
  }
  /** Nothing to do. */
  linkStatusChanged(_up: boolean): void {}
  /** Keep the backend to reflect through. */
  attachBackend(backend: NetBackend | null): void {
    this.backend = backend;
  }
}
