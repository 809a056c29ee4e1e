/**
 * Socket buffers: `struct sk_buff` plus a data buffer with NET_SKB_PAD headroom, both from the
 * pool of the netdev's owner (native mode: the kernel heap). The kernel keeps its own record of
 * each skb (head, data offset, length, tail, end) and mirrors it into the struct after every
 * change, so a driver scribbling on the struct cannot steer the kernel. skb_put past the end is
 * skb_over_panic; a double free or a free of a non-skb is a precise KernelBug.
 */
import {
  AddrMap,
  ENOMEM,
  ETH_ALEN,
  ETH_HLEN,
  ETH_ZLEN,
  NET_SKB_PAD,
  NetDevice,
  PACKET_BROADCAST,
  PACKET_HOST,
  PACKET_MULTICAST,
  PACKET_OTHERHOST,
  SkBuff,
} from "@side-kernel/kservice";
import { hexAddr, KernelBug } from "./errors.js";
import { FreedHistory, type Heap } from "./heap.js";
import type { Kernel } from "./kernel.js";
import { FREED_HISTORY } from "./limits.js";

/** The kernel's record of a live skb. */
export interface SkbRecord {
  readonly ptr: number;
  readonly head: number;
  /** Buffer size (end offset from head). */
  readonly end: number;
  readonly pool: Heap;
  /** data - head. */
  dataOff: number;
  len: number;
  /** tail offset from head. */
  tail: number;
  /** The net_device it belongs to (0 for none). */
  dev: number;
  /** Offset of the Ethernet header from head once eth_type_trans pulled it, else -1. */
  macOff: number;
}

/** The skb subsystem. */
export class SkbCore {
  private readonly skbs = new AddrMap<SkbRecord>();
  private readonly freed = new FreedHistory(FREED_HISTORY);
  /** skbs allocated / freed so far. */
  allocated = 0;
  released = 0;

  constructor(private readonly kn: Kernel) {}

  /** Live skbs. */
  get live(): number {
    return this.skbs.size;
  }

  /** The record of skb `ptr`. Throws KernelBug naming the service: double free or not an skb. */
  get(ptr: number, service: string): SkbRecord {
    const r = this.skbs.get(ptr);
    if (r !== undefined) return r;
    if (this.freed.has(ptr))
      throw new KernelBug(service, ptr, `skb ${hexAddr(ptr)} was already freed (double free)`);
    throw new KernelBug(service, ptr, `${hexAddr(ptr)} is not an skb`);
  }

  /**
   * Allocate an skb for net_device `dev` with `length` bytes of room after `headroom` bytes
   * (at least NET_SKB_PAD), from `pool`. Returns the sk_buff address, or 0 when out of memory.
   */
  alloc(pool: Heap, dev: number, length: number, headroom: number): number {
    const end = headroom + length;
    const head = pool.alloc(end, 0, false, "skb");
    if (head === 0) return 0;
    const ptr = pool.alloc(SkBuff.SIZE, 0, true, "skb");
    if (ptr === 0) {
      pool.free(head, 0, "netdev_alloc_skb", "skb");
      return 0;
    }
    const rec: SkbRecord = {
      ptr,
      head,
      end,
      pool,
      dataOff: headroom,
      len: 0,
      tail: headroom,
      dev,
      macOff: -1,
    };
    this.skbs.set(ptr, rec);
    this.freed.delete(ptr);
    this.allocated++;
    const mmu = this.kn.mmu;
    mmu.storePtr(ptr + SkBuff.dev, dev);
    mmu.storePtr(ptr + SkBuff.head, head);
    mmu.store32(ptr + SkBuff.end, end);
    mmu.store32(ptr + SkBuff.truesize, end + SkBuff.SIZE);
    this.mirror(rec);
    return ptr;
  }

  /** Default headroom: NET_SKB_PAD. */
  get pad(): number {
    return NET_SKB_PAD;
  }

  private mirror(r: SkbRecord): void {
    const mmu = this.kn.mmu;
    mmu.storePtr(r.ptr + SkBuff.data, r.head + r.dataOff);
    mmu.store32(r.ptr + SkBuff.len, r.len);
    mmu.store32(r.ptr + SkBuff.tail, r.tail);
  }

  /** Free skb `ptr` (dev_kfree_skb_any). KernelBug on a double free or a non-skb. */
  free(ptr: number, service = "dev_kfree_skb_any"): void {
    const r = this.get(ptr, service);
    this.skbs.delete(ptr);
    this.freed.add(ptr);
    r.pool.free(r.head, 0, service, "skb");
    r.pool.free(ptr, 0, service, "skb");
    this.released++;
  }

