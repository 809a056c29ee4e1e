/**
 * Translation lookaside buffer: a set-associative L1 dTLB backed by a set-associative STLB,
 * entries keyed by (PCID, virtual page number, page size) with a global flag and the combined
 * rights of the walk (hardware.md 1.7 "Modelling suggestion"). Paging-structure caches are
 * not modelled: every miss walks the tables in memory, which the SDM permits.
 *
 * Flushes are O(1) in host time (hardware.md 1.7 says what each one invalidates; this says how
 * it is done). Every entry records the flush epoch it was filled in; a flush only advances the
 * epoch and records it as the threshold of what it invalidates: everything, every non-global
 * entry, one PCID's entries, or one PCID's non-global entries (`FlushEpochs`). An entry is
 * present only while its epoch is at or above every threshold that applies to it, so an entry
 * filled before a flush never matches after it, and its slot counts as free when the next fill
 * picks a victim. Which entries are present, which slot each fill takes and the LRU order are
 * therefore exactly those of eagerly clearing the flushed entries. INVLPG and INVPCID type 0
 * clear their few entries directly. Epochs are doubles, exact up to 2^53 flushes (about 2800
 * years at 10^8 flushes a second), so they never wrap.
 *
 * The STLB's arrays are written only once they can differ from the L1's: until the L1 first
 * evicts a present entry, the STLB holds exactly the L1's present entries, so it is neither
 * searched nor filled (`Tlb.materialize` says why this is exact).
 */
import { TLB_DIRTY, TLB_NO_EXECUTE, TLB_USER, TLB_WRITABLE } from "./bits.js";
import {
  formatLinear,
  HUGE_PAGE_SIZE,
  isLinearAddress,
  LARGE_PAGE_SIZE,
  PAGE_SIZE,
  type PageSize,
} from "./layout.js";
import { DEFAULT_L1_TLB, DEFAULT_STLB } from "./limits.js";

/** Size and associativity of one TLB level. `entries` must be a multiple of `ways`. */
export interface TlbLevelConfig {
  entries: number;
  ways: number;
}

/** Options of `Tlb`: the L1 dTLB and an optional STLB (null for none). */
export interface TlbOptions {
  l1?: TlbLevelConfig;
  stlb?: TlbLevelConfig | null;
}

/** A cached translation, as `peek` and `entries` report it. */
export interface TlbEntry {
  pcid: number;
  /** Linear address of the page's first byte. */
  va: number;
  size: PageSize;
  /** Physical address of the page's first byte. */
  pa: number;
  global: boolean;
  writable: boolean;
  user: boolean;
  noExecute: boolean;
  dirty: boolean;
  /** PAT memory-type index 4*PAT + 2*PCD + PWT of the leaf (hardware.md 1.3). */
  memoryType: number;
}

/** Counters of TLB activity. */
export interface TlbStats {
  /** Translations answered by the TLB (including the MMU's fast path). */
  hits: number;
  /** Translations that found no entry. */
  misses: number;
  /** Page walks performed (misses plus re-walks to set D). */
  walks: number;
  /** flushPcid / flushAll operations. */
  flushes: number;
  /** invalidatePage / invalidatePageNonGlobal operations. */
  invalidations: number;
}

/** Something told of every invalidation, e.g. the MMU's fast path. */
export interface TlbListener {
  /**
   * Called after every invalidation or flush. `globalsKept` is true when the operation dropped
   * only non-global entries (a flush with keepGlobal), so that what was copied from global
   * entries is still valid.
   */
  tlbInvalidated(globalsKept?: boolean): void;
}

/** Supplies hits served outside the TLB's own lookup (the MMU's fast path). */
export interface FastHitSource {
  fastPathHits(): number;
  resetFastPathHits(): void;
}

/** The page size of size index s (0, 1, 2: 4 KiB, 2 MiB, 1 GiB). */
function sizeOf(s: number): PageSize {
  return s === 0 ? PAGE_SIZE : s === 1 ? LARGE_PAGE_SIZE : HUGE_PAGE_SIZE;
}

/** 1 / sizeOf(s): multiplying by a power of two is exact, and much cheaper than dividing. */
function inverseSizeOf(s: number): number {
  return s === 0 ? 2 ** -12 : s === 1 ? 2 ** -21 : 2 ** -30;
}

/** PCIDs are 12 bits (hardware.md 1.6: CR3[11:0] with CR4.PCIDE=1). */
const PCID_COUNT = 4096;
/**
 * Slots of `FlushEpochs.scalar`: the current epoch, the epoch of the last flush of every entry
 * (global ones too), and of the last flush of every non-global entry. This file's constants are
 * const enums so that the build writes them as literals into the hot paths (a bundler turns a
 * module `const` into a `var`, which compiled code then reloads and checks at every use).
 */
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals
const enum Epoch {
  Now = 0,
  All = 1,
  NonGlobal = 2,
  /** Not an epoch: the LRU clock both levels stamp their entries with (`FlushEpochs.stamp`). */
  Clock = 3,
  /** The last `liveFrom` answer (a host-time memo): the epoch `Now` it was worked out in, its PCID, its value. */
  MemoNow = 4,
  MemoPcid = 5,
  MemoValue = 6,
}

