/**
 * The per-driver resource ledger: every resource a driver holds, by kind, so that the kernel can
 * free all of it after a failure and prove an unload leaked nothing. Kept in native mode too.
 *
 * It is consulted on every packet (skbs, DMA mappings, heap blocks), so each kind keeps its keys
 * in an AddrMap (open addressing over typed arrays) rather than a `Map<number, LedgerEntry>`:
 * keys are mostly 48-bit kernel addresses, which a Map hashes as heap numbers (100-200 ns per
 * operation), and no entry object is made per acquisition (the service name is the AddrMap's
 * value, the detail its side number; only `get`, `release` and `entries` build an entry).
 */
import { AddrMap } from "./addrmap.js";
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

/** What a key that does not fit the table (not a non-negative safe integer) keeps. */
interface OddEntry {
  readonly service: string;
  readonly detail: number;
  /** The table's `insertions` when it was acquired: it comes after every table key stored before. */
  readonly seq: number;
}

/**
 * The keys of one kind: non-negative safe integers in an AddrMap (the service name as value,
 * the detail as its side number); any other number (negative, fractional, NaN) in a Map beside
 * it, ordered against the table's keys by the table's insertion count.
 */
class KindTable {
  private readonly table = new AddrMap<string>();
  private odd: Map<number, OddEntry> | null = null;

  get size(): number {
    return this.table.size + (this.odd === null ? 0 : this.odd.size);
  }

  has(key: number): boolean {
    if (fits(key)) return this.table.has(key);
    return this.odd?.has(key) === true;
  }

  /** Adds `key` unless present; returns true if added. */
  add(key: number, service: string, detail: number): boolean {
    if (fits(key)) return this.table.insert(key, service, detail);
    if (this.odd === null) this.odd = new Map();
    if (this.odd.has(key)) return false;
    this.odd.set(key, { service, detail, seq: this.table.insertions });
    return true;
  }

  /** The entry of `key` as a LedgerEntry, or undefined. */
  get(kind: ResourceKind, key: number): LedgerEntry | undefined {
    if (!fits(key)) {
      const e = this.odd?.get(key);
      return e === undefined ? undefined : { kind, key, service: e.service, detail: e.detail };
    }
    const service = this.table.get(key);
    if (service === undefined) return undefined;
    return { kind, key, service, detail: this.table.aux(key) as number };
  }

  /** Removes `key`; returns its entry, or undefined if absent. */
  remove(kind: ResourceKind, key: number): LedgerEntry | undefined {
    if (fits(key)) {
      const service = this.table.take(key);
      return service === undefined ? undefined : { kind, key, service, detail: this.table.takenAux };
    }
    const e = this.odd?.get(key);
    if (e === undefined) return undefined;
    this.odd!.delete(key);
    return { kind, key, service: e.service, detail: e.detail };
  }

  /** Removes `key` without building its entry; returns true if it was present. */
  drop(key: number): boolean {
    if (fits(key)) return this.table.delete(key);
    return this.odd?.delete(key) === true;
  }

  /** Every entry in acquisition order. */
  entries(kind: ResourceKind): LedgerEntry[] {
    const table = this.table;
    const keys = table.keyList();
    const services = table.values();
    const rows: { seq: number; entry: LedgerEntry }[] = [];
    // a table key sorts after an odd key of the same seq (which was acquired before it)
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      rows.push({
        seq: table.seqOf(key) + 0.5,
        entry: { kind, key, service: services[i], detail: table.aux(key) as number },
      });
    }
    if (this.odd !== null)
      for (const [key, e] of this.odd)
        rows.push({ seq: e.seq, entry: { kind, key, service: e.service, detail: e.detail } });
    rows.sort((a, b) => a.seq - b.seq);
    return rows.map((r) => r.entry);
  }

  clear(): void {
    this.table.clear();
    this.odd = null;
  }
}

/** True if `key` goes in the table: a non-negative safe integer. */
function fits(key: number): boolean {
  // the same test as AddrMap's, so that the compiler can share it with the one in insert
  return Number.isSafeInteger(key) && key >= 0;
}

/** One driver's resources. */
export class Ledger {
  private readonly byKind = new Map<ResourceKind, KindTable>(
    RESOURCE_KINDS.map((kind) => [kind, new KindTable()]),
  );
  /**
   * Record that the driver now holds `key` of `kind`. Returns false (and records nothing new)
   * if it already held it: re-arming a timer or re-queueing work is not a second resource.
   */
  acquire(kind: ResourceKind, key: number, service: string, detail = 0): boolean {
    return this.table(kind).add(key, service, detail);
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
