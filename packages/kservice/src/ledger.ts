/**
 * The per-driver resource ledger: every resource a driver holds, by kind, so that the kernel can
 * free all of it after a failure and prove an unload leaked nothing. Kept in native mode too.
 *
 * It is consulted on every packet (skbs, DMA mappings, heap blocks), so each kind keeps its keys
 * in an open-addressing table of typed arrays rather than a `Map<number, LedgerEntry>`: keys are
 * mostly 48-bit kernel addresses, which a Map hashes as heap numbers (100-200 ns per operation),
 * and no entry object is made per acquisition (only `get`, `release` and `entries` build one).
 */
import { RESOURCE_KINDS, type ResourceKind } from "./spec.js";

/** What the ledger remembers of one resource. */
export interface LedgerEntry {
  readonly kind: ResourceKind;
  /** The resource's identity: an address, an IRQ number, a bus address. */
  readonly key: number;
  /** The service that acquired it. */
  readonly service: string;
  /** Extra facts the cleanup needs (a size, a device). */
  readonly detail: number;
}

/** Marks a free slot (table keys are non-negative). */
const EMPTY = -1;
/** Smallest table (a power of two). */
const MIN_SLOTS = 16;
/** 2^32, to split a key into its high and low 32 bits. */
const TWO_32 = 4294967296;

/** What a key that does not fit the table (not a non-negative safe integer) keeps. */
interface OddEntry {
  readonly service: string;
  readonly detail: number;
  readonly seq: number;
}

/**
 * The keys of one kind: non-negative safe integers in a linear-probing table (backward-shift
 * deletion); any other number (negative, fractional, NaN) in a Map beside it. A sequence number
 * per key gives acquisition order across both.
 */
class KindTable {
  private keys = new Float64Array(MIN_SLOTS).fill(EMPTY);
  private services: (string | undefined)[] = new Array<string | undefined>(MIN_SLOTS).fill(undefined);
  private details = new Float64Array(MIN_SLOTS);
  private seqs = new Float64Array(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  private shift = 32 - Math.log2(MIN_SLOTS);
  private count = 0;
  private odd: Map<number, OddEntry> | null = null;

  get size(): number {
    return this.count + (this.odd === null ? 0 : this.odd.size);
  }

  private home(key: number): number {
    const lo = key >>> 0;
    const hi = (key / TWO_32) | 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** Slot of a table key, or -1. */
  private find(key: number): number {
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

  has(key: number): boolean {
    if (fits(key)) return this.find(key) >= 0;
    return this.odd?.has(key) === true;
  }

  /** Adds `key` unless present; returns true if added. */
  add(key: number, service: string, detail: number, seq: number): boolean {
    if (!fits(key)) {
      if (this.odd === null) this.odd = new Map();
      if (this.odd.has(key)) return false;
      this.odd.set(key, { service, detail, seq });
      return true;
    }
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(key);
    for (;;) {
      const k = keys[i];
      if (k === key) return false;
      if (k === EMPTY) break;
      i = (i + 1) & mask;
    }
    keys[i] = key;
    this.services[i] = service;
    this.details[i] = detail;
    this.seqs[i] = seq;
    if (++this.count * 2 > keys.length) this.grow();
    return true;
  }

  /** The entry of `key` as a LedgerEntry, or undefined. */
  get(kind: ResourceKind, key: number): LedgerEntry | undefined {
    if (!fits(key)) {
      const e = this.odd?.get(key);
      return e === undefined ? undefined : { kind, key, service: e.service, detail: e.detail };
    }
    const i = this.find(key);
    if (i < 0) return undefined;
    return { kind, key, service: this.services[i] as string, detail: this.details[i] };
  }

  /** Removes `key`; returns its entry, or undefined if absent. */
  remove(kind: ResourceKind, key: number): LedgerEntry | undefined {
    if (!fits(key)) {
      const e = this.odd?.get(key);
      if (e === undefined) return undefined;
      this.odd!.delete(key);
      return { kind, key, service: e.service, detail: e.detail };
    }
    const i = this.find(key);
    if (i < 0) return undefined;
    const entry: LedgerEntry = { kind, key, service: this.services[i] as string, detail: this.details[i] };
    this.removeSlot(i);
    return entry;
  }

  /** Removes `key` without building its entry; returns true if it was present. */
  drop(key: number): boolean {
    if (!fits(key)) return this.odd?.delete(key) === true;
    const i = this.find(key);
    if (i < 0) return false;
    this.removeSlot(i);
    return true;
  }

  /** Empties slot `i` (backward-shift deletion: later entries of its probe run move up). */
  private removeSlot(i: number): void {
    const keys = this.keys;
    const services = this.services;
    const details = this.details;
    const seqs = this.seqs;
    const mask = this.mask;
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
        services[i] = services[j];
        details[i] = details[j];
        seqs[i] = seqs[j];
        i = j;
      }
    }
    keys[i] = EMPTY;
    services[i] = undefined;
    this.count--;
  }

  /** Every entry in acquisition order. */
  entries(kind: ResourceKind): LedgerEntry[] {
    const rows: { seq: number; entry: LedgerEntry }[] = [];
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[i];
      if (key === EMPTY) continue;
      rows.push({
        seq: this.seqs[i],
        entry: { kind, key, service: this.services[i] as string, detail: this.details[i] },
      });
    }
    if (this.odd !== null)
      for (const [key, e] of this.odd)
        rows.push({ seq: e.seq, entry: { kind, key, service: e.service, detail: e.detail } });
    rows.sort((a, b) => a.seq - b.seq);
    return rows.map((r) => r.entry);
  }