/**
 * Flush thresholds and the LRU clock, shared by both levels of one Tlb (module comment).
 * Doubles in typed arrays, so no field ever changes representation.
 */
class FlushEpochs {
  /** [Epoch.Now, Epoch.All, Epoch.NonGlobal, Epoch.Clock, then the liveFrom memo]. */
  readonly scalar = new Float64Array(7);
  /** Per PCID: epoch of its last flush including its global entries. */
  readonly pcidAll = new Float64Array(PCID_COUNT);
  /** Per PCID: epoch of its last flush of non-global entries. */
  readonly pcidNonGlobal = new Float64Array(PCID_COUNT);

  /** The next LRU stamp. */
  stamp(): number {
    return ++this.scalar[Epoch.Clock];
  }

  /** Starts a new epoch and returns it: entries filled before it are older than it. */
  advance(): number {
    return ++this.scalar[Epoch.Now];
  }

  /**
   * The epoch from which a non-global entry of `pcid` is present: every flush that applies to
   * it is older. (A global entry is present from max(all, pcidAll[its PCID]).)
   */
  liveFrom(pcid: number): number {
    const scalar = this.scalar;
    // Every flush starts a new epoch before it moves a threshold, so within one epoch the
    // answer for a PCID cannot change: a lookup and the fill after its walk reuse it.
    if (scalar[Epoch.MemoNow] === scalar[Epoch.Now] && scalar[Epoch.MemoPcid] === pcid)
      return scalar[Epoch.MemoValue];
    const v = Math.max(
      scalar[Epoch.All],
      scalar[Epoch.NonGlobal],
      this.pcidAll[pcid],
      this.pcidNonGlobal[pcid],
    );
    scalar[Epoch.MemoNow] = scalar[Epoch.Now];
    scalar[Epoch.MemoPcid] = pcid;
    scalar[Epoch.MemoValue] = v;
    return v;
  }
}

// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals
const enum Tag {
  /** `TlbArray.tag` of a slot that holds no entry (never filled, or invalidated). */
  None = -1,
}
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals
const enum SetPcid {
  /** `TlbArray.setPcid` of a set whose non-global entries have had more than one PCID. */
  Mixed = -2,
}

/**
 * Layout of one entry in `TlbArray.data` (Entry.Stride numbers from k * Entry.Stride): physical
 * page base, fill epoch, LRU stamp, PCID, the attributes (Attr), and the LRU stamp it was filled
 * with (`Tlb.materialize`). One array, so a fill or a hit touches one object and one line.
 */
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals
const enum Entry {
  Stride = 8,
  Pa = 0,
  Epoch = 1,
  Stamp = 2,
  Pcid = 3,
  Attrs = 4,
  FillStamp = 5,
}
/** The attribute word: TLB_* rights in bits 0-3, global in bit 4, PAT memory type in bits 5-7. */
// biome-ignore lint/suspicious/noConstEnum: file-local and never exported; inlined as literals
const enum Attr {
  Perms = 0xf,
  Global = 0x10,
  TypeShift = 5,
}

/** Size index (sizeOf) of a page size: the low bits of a tag. */
function sizeIndex(size: number): number {
  return size === PAGE_SIZE ? 0 : size === LARGE_PAGE_SIZE ? 1 : 2;
}

/**
 * One set-associative array of entries: a tag per slot, the rest of each entry packed in `data`.
 *
 * Host-time shortcuts, each exact (they only skip work whose outcome they already know):
 * - `tag` joins an entry's page, size and validity in one number (page + size index, pages
 *   being multiples of 4096; Tag.None when the slot is empty), so a way is rejected by one compare;
 * - every set keeps an upper bound on the fill epochs of its global and of its non-global
 *   entries, and the one PCID its non-global entries were filled with (SetPcid.Mixed once there
 *   were two). A lookup or a victim search in a set whose bounds lie below the flush thresholds
 *   knows that no entry there is present without reading the ways: after a flushing CR3 switch,
 *   every set it emptied answers in O(1). Each set also marks which ways hold global entries,
 *   so a victim search in a set whose non-global entries are all flushed reads only those.
 */
class TlbArray {
  readonly sets: number;
  readonly ways: number;
  /** page + sizeIndex(size) of the entry in the slot, or Tag.None. */
  readonly tag: Float64Array;
  /** The entries' other fields, Entry.Stride numbers each (layout above). */
  readonly data: Float64Array;
  /** Per set: the greatest fill epoch of a global entry filled there (-1: none). */
  private readonly setGlobalEpoch: Float64Array;
  /** Per set: the greatest fill epoch of a non-global entry filled there (-1: none). */
  private readonly setEpoch: Float64Array;
  /** Per set: the PCID of every non-global entry filled there, -1 before the first, SetPcid.Mixed after a second. */
  private readonly setPcid: Int32Array;
  /** Per set (at most 31 ways): bit w set while way w holds a global entry (present or not). */
  private readonly setGlobalWays: Int32Array;
  private readonly epochs: FlushEpochs;
  /**
   * Bit s set once an entry of size sizeOf(s) has been filled here (never cleared): lookups
   * skip the sizes this array has never held, e.g. the 2 MiB and 1 GiB sets when only 4 KiB
   * pages are used.
   */
  sizesHeld = 0;
  /** sets - 1 when `sets` is a power of two (a mask gives the set), else -1 (`setOf`). */
  private readonly setMask: number;
  /** Set by `victim`: true when the slot it returned holds a present entry for another page or PCID. */
  evicts = false;
  /**
   * Set by `find`: the set of the looked-up va's 4 KiB page when no entry of it is present
   * (for any PCID), so that a fill of that page takes its first way; else -1.
   */
  vacant = -1;

