/**
 * The per-driver resource ledger: every resource a driver holds, by kind, so that the kernel can
 * free all of it after a failure and prove an unload leaked nothing. Kept in native mode too.
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

/** One driver's resources. */
export class Ledger {
  private readonly byKind = new Map<ResourceKind, Map<number, LedgerEntry>>(
    RESOURCE_KINDS.map((kind) => [kind, new Map()]),
  );

  /**
   * Record that the driver now holds `key` of `kind`. Returns false (and records nothing new)
   * if it already held it: re-arming a timer or re-queueing work is not a second resource.
   */
  acquire(kind: ResourceKind, key: number, service: string, detail = 0): boolean {
    const set = this.byKind.get(kind)!;
    if (set.has(key)) return false;
    set.set(key, { kind, key, service, detail });
    return true;
  }

  /** Forget `key` of `kind`. Returns the entry, or undefined if the driver did not hold it. */
  release(kind: ResourceKind, key: number): LedgerEntry | undefined {
    const set = this.byKind.get(kind)!;
    const entry = set.get(key);
    if (entry) set.delete(key);
    return entry;
  }

  /** True if the driver holds `key` of `kind`. */
  has(kind: ResourceKind, key: number): boolean {
    return this.byKind.get(kind)!.has(key);
  }

  /** The entry for `key` of `kind`, if held. */
  get(kind: ResourceKind, key: number): LedgerEntry | undefined {
    return this.byKind.get(kind)!.get(key);
  }

  /** How many resources of `kind` (or of every kind) the driver holds. */
  count(kind?: ResourceKind): number {
    if (kind) return this.byKind.get(kind)!.size;
    let n = 0;
    for (const set of this.byKind.values()) n += set.size;
    return n;
  }

  /** Every entry, in RESOURCE_KINDS order, then acquisition order. */
  entries(kind?: ResourceKind): LedgerEntry[] {
    if (kind) return [...this.byKind.get(kind)!.values()];
    return [...this.byKind.values()].flatMap((set) => [...set.values()]);
  }

  /** Counts by kind, only the kinds held; for reports and leak messages. */
  summary(): Partial<Record<ResourceKind, number>> {
    const out: Partial<Record<ResourceKind, number>> = {};
    for (const [kind, set] of this.byKind) if (set.size > 0) out[kind] = set.size;
    return out;
  }

  /** Forget everything (after the kernel has freed it all). */
  clear(): void {
    for (const set of this.byKind.values()) set.clear();
  }
}