  /** skb_put: extend by `len` at the tail; returns the old tail address. KernelBug skb_over_panic past the end. */
  put(ptr: number, len: number): number {
    const r = this.get(ptr, "skb_put");
    if (r.tail + len > r.end) {
      throw new KernelBug(
        "skb_put",
        ptr,
        `skb_over_panic: put ${len} bytes at tail ${r.tail} of a ${r.end}-byte buffer (skb ${hexAddr(ptr)}, len ${r.len})`,
      );
    }
    const old = r.head + r.tail;
    r.tail += len;
    r.len += len;
    this.mirror(r);
    return old;
  }

  /** skb_reserve: move data and tail by `len` in an empty skb. KernelBug if not empty or past the end. */
  reserve(ptr: number, len: number): void {
    const r = this.get(ptr, "skb_reserve");
    if (r.len !== 0)
      throw new KernelBug("skb_reserve", ptr, `skb ${hexAddr(ptr)} is not empty (len ${r.len})`);
    if (r.tail + len > r.end) {
      throw new KernelBug(
        "skb_reserve",
        ptr,
        `reserving ${len} bytes passes the end of a ${r.end}-byte buffer`,
      );
    }
    r.dataOff += len;
    r.tail += len;
    this.mirror(r);
  }

  /** skb_trim: cut the data to `len` bytes (no-op if already shorter). */
  trim(ptr: number, len: number): void {
    const r = this.get(ptr, "skb_trim");
    if (len >= r.len) return;
    r.len = len;
    r.tail = r.dataOff + len;
    this.mirror(r);
  }

  /** eth_skb_pad: zero-pad to ETH_ZLEN. Returns 0, or -ENOMEM after freeing the skb (as skb_put_padto). */
  pad60(ptr: number): number {
    const r = this.get(ptr, "eth_skb_pad");
    if (r.len >= ETH_ZLEN) return 0;
    const need = ETH_ZLEN - r.len;
    if (r.tail + need > r.end) {
      this.free(ptr, "eth_skb_pad");
      return -ENOMEM;
    }
    this.kn.machine.memory.fill(this.kn.physicalOf(r.head + r.tail), need, 0);
    r.tail += need;
    r.len += need;
    this.mirror(r);
    return 0;
  }

  /**
   * eth_type_trans: set skb->dev and pkt_type, pull the Ethernet header, store and return the
   * protocol in network byte order (the two frame bytes read as a little-endian u16, as
   * htons(ETH_P_IP) = 0x0008 on x86). KernelBug for a frame shorter than a header.
   */
  ethTypeTrans(ptr: number, dev: number): number {
    const r = this.get(ptr, "eth_type_trans");
    if (r.len < ETH_HLEN) {
      throw new KernelBug(
        "eth_type_trans",
        ptr,
        `frame of ${r.len} bytes is shorter than an Ethernet header`,
      );
    }
    const mmu = this.kn.mmu;
    const data = r.head + r.dataOff;
    let pktType = PACKET_HOST;
    const d0 = mmu.load8(data);
    if ((d0 & 1) !== 0) {
      let bcast = true;
      for (let i = 0; i < ETH_ALEN; i++) if (mmu.load8(data + i) !== 0xff) bcast = false;
      pktType = bcast ? PACKET_BROADCAST : PACKET_MULTICAST;
    } else {
      for (let i = 0; i < ETH_ALEN; i++) {
        if (mmu.load8(data + i) !== mmu.load8(dev + NetDevice.devAddr + i)) {
          pktType = PACKET_OTHERHOST;
          break;
        }
      }
    }
    const proto = mmu.load16(data + 2 * ETH_ALEN);
    r.macOff = r.dataOff;
    r.dataOff += ETH_HLEN;
    r.len -= ETH_HLEN;
    r.dev = dev;
    mmu.storePtr(ptr + SkBuff.dev, dev);
    mmu.store16(ptr + SkBuff.protocol, proto);
    mmu.store8(ptr + SkBuff.pktType, pktType);
    this.mirror(r);
    return proto;
  }

  /** Copy the skb's data (len bytes from data) out of simulated memory. */
  data(ptr: number): Uint8Array {
    const r = this.get(ptr, "skb data");
    const out = new Uint8Array(r.len);
    this.kn.mmu.readBytes(r.head + r.dataOff, out, 0, r.len);
    return out;
  }

  /** The whole frame from the Ethernet header (pulled by eth_type_trans) to the tail. */
  frame(ptr: number): Uint8Array {
    const r = this.get(ptr, "skb frame");
    const from = r.macOff >= 0 ? r.macOff : r.dataOff;
    const out = new Uint8Array(r.tail - from);
    this.kn.mmu.readBytes(r.head + from, out, 0, out.length);
    return out;
  }

  /** Linear address of the skb's data. */
  dataAddress(ptr: number): number {
    const r = this.get(ptr, "skb data");
    return r.head + r.dataOff;
  }
}