  constructor(cfg: TlbLevelConfig, name: string, epochs: FlushEpochs) {
    const { entries, ways } = cfg;
    if (
      !Number.isInteger(entries) ||
      !Number.isInteger(ways) ||
      ways < 1 ||
      entries < ways ||
      entries % ways !== 0
    ) {
      throw new RangeError(
        `${name} TLB of ${String(entries)} entries, ${String(ways)}-way: entries must be a positive multiple of ways`,
      );
    }
    this.sets = entries / ways;
    this.ways = ways;
    this.tag = new Float64Array(entries).fill(Tag.None);
    this.data = new Float64Array(entries * Entry.Stride);
    this.setGlobalEpoch = new Float64Array(this.sets).fill(-1);
    this.setEpoch = new Float64Array(this.sets).fill(-1);
    this.setPcid = new Int32Array(this.sets).fill(-1);
    this.setGlobalWays = new Int32Array(this.sets);
    this.epochs = epochs;
    this.setMask = (this.sets & (this.sets - 1)) === 0 && this.sets <= 2 ** 30 ? this.sets - 1 : -1;
  }

  /**
   * Set of virtual page number `vpn` (an integer below 2^48): vpn mod sets, computed without a
   * double `%` (a C call in V8; the values are exact integers).
   */
  setOf(vpn: number): number {
    const mask = this.setMask;
    // `&` keeps the low 32 bits of vpn (< 2^36), which hold its residue mod a power of two.
    if (mask >= 0) return vpn & mask;
    return vpn - Math.floor(vpn / this.sets) * this.sets;
  }

  /** Page base of the entry in slot k (its tag less the size index in its low bits). */
  page(k: number): number {
    const tag = this.tag[k];
    return tag - (tag & 3);
  }

  /** Page size of the entry in slot k. */
  size(k: number): PageSize {
    return sizeOf(this.tag[k] & 3);
  }

  /** True when slot k holds an entry that no flush since its fill has invalidated. */
  present(k: number): boolean {
    if (this.tag[k] === Tag.None) return false;
    const b = k * Entry.Stride;
    const e = this.data[b + Entry.Epoch];
    const p = this.data[b + Entry.Pcid];
    const ep = this.epochs;
    if (e < ep.scalar[Epoch.All] || e < ep.pcidAll[p]) return false;
    return (
      (this.data[b + Entry.Attrs] & Attr.Global) !== 0 ||
      (e >= ep.scalar[Epoch.NonGlobal] && e >= ep.pcidNonGlobal[p])
    );
  }

  /**
   * Slot of the entry translating `va` for `pcid` (or global), or -1. `all` is the epoch of the
   * last flush of everything, `own` the epoch from which a non-global entry of `pcid` is present
   * (`FlushEpochs.liveFrom`), both passed in so that the two levels of one lookup share them.
   */
  find(va: number, pcid: number, all: number, own: number): number {
    // Per page size (4 KiB always, for `vacant`; the others once held), a set in which nothing
    // was filled since the last flush that applies cannot match: that O(1) test here, and the
    // ways read (`scan`) only when it fails, so the common lookup after a flush makes no call.
    const held = this.sizesHeld;
    const setEpoch = this.setEpoch;
    const setGlobalEpoch = this.setGlobalEpoch;
    this.vacant = -1;
    let vpn = Math.floor(va * 2 ** -12);
    let set = this.setOf(vpn);
    let k = -1;
    if (setEpoch[set] < own && setGlobalEpoch[set] < all) {
      // Nor is any entry of another PCID present (`victim`'s O(1) case): the set is vacant.
      const setPcid = this.setPcid[set];
      if (setPcid === -1 || setPcid === pcid) this.vacant = set;
    } else k = this.scan(set, vpn * PAGE_SIZE, pcid, all, own);
    if (k < 0 && (held & 2) !== 0) {
      vpn = Math.floor(va * 2 ** -21);
      set = this.setOf(vpn);
      if (setEpoch[set] >= own || setGlobalEpoch[set] >= all)
        k = this.scan(set, vpn * LARGE_PAGE_SIZE + 1, pcid, all, own);
    }
    if (k < 0 && (held & 4) !== 0) {
      vpn = Math.floor(va * 2 ** -30);
      set = this.setOf(vpn);
      if (setEpoch[set] >= own || setGlobalEpoch[set] >= all)
        k = this.scan(set, vpn * HUGE_PAGE_SIZE + 2, pcid, all, own);
    }
    return k;
  }

