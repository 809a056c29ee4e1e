import { describe, expect, it } from "vitest";
import { Link, Loopback, type NetBackend, type NetClient, SPEED_10G, wireTimeNs } from "../src/index.js";
import { TestScheduler } from "./harness.js";

class Recorder implements NetClient {
  got: { t: number; len: number; first: number }[] = [];
  backend: NetBackend | null = null;
  up: boolean[] = [];
  listening = true;
  constructor(private readonly s: TestScheduler) {}
  canReceive() {
    return this.listening;
  }
  receive(f: Uint8Array, l: number) {
    this.got.push({ t: this.s.now(), len: l, first: f[0] });
    return true;
  }
  linkStatusChanged(up: boolean) {
    this.up.push(up);
  }
  attachBackend(b: NetBackend | null) {
    this.backend = b;
  }
}

describe("wire time", () => {
  it("a 64-byte frame (60 + FCS) takes 84 byte times: 672 ns at 1G, 67.2 ns at 10G", () => {
    expect(wireTimeNs(60, 1e9)).toBe(672);
    expect(wireTimeNs(42, 1e9)).toBe(672); // padded to the minimum
    expect(wireTimeNs(60, SPEED_10G)).toBeCloseTo(67.2, 9);
    expect(wireTimeNs(1514, 1e9)).toBe((8 + 1518 + 12) * 8);
  });
});

describe("Link", () => {
  it("serialises back-to-back frames at line rate and delivers in order", () => {
    const s = new TestScheduler();
    const a = new Recorder(s);
    const b = new Recorder(s);
    const link = new Link(s);
    link.connect(a, b);
    expect(a.up).toEqual([true]);
    const f = new Uint8Array(60);
    for (let i = 0; i < 3; i++) {
      f[0] = i;
      a.backend!.send(f, 60);
    }
    f[0] = 99; // the link copied the frames
    s.runAll();
    expect(b.got).toEqual([
      { t: 672, len: 60, first: 0 },
      { t: 1344, len: 60, first: 1 },
      { t: 2016, len: 60, first: 2 },
    ]);
    expect(link.statsAtoB).toEqual({ frames: 3, bytes: 180, dropped: 0 });
    expect(link.busyUntilNs("a")).toBe(2016);
  });
  it("counts frames the receiver refuses; disconnect tells both ends", () => {
    const s = new TestScheduler();
    const a = new Recorder(s);
    const b = new Recorder(s);
    const link = new Link(s);
    link.connect(a, b);
    b.listening = false;
    a.backend!.send(new Uint8Array(100), 100);
    s.runAll();
    expect(link.statsAtoB.dropped).toBe(1);
    link.disconnect();
    expect(a.up).toEqual([true, false]);
    expect(a.backend).toBeNull();
  });
  it("a Loopback plug reflects frames", () => {
    const s = new TestScheduler();
    const a = new Recorder(s);
    const lo = new Loopback();
    new Link(s, { bitsPerSecond: SPEED_10G }).connect(a, lo);
    a.backend!.send(new Uint8Array(60).fill(5), 60);
    s.runAll();
    expect(a.got.length).toBe(1);
    expect(a.got[0].first).toBe(5);
    expect(a.got[0].t).toBeCloseTo(134.4, 6);
    expect(lo.frames).toBe(1);
  });
  it("keeps order and contents with more frames in flight than its initial slots, and mixed sizes", () => {
    const s = new TestScheduler();
    const a = new Recorder(s);
    const seen: number[][] = [];
    const b = new Recorder(s);
    b.receive = (f: Uint8Array, l: number) => {
      seen.push([l, f[0], f[l - 1]]);
      return true;
    };
    new Link(s).connect(a, b);
    expect(a.backend?.bitsPerSecond).toBe(1e9);
    const big = new Uint8Array(3000);
    for (let i = 0; i < 300; i++) {
      const len = i % 3 === 0 ? 3000 : 60 + i;
      big[0] = i & 0xff;
      big[len - 1] = (i * 7) & 0xff;
      a.backend!.send(big, len);
    }
    s.runAll();
    expect(seen.length).toBe(300);
    for (let i = 0; i < 300; i++)
      expect(seen[i]).toEqual([i % 3 === 0 ? 3000 : 60 + i, i & 0xff, (i * 7) & 0xff]);
  });
  it("copies every byte, from aligned and unaligned sender buffers, small and large", () => {
    const s = new TestScheduler();
    const a = new Recorder(s);
    const got: number[][] = [];
    const b = new Recorder(s);
    b.receive = (f: Uint8Array, l: number) => {
      got.push(Array.from(f.subarray(0, l)));
      return true;
    };
    new Link(s).connect(a, b);
    const backing = new Uint8Array(4000);
    const sent: number[][] = [];
    for (const [offset, len] of [
      [0, 61],
      [1, 61],
      [3, 256],
      [0, 257],
      [2, 1514],
      [0, 64],
    ]) {
      const f = backing.subarray(offset, offset + 2000);
      for (let i = 0; i < len; i++) f[i] = (i * 31 + len + offset) & 0xff;
      f[len] = 0xee; // beyond the frame: must not be delivered
      a.backend!.send(f, len);
      sent.push(Array.from(f.subarray(0, len)));
      f.fill(0); // the link kept its own copy
    }
    s.runAll();
    expect(got).toEqual(sent);
  });
  it("a receiver that sends on the same direction from inside receive() does not corrupt the queue", () => {
    const s = new TestScheduler();
    const a = new Recorder(s);
    const b = new Recorder(s);
    const firsts: number[] = [];
    b.receive = (f: Uint8Array, l: number) => {
      // While frame 5 is being read, queue enough to grow the slot ring (head is not at 0).
      if (f[0] === 5) for (let i = 0; i < 100; i++) a.backend!.send(new Uint8Array(60).fill(100 + i), 60);
      firsts.push(f[0]);
      return l > 0;
    };
    new Link(s).connect(a, b);
    for (let i = 0; i < 10; i++) a.backend!.send(new Uint8Array(60).fill(i), 60);
    s.runAll();
    const expected = [
      ...Array.from({ length: 10 }, (_, i) => i),
      ...Array.from({ length: 100 }, (_, i) => 100 + i),
    ];
    expect(firsts).toEqual(expected);
  });
  it("rejects a bad speed", () => {
    expect(() => new Link(new TestScheduler(), { bitsPerSecond: 0 })).toThrow("bad speed 0 bit/s");
  });
});
