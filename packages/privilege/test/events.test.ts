import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventQueue, SimClock } from "../src/index.js";

describe("EventQueue", () => {
  it("runs events in time order, FIFO for equal times", () => {
    const clock = new SimClock();
    const q = new EventQueue(clock);
    const out: string[] = [];
    q.schedule(300, () => out.push("c"));
    q.schedule(100, () => out.push("a1"));
    q.schedule(100, () => out.push("a2"));
    q.schedule(200, () => out.push("b"));
    q.schedule(100, () => out.push("a3"));
    expect(q.size).toBe(5);
    expect(q.nextTime()).toBe(100);
    while (q.runNext());
    expect(out).toEqual(["a1", "a2", "a3", "b", "c"]);
    expect(clock.nowNs).toBe(300);
    expect(clock.busyCycles).toBe(0);
    expect(q.nextTime()).toBe(Number.POSITIVE_INFINITY);
    expect(q.runNext()).toBe(false);
  });

  it("cancel removes a pending event; cancelling twice or unknown ids is harmless", () => {
    const q = new EventQueue(new SimClock());
    const out: number[] = [];
    const a = q.schedule(10, () => out.push(1));
    q.schedule(20, () => out.push(2));
    q.cancel(a);
    q.cancel(a);
    q.cancel(999);
    expect(q.size).toBe(1);
    expect(q.nextTime()).toBe(20);
    q.runNext();
    expect(out).toEqual([2]);
  });

  it("runDue runs what is due, including events scheduled by callbacks for now", () => {
    const clock = new SimClock();
    const q = new EventQueue(clock);
    const out: string[] = [];
    q.schedule(50, () => {
      out.push("x");
      q.schedule(q.now(), () => out.push("y"));
      q.schedule(q.now() + 1, () => out.push("later"));
    });
    q.schedule(500, () => out.push("z"));
    expect(q.runDue()).toBe(0);
    clock.charge("kernel", 3 * 60); // 60 ns busy
    expect(q.runDue()).toBe(2);
    expect(out).toEqual(["x", "y"]);
    expect(q.size).toBe(2);
  });

  it("an idle jump lands exactly on the event time", () => {
    const clock = new SimClock({ hz: 2.4e9 });
    const q = new EventQueue(clock);
    let at = -1;
    q.schedule(1234.567, () => {
      at = q.now();
    });
    q.runNext();
    expect(at).toBe(1234.567);
    expect(q.runDue()).toBe(0);
  });

  it("rejects bad input precisely", () => {
    const q = new EventQueue(new SimClock());
    expect(() => q.schedule(Number.NaN, () => {})).toThrow(RangeError);
    expect(() => q.schedule(Number.POSITIVE_INFINITY, () => {})).toThrow(RangeError);
    expect(() => q.schedule(1, "x" as never)).toThrow(TypeError);
    expect(() => new EventQueue({} as never)).toThrow(TypeError);
  });

  it("property: the run order is the stable sort by time, with random cancels", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.boolean()), { maxLength: 200 }),
        (items) => {
          const clock = new SimClock();
          const q = new EventQueue(clock);
          const ran: number[] = [];
          const ids = items.map(([t], i) => q.schedule(t, () => ran.push(i)));
          items.forEach(([, cancel], i) => {
            if (cancel) q.cancel(ids[i]);
          });
          const kept = items.map(([t, c], i) => ({ t, c, i })).filter((x) => !x.c);
          expect(q.size).toBe(kept.length);
          while (q.runNext());
          const expected = kept.sort((a, b) => a.t - b.t || a.i - b.i).map((x) => x.i);
          expect(ran).toEqual(expected);
          expect(q.size).toBe(0);
        },
      ),
    );
  });

  it("property: interleaved schedules, cancels (also of run and cancelled ids), clock steps and runs match a model", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("schedule" as const), dt: fc.integer({ min: 0, max: 30 }) }),
            fc.record({ op: fc.constant("cancel" as const), pick: fc.nat() }),
            fc.record({ op: fc.constant("step" as const), dt: fc.integer({ min: 0, max: 20 }) }),
            fc.record({ op: fc.constant("next" as const) }),
          ),
          { maxLength: 150 },
        ),
        (ops) => {
          const clock = new SimClock();
          const q = new EventQueue(clock);
          const model: { t: number; id: number }[] = [];
          const issued: number[] = [];
          const ran: number[] = [];
          const expected: number[] = [];
          const runModelDue = (now: number) => {
            for (;;) {
              model.sort((a, b) => a.t - b.t || a.id - b.id);
              if (model.length === 0 || model[0].t > now) return;
              expected.push(model.shift()!.id);
            }
          };
          for (const o of ops) {
            if (o.op === "schedule") {
              const t = clock.nowNs + o.dt;
              const id = q.schedule(t, () => ran.push(id));
              issued.push(id);
              model.push({ t, id });
            } else if (o.op === "cancel") {
              if (issued.length === 0) continue;
              const id = issued[o.pick % issued.length];
              q.cancel(id);
              const k = model.findIndex((m) => m.id === id);
              if (k >= 0) model.splice(k, 1);
            } else if (o.op === "step") {
              clock.idleUntil(clock.nowNs + o.dt);
              q.runDue();
              runModelDue(clock.nowNs);
            } else {
              model.sort((a, b) => a.t - b.t || a.id - b.id);
              expect(q.nextTime()).toBe(model.length === 0 ? Number.POSITIVE_INFINITY : model[0].t);
              const did = q.runNext();
              expect(did).toBe(model.length > 0);
              if (did) expected.push(model.shift()!.id);
            }
            expect(q.size).toBe(model.length);
            expect(ran).toEqual(expected);
          }
        },
      ),
    );
  });
});