  /** The way of `set` holding a present entry of `tag` (page + size index) for `pcid` (or global), or -1. */
  private scan(set: number, tag: number, pcid: number, all: number, own: number): number {
    const tags = this.tag;
    const data = this.data;
    const pcidAll = this.epochs.pcidAll;
    const first = set * this.ways;
    const end = first + this.ways;
    for (let k = first; k < end; k++) {
      if (tags[k] !== tag) continue;
      const b = k * Entry.Stride;
      const e = data[b + Entry.Epoch];
      if ((data[b + Entry.Attrs] & Attr.Global) !== 0) {
        if (e >= all && e >= pcidAll[data[b + Entry.Pcid]]) return k;
      } else if (data[b + Entry.Pcid] === pcid && e >= own) return k;
    }
    return -1;
  }

  /**
   * Slot to fill in `set` for an entry of `tag` (page + size index) and `pcid`: a present
   * entry for it, a free way (never filled, invalidated or flushed), or the LRU way.
   */
  victim(set: number, tag: number, pcid: number): number {
    this.evicts = false;
    // The common case after a flush, in a few loads: no entry of the set can be present (every
    // one was filled before a flush that applies to it), so the first way is free.
    const ep = this.epochs;
    if (this.setGlobalEpoch[set] < ep.scalar[Epoch.All]) {
      const setPcid = this.setPcid[set];
      const liveFrom =
        setPcid >= 0 ? ep.liveFrom(setPcid) : Math.max(ep.scalar[Epoch.All], ep.scalar[Epoch.NonGlobal]);
      if (this.setEpoch[set] < liveFrom) return set * this.ways;
    }
    return this.victimScan(set, tag, pcid);
  }

  /** `victim` when some entry of the set may still be present: reads the ways. */
  private victimScan(set: number, tag: number, pcid: number): number {
    const first = set * this.ways;
    const ep = this.epochs;
    const all = ep.scalar[Epoch.All];
    const nonGlobal = ep.scalar[Epoch.NonGlobal];
    const pcidAll = ep.pcidAll;
    const pcidNonGlobal = ep.pcidNonGlobal;
    // The epoch from which a non-global entry of this set can be present (SetPcid.Mixed: the
    // bound that holds whatever its PCID).
    const setPcid = this.setPcid[set];
    const liveFrom =
      setPcid >= 0
        ? Math.max(all, nonGlobal, pcidAll[setPcid], pcidNonGlobal[setPcid])
        : Math.max(all, nonGlobal);
    const tags = this.tag;
    const data = this.data;
    if (this.setEpoch[set] < liveFrom && this.ways <= 31) {
      // Every non-global entry of the set is dead: only ways holding a global entry can be
      // live, and with none live either, the first way is free.
      if (this.setGlobalEpoch[set] < all) return first;
      const globalWays = this.setGlobalWays[set];
      let free = -1;
      let lru = first;
      let lruStamp = Number.POSITIVE_INFINITY;
      for (let w = 0; w < this.ways; w++) {
        const k = first + w;
        if ((globalWays & (1 << w)) !== 0 && tags[k] !== Tag.None) {
          const b = k * Entry.Stride;
          const e = data[b + Entry.Epoch];
          if (e >= all && e >= pcidAll[data[b + Entry.Pcid]]) {
            if (tags[k] === tag && data[b + Entry.Pcid] === pcid) return k;
            if (data[b + Entry.Stamp] < lruStamp) {
              lru = k;
              lruStamp = data[b + Entry.Stamp];
            }
            continue;
          }
        }
        if (free < 0) free = k;
      }
      // Every way holds a live global entry: the least recently used one.
      if (free >= 0) return free;
      this.evicts = true;
      return lru;
    }
    // One pass with `present` inlined: a present entry for (pcid, page, size) wins wherever it
    // is; else the first slot that is not present; else the first slot of least stamp (the
    // LRU), which only matters when every slot is present.
    const end = first + this.ways;
    let free = -1;
    let best = first;
    let bestStamp = Number.POSITIVE_INFINITY;
    for (let k = first; k < end; k++) {
      const b = k * Entry.Stride;
      let live = false;
      if (tags[k] !== Tag.None) {
        const e = data[b + Entry.Epoch];
        const p = data[b + Entry.Pcid];
        live =
          e >= all &&
          e >= pcidAll[p] &&
          ((data[b + Entry.Attrs] & Attr.Global) !== 0 || (e >= nonGlobal && e >= pcidNonGlobal[p]));
      }
      if (live) {
        if (tags[k] === tag && data[b + Entry.Pcid] === pcid) return k;
        if (free < 0 && data[b + Entry.Stamp] < bestStamp) {
          best = k;
          bestStamp = data[b + Entry.Stamp];
        }
      } else if (free < 0) free = k;
    }
    if (free >= 0) return free;
    this.evicts = true;
    return best;
  }

  /**
   * Caches an entry (page + size index `tag`, for `pcid`) in the slot `victim` picks, filled in
   * the current epoch with the next LRU stamp.
   */
  fill(tag: number, pcid: number, pa: number, attrs: number): void {
    const s = tag & 3;
    const set = this.setOf((tag - s) * inverseSizeOf(s));
    const ep = this.epochs;
    this.put(this.victim(set, tag, pcid), set, tag, pcid, pa, attrs, ep.scalar[Epoch.Now], ep.stamp());
  }