  clear(): void {
    this.keys.fill(EMPTY);
    this.services.fill(undefined);
    this.count = 0;
    this.odd = null;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldServices = this.services;
    const oldDetails = this.details;
    const oldSeqs = this.seqs;
    const slots = oldKeys.length * 2;
    this.keys = new Float64Array(slots).fill(EMPTY);
    this.services = new Array<string | undefined>(slots).fill(undefined);
    this.details = new Float64Array(slots);
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
      this.services[i] = oldServices[s];
      this.details[i] = oldDetails[s];
      this.seqs[i] = oldSeqs[s];
    }
  }
}

/** True if `key` goes in the table: a non-negative safe integer. */
function fits(key: number): boolean {
  return key >= 0 && key <= Number.MAX_SAFE_INTEGER && key % 1 === 0;
}

/** One driver's resources. */
export class Ledger {
  private readonly byKind = new Map<ResourceKind, KindTable>(
    RESOURCE_KINDS.map((kind) => [kind, new KindTable()]),
  );
  private nextSeq = 0;

  /**
   * Record that the driver now holds `key` of `kind`. Returns false (and records nothing new)
   * if it already held it: re-arming a timer or re-queueing work is not a second resource.
   */
  acquire(kind: ResourceKind, key: number, service: string, detail = 0): boolean {
    return this.table(kind).add(key, service, detail, this.nextSeq++);
  }

  /** Forget `key` of `kind`. Returns the entry, or undefined if the driver did not hold it. */
  release(kind: ResourceKind, key: number): LedgerEntry | undefined {
    return this.table(kind).remove(kind, key);
  }

  /**
   * Forget `key` of `kind` as `release` does, without building the entry (for hot paths that do
   * not need it). Returns true if the driver held it.
   */
  drop(kind: ResourceKind, key: number): boolean {
    return this.table(kind).drop(key);
  }

  /** True if the driver holds `key` of `kind`. */
  has(kind: ResourceKind, key: number): boolean {
    return this.table(kind).has(key);
  }

  /** The entry for `key` of `kind`, if held. */
  get(kind: ResourceKind, key: number): LedgerEntry | undefined {
    return this.table(kind).get(kind, key);
  }

  /** How many resources of `kind` (or of every kind) the driver holds. */
  count(kind?: ResourceKind): number {
    if (kind) return this.table(kind).size;
    let n = 0;
    for (const t of this.byKind.values()) n += t.size;
    return n;
  }

  /** Every entry, in RESOURCE_KINDS order, then acquisition order. */
  entries(kind?: ResourceKind): LedgerEntry[] {
    if (kind) return this.table(kind).entries(kind);
    return [...this.byKind].flatMap(([k, t]) => t.entries(k));
  }

  /** Counts by kind, only the kinds held; for reports and leak messages. */
  summary(): Partial<Record<ResourceKind, number>> {
    const out: Partial<Record<ResourceKind, number>> = {};
    for (const [kind, t] of this.byKind) if (t.size > 0) out[kind] = t.size;
    return out;
  }

  /** Forget everything (after the kernel has freed it all). */
  clear(): void {
    for (const t of this.byKind.values()) t.clear();
  }

  private table(kind: ResourceKind): KindTable {
    const t = this.byKind.get(kind);
    if (t === undefined) throw new RangeError(`Ledger: "${String(kind)}" is not a resource kind`);
    return t;
  }
}
