/**
 * Time services: `struct timer_list` timers (timer_setup, mod_timer, del_timer_sync) fired from
 * the EventQueue into the TIMER softirq, and a workqueue (INIT_WORK, INIT_DELAYED_WORK,
 * schedule_work, schedule_delayed_work, cancel_*_sync) run in process context by the run loop.
 * The callback address is read from the object in memory when it fires, as the kernel does.
 */
import { DelayedWork, TimerList, WorkStruct } from "@side-kernel/kservice";
import type { DriverInstance } from "./driver.js";
import { type Kernel, NS_PER_JIFFY } from "./kernel.js";

interface TimerRecord {
  readonly ptr: number;
  owner: DriverInstance;
  eventId: number;
}

/** Timers. */
export class TimerCore {
  private readonly armed = new Map<number, TimerRecord>();
  private expired: TimerRecord[] = [];
  /** Timer callbacks run. */
  fired = 0;

  constructor(private readonly kn: Kernel) {}

  /** timer_setup: store the callback, clear expires and flags. */
  setup(timer: number, fn: number, flags: number): void {
    const mmu = this.kn.mmu;
    mmu.storePtr(timer + TimerList.function, fn);
    mmu.store64(timer + TimerList.expires, 0);
    mmu.store32(timer + TimerList.flags, flags);
  }

  /** True if `timer` is armed (or expired and not yet run). */
  pending(timer: number): boolean {
    return this.armed.has(timer) || this.expired.some((t) => t.ptr === timer);
  }

  /**
   * mod_timer: (re)arm `timer` for `expires` jiffies (a time already past fires at the next
   * boundary). Returns 1 if it was pending, else 0.
   */
  mod(inst: DriverInstance, timer: number, expires: number): number {
    const was = this.cancel(timer);
    const at = Math.max(this.kn.nowNs, expires * NS_PER_JIFFY);
    const rec: TimerRecord = { ptr: timer, owner: inst, eventId: 0 };
    rec.eventId = this.kn.machine.events.schedule(at, () => {
      this.armed.delete(timer);
      this.expired.push(rec);
    });
    this.armed.set(timer, rec);
    this.kn.mmu.store64(timer + TimerList.expires, expires);
    return was ? 1 : 0;
  }

  /** Disarm; returns true if it was pending. */
  private cancel(timer: number): boolean {
    const rec = this.armed.get(timer);
    if (rec !== undefined) {
      this.kn.machine.events.cancel(rec.eventId);
      this.armed.delete(timer);
      return true;
    }
    const i = this.expired.findIndex((t) => t.ptr === timer);
    if (i >= 0) {
      this.expired.splice(i, 1);
      return true;
    }
    return false;
  }

  /** del_timer_sync: disarm; 1 if it was pending. (No callback runs concurrently on one CPU.) */
  del(timer: number): number {
    return this.cancel(timer) ? 1 : 0;
  }

  /** Timers of `inst` still armed (for leak reports). */
  armedBy(inst: DriverInstance): number {
    let n = 0;
    for (const t of this.armed.values()) if (t.owner === inst) n++;
    for (const t of this.expired) if (t.owner === inst) n++;
    return n;
  }

  /** True if expired timers wait for the TIMER softirq. */
  hasExpired(): boolean {
    return this.expired.length > 0;
  }

  /** TIMER softirq: run every expired timer's callback (read from the timer_list). */
  runExpired(): void {
    if (this.expired.length === 0) return;
    const list = this.expired;
    this.expired = [];
    for (const t of list) {
      t.owner.ledger.drop("timer", t.ptr);
      this.fired++;
      t.owner.call(this.kn.mmu.loadPtr(t.ptr + TimerList.function), t.ptr);
    }
  }
}

interface WorkRecord {
  readonly ptr: number;
  readonly owner: DriverInstance;
  /** Event id of a delayed work's timer, or -1 once runnable. */
  eventId: number;
}

/** The system workqueue (one worker, process context). */
export class WorkQueue {
  private readonly pendingWork = new Map<number, WorkRecord>();
  private runnable: WorkRecord[] = [];
  private running: number | null = null;
  /** Work items run. */
  ran = 0;

  constructor(private readonly kn: Kernel) {}

  /** INIT_WORK: store the function, clear data. */
  init(work: number, fn: number): void {
    this.kn.mmu.storePtr(work + WorkStruct.func, fn);
    this.kn.mmu.store64(work + WorkStruct.data, 0);
  }

  /** INIT_DELAYED_WORK: INIT_WORK on the embedded work, clear the timer. */
  initDelayed(dwork: number, fn: number): void {
    this.init(dwork + DelayedWork.work, fn);
    this.kn.mmu.store64(dwork + DelayedWork.timer + TimerList.expires, 0);
  }

  /** schedule_work / schedule_delayed_work: 1 if queued now, 0 if it was already pending. */
  schedule(inst: DriverInstance, work: number, delayJiffies: number): number {
    if (this.pendingWork.has(work)) return 0;
    const rec: WorkRecord = { ptr: work, owner: inst, eventId: -1 };
    this.pendingWork.set(work, rec);
    if (delayJiffies <= 0) {
      this.runnable.push(rec);
    } else {
      rec.eventId = this.kn.machine.events.schedule(this.kn.nowNs + delayJiffies * NS_PER_JIFFY, () => {
        rec.eventId = -1;
        this.runnable.push(rec);
      });
    }
    return 1;
  }

  /** cancel_work_sync / cancel_delayed_work_sync: 1 if it was pending. */
  cancel(work: number): number {
    const rec = this.pendingWork.get(work);
    if (rec === undefined) return 0;
    if (rec.eventId >= 0) this.kn.machine.events.cancel(rec.eventId);
    else this.runnable.splice(this.runnable.indexOf(rec), 1);
    this.pendingWork.delete(work);
    return 1;
  }

  /** Run one runnable work item (not re-entered while it runs). Returns true if one ran. */
  runOne(): boolean {
    if (this.runnable.length === 0 || this.running !== null) return false;
    if (this.kn.inIrq > 0 || this.kn.inSoftirq > 0) return false;
    const rec = this.runnable.shift()!;
    this.pendingWork.delete(rec.ptr);
    rec.owner.ledger.drop("work", rec.ptr);
    this.ran++;
    this.running = rec.ptr;
    try {
      rec.owner.call(this.kn.mmu.loadPtr(rec.ptr + WorkStruct.func), rec.ptr);
    } finally {
      this.running = null;
    }
    return true;
  }
}