  /**
   * Writes an entry (page + size index `tag`) into slot k of `set`, chosen by `victim`, and
   * keeps the set's bounds. Every fill and copy goes through here or `putFirstWay`. `attrs`
   * packs the TLB_* rights, Attr.Global and the memory type (`attributes`).
   */
  put(
    k: number,
    set: number,
    tag: number,
    pcid: number,
    pa: number,
    attrs: number,
    epoch: number,
    stamp: number,
  ): void {
    this.writeEntry(k, tag, pcid, pa, attrs, epoch, stamp);
    const wayBit = 1 << (k - set * this.ways);
    if ((attrs & Attr.Global) !== 0) {
      this.setGlobalWays[set] |= wayBit;
      if (epoch > this.setGlobalEpoch[set]) this.setGlobalEpoch[set] = epoch;
    } else {
      this.setGlobalWays[set] &= ~wayBit;
      if (epoch > this.setEpoch[set]) this.setEpoch[set] = epoch;
      const p = this.setPcid[set];
      if (p === -1) this.setPcid[set] = pcid;
      else if (p !== pcid) this.setPcid[set] = SetPcid.Mixed;
    }
  }

  /**
   * `put` of a new fill into the first way of `set`, which `find` found vacant for `pcid`
   * (`vacant`): filled in the current epoch, so the set's bounds become that epoch, and its
   * PCID (none yet, or `pcid`) becomes `pcid`. Small enough for engines to inline.
   */
  putFirstWay(set: number, tag: number, pcid: number, pa: number, attrs: number): void {
    const ep = this.epochs;
    const epoch = ep.scalar[Epoch.Now];
    this.writeEntry(set * this.ways, tag, pcid, pa, attrs, epoch, ep.stamp());
    if ((attrs & Attr.Global) !== 0) {
      this.setGlobalWays[set] |= 1;
      this.setGlobalEpoch[set] = epoch;
    } else {
      this.setGlobalWays[set] &= ~1;
      this.setEpoch[set] = epoch;
      this.setPcid[set] = pcid;
    }
  }

  /** The entry's own fields in slot k: tag, physical page, fill epoch, LRU and fill stamps, PCID, attributes. */
  private writeEntry(
    k: number,
    tag: number,
    pcid: number,
    pa: number,
    attrs: number,
    epoch: number,
    stamp: number,
  ): void {
    this.tag[k] = tag;
    this.sizesHeld |= 1 << (tag & 3);
    const data = this.data;
    const b = k * Entry.Stride;
    data[b + Entry.Pa] = pa;
    data[b + Entry.Epoch] = epoch;
    data[b + Entry.Stamp] = stamp;
    data[b + Entry.FillStamp] = stamp;
    data[b + Entry.Pcid] = pcid;
    data[b + Entry.Attrs] = attrs;
  }

  /** Drops entries covering `va` that match `pcid` (and, with `globalToo`, global ones of any PCID). */
  dropPage(va: number, pcid: number, globalToo: boolean): void {
    for (let s = 0; s < 3; s++) {
      if ((this.sizesHeld & (1 << s)) === 0) continue;
      const vpn = Math.floor(va * inverseSizeOf(s));
      const tag = vpn * sizeOf(s) + s;
      const first = this.setOf(vpn) * this.ways;
      for (let k = first; k < first + this.ways; k++) {
        if (this.tag[k] !== tag) continue;
        const b = k * Entry.Stride;
        const global = (this.data[b + Entry.Attrs] & Attr.Global) !== 0;
        if (global ? globalToo : this.data[b + Entry.Pcid] === pcid) this.tag[k] = Tag.None;
      }
    }
  }

  /** Makes every slot empty, as at construction (`Tlb.materialize`). */
  clear(): void {
    this.tag.fill(Tag.None);
    this.setGlobalEpoch.fill(-1);
    this.setEpoch.fill(-1);
    this.setPcid.fill(-1);
    this.setGlobalWays.fill(0);
    this.sizesHeld = 0;
  }

  /** Number of present entries (a scan: for reports and tests, not hot paths). */
  count(): number {
    let n = 0;
    for (let k = 0; k < this.tag.length; k++) if (this.present(k)) n++;
    return n;
  }

  entry(k: number): TlbEntry {
    const b = k * Entry.Stride;
    const a = this.data[b + Entry.Attrs];
    return {
      pcid: this.data[b + Entry.Pcid],
      va: this.page(k),
      size: this.size(k),
      pa: this.data[b + Entry.Pa],
      global: (a & Attr.Global) !== 0,
      writable: (a & TLB_WRITABLE) !== 0,
      user: (a & TLB_USER) !== 0,
      noExecute: (a & TLB_NO_EXECUTE) !== 0,
      dirty: (a & TLB_DIRTY) !== 0,
      memoryType: a >>> Attr.TypeShift,
    };
  }
}

/** `TlbArray.put`'s attribute word: TLB_* rights, global, PAT memory type. */
function attributes(perms: number, global: boolean, memoryType: number): number {
  return (perms & Attr.Perms) | (global ? Attr.Global : 0) | (memoryType << Attr.TypeShift);
}

