/**
 * `AddrMap`: a map from addresses (non-negative integers below 2^53) to values, for the kernel's
 * per-packet bookkeeping (heap blocks, skb records, the resource ledger). It behaves as a
 * `Map<number, V>` restricted to such keys, including iteration in insertion order, but keeps
 * the keys in a typed array with open addressing (linear probing, backward-shift deletion), so
 * a lookup is a multiply and a few array reads instead of hashing a heap number: V8's Map costs
 * 100-200 ns per operation on 48-bit kernel addresses, this about a tenth of that.
 *
 * Each entry also carries a number beside its value (`aux`, 0 unless given), kept in a typed
 * array, so that a caller needing a value and a number per key (the ledger: a service name and
 * a size) makes no object per entry.
 */

/** Marks a free slot (no address is negative). */
const EMPTY = -1;
/** Smallest table (a power of two). */
const MIN_SLOTS = 16;
/** 2^32, to split a key into its high and low 32 bits. */
const TWO_32 = 4294967296;

/**
 * An insertion-ordered map from non-negative integer keys (below 2^53) to values, each with a
 * side number (`aux`). Lookups of other keys find nothing; storing one throws a RangeError.
 */
export class AddrMap<V> {
  private keys: Float64Array;
  private vals: (V | undefined)[];
  /** Side number of each slot's entry. */
  private auxs: Float64Array;
  /** Insertion sequence number of each slot's entry (for insertion-order iteration). */
  private seqs: Float64Array;
  private shift: number;
  private mask: number;
  private count = 0;
  private nextSeq = 0;
  private lastAux = 0;

  /** An empty map with room for about `capacity` entries before it first grows. */
  constructor(capacity = MIN_SLOTS / 2) {
    let slots = MIN_SLOTS;
    while (slots < capacity * 2) slots *= 2;
    this.keys = new Float64Array(slots).fill(EMPTY);
    this.vals = new Array<V | undefined>(slots).fill(undefined);
    this.auxs = new Float64Array(slots);
    this.seqs = new Float64Array(slots);
    this.mask = slots - 1;
    this.shift = 32 - Math.log2(slots);
  }

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /**
   * How many new keys have been stored since construction (`clear` does not reset it): the
   * `seqOf` the next new key will get.
   */
  get insertions(): number {
    return this.nextSeq;
  }

  /** Home slot of `key` (Fibonacci hashing of both 32-bit halves). */
  private home(key: number): number {
    const lo = key >>> 0;
    const hi = (key / TWO_32) | 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** Slot holding `key`, or -1. */
  private find(key: number): number {
    if (!(key >= 0)) return -1;
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(key);
    for (;;) {
      const k = keys[i];
      if (k === key) return i;
      if (k === EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }

  /** The value of `key`, or undefined. */
  get(key: number): V | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.vals[i];
  }

  /** The side number of `key`'s entry (0 unless one was given), or undefined if absent. */
  aux(key: number): number | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.auxs[i];
  }

  /** True if `key` is present. */
  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  /**
   * Insertion sequence number of `key`'s entry (the value of `insertions` when the key was
   * stored; an update keeps it), or -1 if absent.
   */
  seqOf(key: number): number {
    const i = this.find(key);
    return i < 0 ? -1 : this.seqs[i];
  }

  /**
   * Set `key` to `value` and its side number to `aux` (an existing key keeps its place in
   * insertion order, as in a Map). Returns the map. Throws RangeError for a key that is not a
   * non-negative integer below 2^53.
   */
  set(key: number, value: V, aux = 0): this {
    if (!Number.isSafeInteger(key) || key < 0) throw badKey("set", key);
    const i = this.probe(key);
    if (i >= 0) {
      this.vals[i] = value;
      this.auxs[i] = aux;
    } else this.append(-i - 1, key, value, aux);
    return this;
  }

  /**
   * Set `key` to `value` with side number `aux` only if absent (one probe instead of has +
   * set). Returns true if it was inserted, false if the key was present (its value and side
   * number unchanged). Throws as `set`.
   */
  insert(key: number, value: V, aux = 0): boolean {
    if (!Number.isSafeInteger(key) || key < 0) throw badKey("insert", key);
    const i = this.probe(key);
    if (i >= 0) return false;
    this.append(-i - 1, key, value, aux);
    return true;
  }

  /** The slot holding `key` (>= 0), or -(the empty slot where it would go) - 1. */
  private probe(key: number): number {
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(key);
    for (;;) {
      const k = keys[i];
      if (k === key) return i;
      if (k === EMPTY) return -i - 1;
      i = (i + 1) & mask;
    }
  }

  /** Put a new entry in empty slot `i`, in insertion order; grows the table when half full. */
  private append(i: number, key: number, value: V, aux: number): void {
    this.keys[i] = key;
    this.vals[i] = value;
    this.auxs[i] = aux;
    this.seqs[i] = this.nextSeq++;
    if (++this.count * 2 > this.keys.length) this.grow();
  }

  /**
   * Remove `key` and return its value (one probe instead of get + aux + delete); its side
   * number is then `takenAux` until the next `take`. Returns undefined (and leaves `takenAux`
   * as it was) if the key is absent.
   */
  take(key: number): V | undefined {
    const i = this.find(key);
    if (i < 0) return undefined;
    const value = this.vals[i];
    this.lastAux = this.auxs[i];
    this.removeSlot(i);
    return value;
  }

  /** Side number of the entry the last successful `take` removed (0 before any). */
  get takenAux(): number {
    return this.lastAux;
  }

  /** Remove `key`; returns true if it was present. */
  delete(key: number): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    this.removeSlot(i);
    return true;
  }

