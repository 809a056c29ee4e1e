/**
 * Simulated-time events for devices and timers: a binary min-heap keyed by (time ns, schedule
 * order), so equal times run first-in first-out. Cancellation is lazy: a cancelled id stays in
 * the heap until it reaches the top and is dropped there.
 */

import type { SimClock } from "./clock.js";

/** The structural interface the NIC model and timers use. */
export interface EventScheduler {
  /** Current simulated time in ns. */
  now(): number;
  /** Schedules `callback` at `atNs`; returns an id for `cancel`. */
  schedule(atNs: number, callback: () => void): number;
  /** Cancels a pending event; unknown or already-run ids are ignored. */
  cancel(id: number): void;
}

/** The clock operations the queue needs (SimClock satisfies it). */
export type EventClock = Pick<SimClock, "nowNs" | "idleUntil">;

/** A simulated-time event queue over a clock. */
export class EventQueue implements EventScheduler {
  private readonly clock: EventClock;
  // Heap in parallel arrays: times, ids (ids grow with schedule order, so they break ties FIFO).
  private times: number[] = [];
  private ids: number[] = [];
  private callbacks: (() => void)[] = [];
  private readonly pending = new Set<number>();
  /** Cancelled events still in the heap: while 0, its top is pending and needs no Set lookup. */
  private cancelledInHeap = 0;
  private nextId = 1;

  /** Creates an empty queue over `clock`. Throws TypeError if `clock` has no `nowNs`/`idleUntil`. */
  constructor(clock: EventClock) {
    if (typeof clock?.nowNs !== "number" || typeof clock.idleUntil !== "function") {
      throw new TypeError("EventQueue: clock must have a numeric nowNs and an idleUntil(ns) method");
    }
    this.clock = clock;
  }

  /** Current simulated time in ns (the clock's). */
  now(): number {
    return this.clock.nowNs;
  }

  /** Number of pending (scheduled, not run, not cancelled) events. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Schedules `callback` at `atNs` (a time in the past runs at the next `runDue`). Returns its
   * id (a positive integer). Throws RangeError if `atNs` is NaN or infinite, TypeError if
   * `callback` is not a function.
   */
  schedule(atNs: number, callback: () => void): number {
    if (typeof atNs !== "number" || !Number.isFinite(atNs)) {
      throw new RangeError(`EventQueue.schedule: time must be a finite number of ns, got ${String(atNs)}`);
    }
    if (typeof callback !== "function") {
      throw new TypeError(`EventQueue.schedule: callback must be a function, got ${typeof callback}`);
    }
    const id = this.nextId++;
    this.pending.add(id);
    const times = this.times;
    const ids = this.ids;
    const cbs = this.callbacks;
    let i = times.length;
    times.push(atNs);
    ids.push(id);
    cbs.push(callback);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] < atNs || (times[parent] === atNs && ids[parent] < id)) break;
      times[i] = times[parent];
      ids[i] = ids[parent];
      cbs[i] = cbs[parent];
      i = parent;
    }
    times[i] = atNs;
    ids[i] = id;
    cbs[i] = callback;
    return id;
  }

  /** Cancels event `id` if it is pending; otherwise does nothing. */
  cancel(id: number): void {
    if (this.pending.delete(id)) this.cancelledInHeap++;
  }

  /** Time (ns) of the earliest pending event, or Infinity if none. */
  nextTime(): number {
    this.dropCancelled();
    return this.times.length === 0 ? Number.POSITIVE_INFINITY : this.times[0];
  }

  /**
   * Runs every event due at or before now, in time then FIFO order, including events those
   * callbacks schedule at or before now. Returns how many ran. An exception from a callback
   * propagates; that event is already removed and the rest stay queued.
   */
  runDue(): number {
    let ran = 0;
    for (;;) {
      this.dropCancelled();
      if (this.times.length === 0 || this.times[0] > this.clock.nowNs) return ran;
      this.popAndRun();
      ran++;
    }
  }

  /**
   * Idles the clock forward to the earliest pending event (never backward) and runs it.
   * Returns false if the queue was empty, true if an event ran.
   */
  runNext(): boolean {
    this.dropCancelled();
    if (this.times.length === 0) return false;
    this.clock.idleUntil(this.times[0]);
    this.popAndRun();
    return true;
  }

  /** Removes every pending event (ids already handed out stay unique). */
  clear(): void {
    this.times = [];
    this.ids = [];
    this.callbacks = [];
    this.pending.clear();
    this.cancelledInHeap = 0;
  }

  private dropCancelled(): void {
    if (this.cancelledInHeap === 0) return;
    while (this.ids.length > 0 && !this.pending.has(this.ids[0])) {
      this.removeTop();
      this.cancelledInHeap--;
    }
  }

  private popAndRun(): void {
    const cb = this.callbacks[0];
    this.pending.delete(this.ids[0]);
    this.removeTop();
    cb();
  }

  private removeTop(): void {
    const times = this.times;
    const ids = this.ids;
    const cbs = this.callbacks;
    const lastTime = times.pop()!;
    const lastId = ids.pop()!;
    const lastCb = cbs.pop()!;
    const n = times.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (times[r] < times[l] || (times[r] === times[l] && ids[r] < ids[l]))) c = r;
      if (lastTime < times[c] || (lastTime === times[c] && lastId < ids[c])) break;
      times[i] = times[c];
      ids[i] = ids[c];
      cbs[i] = cbs[c];
      i = c;
    }
    times[i] = lastTime;
    ids[i] = lastId;
    cbs[i] = lastCb;
  }
}