function checkPcid(pcid: number, op: string): void {
  if (!(pcid >= 0 && pcid <= 0xfff) || Math.floor(pcid) !== pcid)
    throw new RangeError(`${op}: Entry.Pcid ${String(pcid)} is not in 0..4095`);
}

/**
 * A two-level TLB. Default sizes are Skylake's (limits.ts: 64-entry 4-way L1 dTLB, 1536-entry
 * 12-way STLB). Replacement is LRU within a set; the STLB holds every entry the L1 holds.
 */
export class Tlb {
  private readonly l1: TlbArray;
  private readonly l2: TlbArray | null;
  private readonly epochs = new FlushEpochs();
  /** The object `stats` returns, refreshed on each read (no allocation per read). */
  private readonly statsView: TlbStats = { hits: 0, misses: 0, walks: 0, flushes: 0, invalidations: 0 };
  private hitCount = 0;
  private missCount = 0;
  private walkCount = 0;
  private flushCount = 0;
  private invalidationCount = 0;
  /** Notified after every invalidation or flush (the MMU's fast path). */
  listener: TlbListener | null = null;
  /** Hits served by a fast path in front of this TLB, added to `stats.hits`. */
  fastHitSource: FastHitSource | null = null;

  /** Result of the last successful `find`: page base va, page base pa, size, rights bits, global. */
  hitPage = 0;
  hitPa = 0;
  hitSize = 0;
  hitPerms = 0;
  hitGlobal = false;
  /**
   * Set by `find`: after a miss, the L1 set of the va's 4 KiB page when it holds no present
   * entry and the STLB is in shadow mode or absent (a fill of that page would take the set's
   * first way: `fillVacant`); else -1.
   */
  vacant = -1;

  /**
   * True while the STLB's present entries are exactly the L1's (see `materialize`): the STLB
   * arrays are then left alone, since a lookup there after an L1 miss cannot hit.
   */
  private shadow: boolean;
  /** Whether the levels' geometry allows `shadow`: an STLB set never has more ways than the L1 can fill. */
  private readonly canShadow: boolean;

  /** Builds an empty TLB. Throws RangeError for a malformed level configuration. */
  constructor(options: TlbOptions = {}) {
    const l1 = new TlbArray(options.l1 ?? DEFAULT_L1_TLB, "L1", this.epochs);
    const l2cfg = options.stlb === undefined ? DEFAULT_STLB : options.stlb;
    const l2 = l2cfg === null ? null : new TlbArray(l2cfg, "STLB", this.epochs);
    this.l1 = l1;
    this.l2 = l2;
    // Pages of one STLB set fall in one L1 set when the L1's set count divides the STLB's (a
    // page's set is its number mod the set count); that L1 set holds at most l1.ways of them.
    this.canShadow = l2 !== null && l2.sets % l1.sets === 0 && l1.ways <= l2.ways;
    this.shadow = this.canShadow;
  }

  /**
   * Leaves shadow mode: writes the L1's present entries into the emptied STLB arrays, each
   * with the fill epoch and the LRU stamp the STLB would have given it, oldest first.
   *
   * Shadow mode is exact, and pays only in host time. Every fill goes to both levels, every
   * invalidation and flush applies to both, and an STLB set never needs to evict a present
   * entry while the L1 has not (`canShadow`): so, from an empty TLB, until the L1 first evicts
   * a present entry, the STLB holds exactly the L1's present entries, each with the epoch and
   * (in order) the stamp of its fill, since it is never hit. An L1 miss is then an STLB miss.
   * The slots the STLB would have used for them do not matter: which entries are present and
   * their LRU order decide every later lookup and eviction. An L1 about to evict a present
   * entry calls this first; a flush of everything (`flushAllEntries(false)`) empties both
   * levels and restarts shadow mode.
   */
  private materialize(): void {
    const l1 = this.l1;
    const l2 = this.l2 as TlbArray;
    l2.clear();
    const live: number[] = [];
    for (let k = 0; k < l1.tag.length; k++) if (l1.present(k)) live.push(k);
    const data = l1.data;
    live.sort((a, b) => data[a * Entry.Stride + Entry.FillStamp] - data[b * Entry.Stride + Entry.FillStamp]);
    for (const k of live) {
      const b = k * Entry.Stride;
      const tag = l1.tag[k];
      const s = tag & 3;
      const pcid = data[b + Entry.Pcid];
      const set = l2.setOf((tag - s) * inverseSizeOf(s));
      l2.put(
        l2.victim(set, tag, pcid),
        set,
        tag,
        pcid,
        data[b + Entry.Pa],
        data[b + Entry.Attrs],
        data[b + Entry.Epoch],
        data[b + Entry.FillStamp],
      );
    }
    this.shadow = false;
  }