  /** Empties slot `i` (backward-shift deletion: later entries of its probe run move up). */
  private removeSlot(i: number): void {
    const keys = this.keys;
    const vals = this.vals;
    const auxs = this.auxs;
    const seqs = this.seqs;
    const mask = this.mask;
    // backward-shift deletion: pull later entries of the probe run into the hole
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = keys[j];
      if (k === EMPTY) break;
      const h = this.home(k);
      // the entry at j may move to i unless its home lies cyclically in (i, j]
      const stays = i <= j ? i < h && h <= j : i < h || h <= j;
      if (!stays) {
        keys[i] = k;
        vals[i] = vals[j];
        auxs[i] = auxs[j];
        seqs[i] = seqs[j];
        i = j;
      }
    }
    keys[i] = EMPTY;
    vals[i] = undefined;
    this.count--;
  }

  /** Remove every entry. */
  clear(): void {
    this.keys.fill(EMPTY);
    this.vals.fill(undefined);
    this.count = 0;
  }

  /** The values in insertion order (a fresh array; not for hot paths). */
  values(): V[] {
    return this.slotsInOrder().map((i) => this.vals[i] as V);
  }

  /** The keys in insertion order (a fresh array; not for hot paths). */
  keyList(): number[] {
    return this.slotsInOrder().map((i) => this.keys[i]);
  }

  private slotsInOrder(): number[] {
    const slots: number[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== EMPTY) slots.push(i);
    return slots.sort((a, b) => this.seqs[a] - this.seqs[b]);
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const oldAuxs = this.auxs;
    const oldSeqs = this.seqs;
    const slots = oldKeys.length * 2;
    this.keys = new Float64Array(slots).fill(EMPTY);
    this.vals = new Array<V | undefined>(slots).fill(undefined);
    this.auxs = new Float64Array(slots);
    this.seqs = new Float64Array(slots);
    this.mask = slots - 1;
    this.shift = 32 - Math.log2(slots);
    const keys = this.keys;
    for (let s = 0; s < oldKeys.length; s++) {
      const k = oldKeys[s];
      if (k === EMPTY) continue;
      let i = this.home(k);
      while (keys[i] !== EMPTY) i = (i + 1) & this.mask;
      keys[i] = k;
      this.vals[i] = oldVals[s];
      this.auxs[i] = oldAuxs[s];
      this.seqs[i] = oldSeqs[s];
    }
  }
}

/** The error for storing a key that is not an address (out of line: keeps set and insert small). */
function badKey(op: string, key: number): RangeError {
  return new RangeError(`AddrMap.${op}: key ${String(key)} is not a non-negative integer address`);
}
