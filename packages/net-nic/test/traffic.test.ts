import { describe, expect, it } from "vitest";
import {
  IPV4_HEADER_LEN,
  IPV4_OFFSET,
  internetChecksum,
  Link,
  parseUdp,
  type Scheduler,
  Sink,
  TrafficGenerator,
  UDP_OFFSET,
  udpChecksum,
} from "../src/index.js";
import { TestScheduler } from "./harness.js";

describe("TrafficGenerator -> Sink", () => {
  it("line rate 64-byte frames: 672 ns apart, valid checksums, latency = wire time", () => {
    const s = new TestScheduler();
    const gen = new TrafficGenerator({ scheduler: s, frameSize: 64, count: 1000, dstPort: 7 });
    const sink = new Sink({ scheduler: s, dstPort: 7 });
    new Link(s).connect(gen, sink);
    gen.start();
    s.runAll();
    const st = sink.stats();
    expect(st).toMatchObject({ frames: 1000, bytes: 60_000, invalid: 0, gaps: 0, outOfOrder: 0 });
    expect(st.latency).toMatchObject({ count: 1000, min: 672, max: 672, mean: 672, p50: 672, p99: 672 });
    expect(s.now()).toBe(1000 * 672);
  });
  it("a fixed rate spaces frames; queueing shows in latency when the rate exceeds the wire", () => {
    const s = new TestScheduler();
    const gen = new TrafficGenerator({ scheduler: s, frameSize: 1518, ratePps: 200_000, count: 10 });
    const sink = new Sink({ scheduler: s });
    new Link(s).connect(gen, sink);
    gen.start();
    s.runAll();
    const wire = (8 + 1518 + 12) * 8; // 12304 ns > 5000 ns interval
    const st = sink.stats();
    expect(st.frames).toBe(10);
    expect(st.latency.min).toBe(wire);
    expect(st.latency.max).toBe(10 * wire - 9 * 5000);
    expect(st.bytes).toBe(10 * 1514);
  });
  it("a duration bounds the run", () => {
    const s = new TestScheduler();
    const gen = new TrafficGenerator({ scheduler: s, frameSize: 64, ratePps: 1e6, durationNs: 10_000 });
    const sink = new Sink({ scheduler: s });
    new Link(s).connect(gen, sink);
    gen.start();
    s.runAll();
    expect(gen.sent).toBe(10);
    expect(gen.active).toBe(false);
  });
  it("the sink sees gaps and reordering by sequence number", () => {
    const s = new TestScheduler();
    const frames: Uint8Array[] = [];
    const gen = new TrafficGenerator({ scheduler: s, frameSize: 100, count: 5 });
    gen.attachBackend({ send: (f, l) => frames.push(f.slice(0, l)) });
    gen.start();
    s.runAll();
    expect(frames.length).toBe(5);
    expect(parseUdp(frames[0])?.checksumsOk).toBe(true);
    const sink = new Sink({ scheduler: s });
    for (const i of [0, 2, 1, 4]) sink.receive(frames[i], frames[i].length);
    sink.receive(new Uint8Array(60), 60);
    expect(sink.stats()).toMatchObject({ frames: 4, gaps: 2, outOfOrder: 1, invalid: 1 });
  });
  it("paces on its own timeline when its events fire late (a busy CPU's chunked clock)", () => {
    const s = new TestScheduler();
    const CHUNK = 10_000; // events run at the next 10 us boundary, as a CPU that charges in chunks
    const late: Scheduler = {
      now: () => s.now(),
      schedule: (at, cb) => s.schedule(Math.ceil(at / CHUNK) * CHUNK, cb),
      cancel: (id) => s.cancel(id),
    };
    const sent: { at: number; stamp: number; seq: number }[] = [];
    const gen = new TrafficGenerator({ scheduler: late, frameSize: 64, ratePps: 1e6, count: 100 });
    gen.attachBackend({
      send: (f) => {
        const u = parseUdp(f);
        const p = u!.payloadOffset;
        const rd = (o: number) => ((f[o] << 24) | (f[o + 1] << 16) | (f[o + 2] << 8) | f[o + 3]) >>> 0;
        sent.push({ at: s.now(), stamp: rd(p + 4) * 2 ** 32 + rd(p + 8), seq: rd(p) });
      },
    });
    gen.start();
    s.runUntil(100_000);
    // All 100 frames (one per us) left by 100 us: the 10 us lateness did not stretch the interval.
    expect(sent.length).toBe(100);
    for (let k = 0; k < 100; k++) {
      expect(sent[k].seq).toBe(k);
      expect(sent[k].stamp).toBe(k * 1000); // the ideal send time
      expect(sent[k].at).toBeGreaterThanOrEqual(k * 1000);
      expect(sent[k].at).toBeLessThan(k * 1000 + CHUNK);
    }
    expect(gen.active).toBe(false);
  });
  it("incremental checksums equal full recomputation, past the 16-bit IP id wrap and at 1518 bytes", () => {
    for (const [frameSize, count] of [
      [64, 70_000],
      [1518, 300],
    ]) {
      const s = new TestScheduler();
      const gen = new TrafficGenerator({ scheduler: s, frameSize, count, srcIp: "192.168.7.9" });
      let bad = 0;
      let n = 0;
      gen.attachBackend({
        send: (f, l) => {
          n++;
          const ipc = (f[IPV4_OFFSET + 10] << 8) | f[IPV4_OFFSET + 11];
          const uc = (f[UDP_OFFSET + 6] << 8) | f[UDP_OFFSET + 7];
          const g = f.slice(0, l);
          g[IPV4_OFFSET + 10] = 0;
          g[IPV4_OFFSET + 11] = 0;
          g[UDP_OFFSET + 6] = 0;
          g[UDP_OFFSET + 7] = 0;
          const src = (g[26] << 24) | (g[27] << 16) | (g[28] << 8) | g[29];
          const dst = (g[30] << 24) | (g[31] << 16) | (g[32] << 8) | g[33];
          if (ipc !== internetChecksum(g, IPV4_OFFSET, IPV4_HEADER_LEN)) bad++;
          if (uc !== udpChecksum(g, src >>> 0, dst >>> 0, UDP_OFFSET, l - UDP_OFFSET)) bad++;
        },
      });
      gen.start();
      s.runAll(count + 10);
      expect(n).toBe(count);
      expect(bad).toBe(0);
    }
  });
  it("validates options", () => {
    const s = new TestScheduler();
    expect(() => new TrafficGenerator({ scheduler: s, frameSize: 63, count: 1 })).toThrow(
      "frameSize 63 outside 64..1518",
    );
    expect(() => new TrafficGenerator({ scheduler: s })).toThrow("give a count or a durationNs");
    expect(() => new TrafficGenerator({ scheduler: s, count: 1, ratePps: 0 })).toThrow("bad ratePps 0");
  });
});