  /**
   * Counters since construction or the last `resetStats()`. Returns the SAME object on every
   * read, its fields refreshed by the read (callers read it per packet; nothing is allocated).
   * Copy it (`{ ...tlb.stats }`) to keep a snapshot. Never throws.
   */
  get stats(): TlbStats {
    const s = this.statsView;
    s.hits = this.hitCount + (this.fastHitSource === null ? 0 : this.fastHitSource.fastPathHits());
    s.misses = this.missCount;
    s.walks = this.walkCount;
    s.flushes = this.flushCount;
    s.invalidations = this.invalidationCount;
    return s;
  }

  /** `stats.misses` without refreshing the other counters (for per-crossing charging). Never throws. */
  get misses(): number {
    return this.missCount;
  }

  /** Zeroes every counter. */
  resetStats(): void {
    this.hitCount = 0;
    this.missCount = 0;
    this.walkCount = 0;
    this.flushCount = 0;
    this.invalidationCount = 0;
    this.fastHitSource?.resetFastPathHits();
  }

  /** Counts one page walk (called by the MMU). */
  recordWalk(): void {
    this.walkCount++;
  }

  /**
   * `recordWalk` and `insertFromWalk` of a 4 KiB page, in one call, after a `find` that missed
   * and left `vacant` >= 0: caches the translation of `page` (4 KiB aligned, containing the va
   * looked up) to `pa` in the first way of L1 set `vacant`, where `insertFromWalk` would. Any
   * other TLB operation in between corrupts the TLB.
   */
  fillVacant(
    page: number,
    pcid: number,
    pa: number,
    perms: number,
    global: boolean,
    memoryType: number,
  ): void {
    this.walkCount++;
    this.l1.putFirstWay(this.vacant, page, pcid, pa, attributes(perms, global, memoryType));
  }

  /**
   * Looks up `va` for `pcid`, counting a hit or a miss. On a hit returns true and sets
   * hitPage/hitPa/hitSize/hitPerms (an STLB hit is copied into the L1); on a miss returns false
   * and sets `vacant`. Never throws (`va` must be a valid linear address; the MMU checks it).
   */
  find(va: number, pcid: number): boolean {
    const epochs = this.epochs;
    const all = epochs.scalar[Epoch.All];
    const own = epochs.liveFrom(pcid);
    let a = this.l1;
    let k = a.find(va, pcid, all, own);
    if (k < 0 && this.l2 !== null && !this.shadow) {
      a = this.l2;
      k = a.find(va, pcid, all, own);
      if (k >= 0) {
        const j = this.copy(a, k, this.l1);
        a.data[k * Entry.Stride + Entry.Stamp] = epochs.stamp();
        a = this.l1;
        k = j;
      }
    }
    if (k < 0) {
      this.missCount++;
      this.vacant = this.l2 === null || this.shadow ? this.l1.vacant : -1;
      return false;
    }
    this.vacant = -1;
    const b = k * Entry.Stride;
    const data = a.data;
    data[b + Entry.Stamp] = epochs.stamp();
    this.hitCount++;
    const tag = a.tag[k];
    const s = tag & 3;
    const attrs = data[b + Entry.Attrs];
    this.hitPage = tag - s;
    this.hitPa = data[b + Entry.Pa];
    this.hitSize = sizeOf(s);
    this.hitPerms = attrs & Attr.Perms;
    this.hitGlobal = (attrs & Attr.Global) !== 0;
    return true;
  }

  /** Copies entry k of `from` into `to` (an STLB hit into the L1), where `to.victim` says; returns that slot. */
  private copy(from: TlbArray, k: number, to: TlbArray): number {
    const tag = from.tag[k];
    const s = tag & 3;
    const b = k * Entry.Stride;
    const pcid = from.data[b + Entry.Pcid];
    const set = to.setOf((tag - s) * inverseSizeOf(s));
    const j = to.victim(set, tag, pcid);
    to.put(
      j,
      set,
      tag,
      pcid,
      from.data[b + Entry.Pa],
      from.data[b + Entry.Attrs],
      from.data[b + Entry.Epoch],
      this.epochs.stamp(),
    );
    return j;
  }

  /**
   * Caches a translation (replacing one for the same PCID, page and size). `perms` is a
   * combination of TLB_* bits. Throws RangeError for a misaligned page or bad PCID.
   */
  insert(
    pcid: number,
    va: number,
    size: PageSize,
    pa: number,
    perms: number,
    global: boolean,
    memoryType = 0,
  ): void {
    if (va % size !== 0 || pa % size !== 0 || !isLinearAddress(va)) {
      throw new RangeError(
        `Tlb.insert: page ${formatLinear(va)} -> ${String(pa)} is not aligned to its size ${String(size)}`,
      );
    }
    checkPcid(pcid, "Tlb.insert");
    this.fill(pcid, va, size, pa, perms, global, memoryType);
  }

  /**
   * `insert` without its argument checks, for the MMU's page walk, whose arguments are valid
   * by construction: `va` and `pa` aligned to `size`, `va` a linear address, `pcid` in 0..4095.
   * Same effect as insert on valid arguments; anything else corrupts the TLB (use insert).
   */
  insertFromWalk(
    pcid: number,
    va: number,
    size: PageSize,
    pa: number,
    perms: number,
    global: boolean,
    memoryType: number,
  ): void {
    this.fill(pcid, va, size, pa, perms, global, memoryType);
  }

