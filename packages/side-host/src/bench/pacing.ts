/**
 * A scheduler adapter for traffic sources that stand for another machine on the wire. The
 * simulated CPU advances time in chunks (a charge of a few thousand cycles moves the clock by
 * about a microsecond), so an event fires at the first boundary at or after its time. A source
 * that schedules its next frame at `now() + interval` would then drift slower than its rate
 * whenever our CPU is busy, although the far machine does not share our CPU. Through this
 * adapter a callback sees `now()` = the time it was scheduled for, so a source's pacing (and
 * its timestamps) follow its own ideal timeline; a late frame goes out at once and the wire
 * (net-nic's Link) serializes it behind the previous one.
 */
import type { Scheduler } from "@side-kernel/net-nic";

/** Wraps `inner`; see the file comment. Callbacks must be scheduled in nondecreasing time order. */
export class PacedScheduler implements Scheduler {
  private readonly times: number[] = [];
  private readonly callbacks: (() => void)[] = [];
  private readonly ids: number[] = [];
  private readonly cancelled = new Set<number>();
  private head = 0;
  private lastAt = Number.NEGATIVE_INFINITY;
  private virtualNow = Number.NaN;
  private readonly fire: () => void;

  constructor(private readonly inner: Scheduler) {
    this.fire = () => this.runNext();
  }

  /** The scheduled time of the running callback, else the inner scheduler's time. */
  now(): number {
    return Number.isNaN(this.virtualNow) ? this.inner.now() : this.virtualNow;
  }

  /**
   * Schedule `callback` at `atNs` on the inner scheduler. Returns the inner id. Throws
   * RangeError when `atNs` is earlier than a time scheduled before (the FIFO needs order).
   */
  schedule(atNs: number, callback: () => void): number {
    if (!(atNs >= this.lastAt))
      throw new RangeError(
        `PacedScheduler.schedule: ${atNs} ns is before the previously scheduled ${this.lastAt} ns`,
      );
    this.lastAt = atNs;
    const id = this.inner.schedule(atNs, this.fire);
    this.times.push(atNs);
    this.callbacks.push(callback);
    this.ids.push(id);
    return id;
  }

  /** Cancel a pending callback (unknown ids are ignored). */
  cancel(id: number): void {
    this.inner.cancel(id);
    this.cancelled.add(id);
  }

  private runNext(): void {
    const i = this.head++;
    const at = this.times[i];
    const cb = this.callbacks[i];
    const id = this.ids[i];
    if (this.head === this.times.length) {
      this.head = 0;
      this.times.length = 0;
      this.callbacks.length = 0;
      this.ids.length = 0;
    }
    if (this.cancelled.delete(id)) return;
    this.virtualNow = at;
    try {
      cb();
    } finally {
      this.virtualNow = Number.NaN;
    }
  }
}
