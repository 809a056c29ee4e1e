/**
 * Wait queues: who sleeps until something happens (a datagram arrives on a socket, a stopped
 * device queue runs again). A sleeper is anything with `wake()`; user processes are.
 */

/** Something that can sleep on a WaitQueue. */
export interface Sleeper {
  /** Make it runnable again. Must be idempotent. */
  wake(): void;
}

/** A FIFO of sleepers (Linux wait_queue_head_t with exclusive = false: wake wakes all). */
export class WaitQueue {
  private waiters: Sleeper[] = [];

  /** Number of sleepers. */
  get length(): number {
    return this.waiters.length;
  }

  /** Add `s` (once; adding a sleeper already queued is a no-op). */
  add(s: Sleeper): void {
    if (!this.waiters.includes(s)) this.waiters.push(s);
  }

  /** Remove `s` if queued (a process that exits while asleep). */
  remove(s: Sleeper): void {
    const i = this.waiters.indexOf(s);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  /** Wake every sleeper and empty the queue (wake_up_all). Returns how many were woken. */
  wakeAll(): number {
    const n = this.waiters.length;
    if (n === 0) return 0;
    const list = this.waiters;
    this.waiters = [];
    for (let i = 0; i < n; i++) list[i].wake();
    return n;
  }
}