  /**
   * Caches an entry in the L1 and (out of shadow mode) the STLB, each in the slot its `victim`
   * picks. An L1 fill that would evict a present entry in shadow mode first writes the L1's
   * entries into the STLB (`materialize`).
   */
  private fill(
    pcid: number,
    va: number,
    size: number,
    pa: number,
    perms: number,
    global: boolean,
    memoryType: number,
  ): void {
    const tag = va + sizeIndex(size);
    const attrs = attributes(perms, global, memoryType);
    const l1 = this.l1;
    const set = l1.setOf(va * inverseSizeOf(tag & 3));
    const k = l1.victim(set, tag, pcid);
    if (l1.evicts && this.shadow) this.materialize();
    const ep = this.epochs;
    l1.put(k, set, tag, pcid, pa, attrs, ep.scalar[Epoch.Now], ep.stamp());
    if (this.l2 !== null && !this.shadow) this.l2.fill(tag, pcid, pa, attrs);
  }

  /** The entry that would translate `va` for `pcid`, without counting or touching LRU; undefined if none. */
  peek(va: number, pcid: number): TlbEntry | undefined {
    if (!isLinearAddress(va)) return undefined;
    const all = this.epochs.scalar[Epoch.All];
    const own = this.epochs.liveFrom(pcid);
    let k = this.l1.find(va, pcid, all, own);
    if (k >= 0) return this.l1.entry(k);
    if (this.l2 === null || this.shadow) return undefined;
    k = this.l2.find(va, pcid, all, own);
    return k >= 0 ? this.l2.entry(k) : undefined;
  }

  /** Number of present entries (not invalidated or flushed) in the L1 and the STLB; scans both. */
  get occupancy(): { l1: number; stlb: number } {
    return {
      l1: this.l1.count(),
      stlb: this.l2 === null ? 0 : this.shadow ? this.l1.count() : this.l2.count(),
    };
  }

  /**
   * INVLPG semantics: drops the entries for the page containing `va` for `pcid`, and global
   * entries for that page whatever their PCID. Throws RangeError for a bad va or PCID.
   */
  invalidatePage(va: number, pcid: number): void {
    this.dropPage("invalidatePage", va, pcid, true);
  }

  /** INVPCID type 0: drops the non-global entries for the page containing `va` and `pcid`. Throws like invalidatePage. */
  invalidatePageNonGlobal(va: number, pcid: number): void {
    this.dropPage("invalidatePageNonGlobal", va, pcid, false);
  }

  private dropPage(op: string, va: number, pcid: number, globalToo: boolean): void {
    if (!isLinearAddress(va)) throw new RangeError(`Tlb.${op}: ${formatLinear(va)} is not a linear address`);
    checkPcid(pcid, `Tlb.${op}`);
    this.invalidationCount++;
    this.l1.dropPage(va, pcid, globalToo);
    if (!this.shadow) this.l2?.dropPage(va, pcid, globalToo);
    this.listener?.tlbInvalidated();
  }

  /**
   * Drops the entry used for a faulting access: a #PF invalidates the TLB entries for the
   * faulting page and the current PCID (SDM 4.10.4.1). Not counted as an invalidation.
   */
  dropForFault(va: number, pcid: number): void {
    this.l1.dropPage(va, pcid, false);
    if (!this.shadow) this.l2?.dropPage(va, pcid, false);
    this.listener?.tlbInvalidated();
  }

  /**
   * Drops every entry of `pcid` (entries cached under that PCID, global ones included);
   * global entries survive when `keepGlobal` (default false). O(1): see the module comment.
   * Throws RangeError for a bad PCID.
   */
  flushPcid(pcid: number, options: { keepGlobal?: boolean } = {}): void {
    this.flushPcidEntries(pcid, Boolean(options.keepGlobal));
  }

  /**
   * `flushPcid(pcid, { keepGlobal })` without the options object (what MOV CR3 and INVPCID use).
   * Same effect, counting and errors as flushPcid.
   */
  flushPcidEntries(pcid: number, keepGlobal: boolean): void {
    checkPcid(pcid, "Tlb.flushPcid");
    this.flushCount++;
    const e = this.epochs.advance();
    if (keepGlobal) this.epochs.pcidNonGlobal[pcid] = e;
    else this.epochs.pcidAll[pcid] = e;
    this.listener?.tlbInvalidated(keepGlobal);
  }

  /**
   * Drops every entry of every PCID; global entries survive when `keepGlobal` (default false).
   * O(1): see the module comment. Never throws.
   */
  flushAll(options: { keepGlobal?: boolean } = {}): void {
    this.flushAllEntries(Boolean(options.keepGlobal));
  }

  /** `flushAll({ keepGlobal })` without the options object. Same effect and counting; never throws. */
  flushAllEntries(keepGlobal: boolean): void {
    this.flushCount++;
    const e = this.epochs.advance();
    this.epochs.scalar[keepGlobal ? Epoch.NonGlobal : Epoch.All] = e;
    // Both levels are empty: the STLB again holds exactly the L1's entries (none).
    if (!keepGlobal) this.shadow = this.canShadow;
    this.listener?.tlbInvalidated(keepGlobal);
  }
}
