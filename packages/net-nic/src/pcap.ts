/**
 * Classic libpcap files (https://wiki.wireshark.org/Development/LibpcapFileFormat): a 24-byte
 * global header, then a 16-byte record header per packet. The writer uses the
 * nanosecond-resolution magic 0xA1B23C4D and link type 1 (Ethernet), little-endian, with
 * timestamps from simulated time. It produces Uint8Array chunks; no file system access here.
 */

/** Magic of a nanosecond-resolution pcap file. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** Magic of a microsecond-resolution pcap file. */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
/** LINKTYPE_ETHERNET. */
export const LINKTYPE_ETHERNET = 1;
const PCAP_VERSION_MAJOR = 2;
const PCAP_VERSION_MINOR = 4;
const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
/** Default snapshot length (bytes kept per packet), tcpdump's default. */
export const DEFAULT_SNAPLEN = 262144;
const NS_PER_S = 1_000_000_000;
const NS_PER_US = 1000;

/** Collects a pcap stream as chunks. */
export class PcapWriter {
  private readonly parts: Uint8Array[] = [];
  private readonly snaplen: number;
  /** Number of packets recorded. */
  packets = 0;

  /** Start a stream (writes the global header). Throws a RangeError for a snaplen < 1. */
  constructor(options: { snaplen?: number } = {}) {
    this.snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
    if (!(this.snaplen >= 1)) throw new RangeError(`PcapWriter: snaplen ${this.snaplen} must be >= 1`);
    const h = new Uint8Array(GLOBAL_HEADER_LEN);
    const v = new DataView(h.buffer);
    v.setUint32(0, PCAP_MAGIC_NS, true);
    v.setUint16(4, PCAP_VERSION_MAJOR, true);
    v.setUint16(6, PCAP_VERSION_MINOR, true);
    v.setInt32(8, 0, true);
    v.setUint32(12, 0, true);
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    this.parts.push(h);
  }

  /**
   * Record `length` bytes of `frame` captured at simulated time `timeNs` (>= 0). The bytes are
   * copied. Throws a RangeError for a negative or non-finite time or a length beyond the frame.
   */
  record(timeNs: number, frame: Uint8Array, length = frame.length): void {
    if (!(timeNs >= 0) || !Number.isFinite(timeNs))
      throw new RangeError(`PcapWriter.record: bad time ${timeNs} ns`);
    if (length < 0 || length > frame.length)
      throw new RangeError(`PcapWriter.record: length ${length} outside a frame of ${frame.length} bytes`);
    const incl = Math.min(length, this.snaplen);
    const rec = new Uint8Array(RECORD_HEADER_LEN + incl);
    const v = new DataView(rec.buffer);
    const t = Math.floor(timeNs);
    v.setUint32(0, Math.floor(t / NS_PER_S), true);
    v.setUint32(4, t % NS_PER_S, true);
    v.setUint32(8, incl, true);
    v.setUint32(12, length, true);
    rec.set(frame.subarray(0, incl), RECORD_HEADER_LEN);
    this.parts.push(rec);
    this.packets++;
  }

  /** The chunks written so far (header first); the array is a copy, the chunks are shared. */
  chunks(): Uint8Array[] {
    return this.parts.slice();
  }

  /** The whole stream as one Uint8Array. */
  toBytes(): Uint8Array {
    let n = 0;
    for (const p of this.parts) n += p.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** One packet read back from a pcap stream. */
export interface PcapRecord {
  timeNs: number;
  data: Uint8Array;
  originalLength: number;
}

/** A parsed pcap stream. */
export interface PcapFile {
  nanosecond: boolean;
  linkType: number;
  snaplen: number;
  records: PcapRecord[];
}

/**
 * Parse a classic pcap stream (either magic, either byte order). Throws an Error naming the
 * offset for a bad magic or a truncated record.
 */
export function readPcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < GLOBAL_HEADER_LEN)
    throw new Error(`readPcap: ${bytes.length} bytes is shorter than a pcap header`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le = true;
  let magic = v.getUint32(0, true);
  if (magic !== PCAP_MAGIC_NS && magic !== PCAP_MAGIC_US) {
    le = false;
    magic = v.getUint32(0, false);
  }
  if (magic !== PCAP_MAGIC_NS && magic !== PCAP_MAGIC_US)
    throw new Error(`readPcap: bad magic 0x${v.getUint32(0, true).toString(16)} at offset 0`);
  const nanosecond = magic === PCAP_MAGIC_NS;
  const snaplen = v.getUint32(16, le);
  const linkType = v.getUint32(20, le);
  const records: PcapRecord[] = [];
  let o = GLOBAL_HEADER_LEN;
  while (o < bytes.length) {
    if (o + RECORD_HEADER_LEN > bytes.length)
      throw new Error(`readPcap: truncated record header at offset ${o}`);
    const sec = v.getUint32(o, le);
    const frac = v.getUint32(o + 4, le);
    const incl = v.getUint32(o + 8, le);
    const orig = v.getUint32(o + 12, le);
    if (o + RECORD_HEADER_LEN + incl > bytes.length)
      throw new Error(`readPcap: record at offset ${o} claims ${incl} bytes beyond the end`);
    records.push({
      timeNs: sec * NS_PER_S + (nanosecond ? frac : frac * NS_PER_US),
      data: bytes.slice(o + RECORD_HEADER_LEN, o + RECORD_HEADER_LEN + incl),
      originalLength: orig,
    });
    o += RECORD_HEADER_LEN + incl;
  }
  return { nanosecond, linkType, snaplen, records };
}

/** A reader over a pcap stream (wraps `readPcap`). */
export class PcapReader {
  /** The parsed file. */
  readonly file: PcapFile;
  /** Parse `bytes`; throws as `readPcap`. */
  constructor(bytes: Uint8Array) {
    this.file = readPcap(bytes);
  }
  /** The packets in file order. */
  get records(): PcapRecord[] {
    return this.file.records;
  }
}
