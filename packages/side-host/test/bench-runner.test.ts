import { describe, expect, it } from "vitest";
import {
  abi,
  type Process,
  runUdpBenchmark,
  Scheduler,
  summariseLatency,
  type UdpBenchmarkResult,
  UdpReceiverApp,
  UdpSenderApp,
  udpPayloadForFrame,
} from "../src/index.js";
import { expectNoLeaks } from "./helpers.js";
import { bootStack, ifup, PEER_IP, teardown } from "./net-helpers.js";

function expectClean(r: UdpBenchmarkResult): void {
  expect(r.leaks.frames).toBe(0);
  expect(r.leaks.irqActions).toBe(0);
  expect(r.leaks.ledgers).toEqual({});
  expect(r.leaks.heapBlocks).toBe(0);
}

function expectConsistent(r: UdpBenchmarkResult): void {
  const delivered = r.loss.received;
  expect(r.pps).toBeCloseTo(delivered / (r.simulatedNs / 1e9), 3);
  expect(r.mbps).toBeCloseTo((r.pps * r.frameSize * 8) / 1e6, 6);
  expect(r.mbps).toBeLessThanOrEqual(r.lineRateMbps * 1.0001);
  expect(r.cpuUtilization).toBeGreaterThan(0);
  expect(r.cpuUtilization).toBeLessThanOrEqual(1);
  expect(r.crossingsPerPacket).toBe(0); // native
  expect(r.kernelCallsPerPacket).toBeGreaterThan(0);
  expect(r.syscallsPerPacket).toBeGreaterThan(0.9);
  let sum = 0;
  for (const v of Object.values(r.cyclesByCategory)) sum += v;
  expect(sum / delivered).toBeCloseTo(r.cyclesPerPacket, 3);
  expect(r.cyclesByCategory.stack).toBeGreaterThan(0);
  expect(r.cyclesByCategory.crossing).toBeGreaterThan(0); // syscall/sysret
  expect(r.hostMs).toBeGreaterThan(0);
  expect(r.note).toMatch(/link-up excluded/);
}

describe("runUdpBenchmark (native)", () => {
  it("tx: the sender's packets all reach the Sink in order; figures are consistent; no leaks", () => {
    const r = runUdpBenchmark({ mode: "native", direction: "tx", frameSize: 64, packets: 400 });
    expect(r.loss).toMatchObject({ sent: 400, received: 400, lost: 0, gaps: 0, outOfOrder: 0, invalid: 0 });
    expectConsistent(r);
    expect(r.interruptsPerPacket).toBeGreaterThan(0);
    expect(r.mmioPerPacket).toBeGreaterThan(0.5); // a TDT write per frame at least
    expect(r.latency.count).toBe(400);
    expect(r.latency.min).toBeGreaterThanOrEqual(672); // a 64-byte frame's wire time at 1 Gbit/s
    expect(r.latency.p50).toBeLessThanOrEqual(r.latency.p99);
    expectClean(r);
  });

  it("tx at 1518 bytes: the link is the bottleneck, throughput is close to line rate", () => {
    const r = runUdpBenchmark({ mode: "native", direction: "tx", frameSize: 1518, packets: 400 });
    expect(r.loss.received).toBe(400);
    expect(r.mbps / r.lineRateMbps).toBeGreaterThan(0.97);
    expect(r.lineRateMbps).toBeCloseTo((1e9 * 1518) / 1538 / 1e6, 6);
    expectConsistent(r);
    expectClean(r);
  });

  it("rx at 1518 bytes: the generator's packets reach the receiver in order at about line rate", () => {
    const r = runUdpBenchmark({ mode: "native", direction: "rx", frameSize: 1518, packets: 300 });
    expect(r.loss).toMatchObject({ sent: 300, received: 300, gaps: 0, outOfOrder: 0, rcvbufDrops: 0 });
    expect(r.latency.count).toBe(300);
    expect(r.latency.min).toBeGreaterThanOrEqual(12_304); // (1518 + 20) bytes on the wire at 1 Gbit/s
    expect(r.latency.max).toBeLessThan(1e6);
    expect(r.mbps / r.lineRateMbps).toBeGreaterThan(0.97);
    expectConsistent(r);
    expectClean(r);
  });

  it("rx at 64 bytes: overload drops only at the socket or the NIC, never reorders", () => {
    const onProgress: number[] = [];
    const r = runUdpBenchmark({
      mode: "native",
      direction: "rx",
      frameSize: 64,
      packets: 3000,
      onProgress: (done, total) => {
        expect(total).toBe(3000);
        onProgress.push(done);
      },
    });
    expect(r.loss.sent).toBe(3000);
    expect(r.loss.outOfOrder).toBe(0);
    expect(r.loss.received).toBeGreaterThan(0);
    expect(r.loss.received + r.loss.rcvbufDrops).toBeLessThanOrEqual(3000);
    expect(r.loss.gaps).toBeLessThanOrEqual(r.loss.lost); // gaps are loss the receiver saw
    expect(r.loss.lost).toBe(3000 - r.loss.received);
    expect(onProgress.length).toBeGreaterThan(1);
    expect([...onProgress].sort((a, b) => a - b)).toEqual(onProgress);
    expectConsistent(r);
    expectClean(r);
  });

  it("rejects bad options with a precise error", () => {
    const base = { mode: "native" as const, direction: "tx" as const, frameSize: 64, packets: 10 };
    expect(() => runUdpBenchmark({ ...base, frameSize: 63 })).toThrow(/frameSize 63 is not 64..1518/);
    expect(() => runUdpBenchmark({ ...base, frameSize: 1519 })).toThrow(RangeError);
    expect(() => runUdpBenchmark({ ...base, packets: 0 })).toThrow(/packets 0/);
    expect(() => runUdpBenchmark({ ...base, direction: "up" as "tx" })).toThrow(/direction "up"/);
    expect(() => runUdpBenchmark({ ...base, mode: "bogus" as "native" })).toThrow(/mode "bogus"/);
    expect(() => runUdpBenchmark({ ...base, linkGbps: -1 })).toThrow(/linkGbps -1/);
    expect(udpPayloadForFrame(64)).toBe(18);
    expect(() => udpPayloadForFrame(40)).toThrow(/payload bytes/);
    expect(udpPayloadForFrame(1518)).toBe(1472);
  });
});

describe("end to end with the benchmark apps", () => {
  it("ifdown then ifup: sendto fails with ENETDOWN while down, traffic flows again after; no leaks", () => {
    const { kernel, machine, inst, stack } = bootStack({ peer: "sink", ifup: true });
    const sched = new Scheduler(kernel, stack);
    let seq = 0;
    const results: number[] = [];
    let target = 50;
    const prog = {
      name: "seq-send",
      fd: -1,
      step(p: Process) {
        if (this.fd < 0) {
          this.fd = p.syscall(abi.SYS_socket, abi.AF_INET, abi.SOCK_DGRAM, 0);
          p.store8(p.dataBase, abi.AF_INET);
          p.store8(p.dataBase + 3, 9);
          for (let i = 0; i < 4; i++) p.store8(p.dataBase + 4 + i, (PEER_IP >>> (24 - 8 * i)) & 0xff);
          return;
        }
        if (seq >= target) {
          const r = p.syscall(999); // idle: a no-op call
          results.push(r);
          return;
        }
        if (!p.inKernel)
          for (let i = 0; i < 4; i++) p.store8(p.dataBase + 64 + i, (seq >>> (24 - 8 * i)) & 0xff);
        const r = p.syscall(abi.SYS_sendto, this.fd, p.dataBase + 64, 100, 0, p.dataBase, 16);
        if (r === -abi.ERESTARTSYS) return;
        results.push(r);
        if (r === 100) seq++;
      },
    };
    const proc = sched.spawn(prog);
    sched.run({ until: () => seq >= 50 });
    machine.run({ until: () => machine.link.statsAtoB.frames >= 50, untilNs: kernel.nowNs + 1e8 });
    kernel.net.devClose("eth0");
    expect(kernel.irq.actionCount()).toBe(0);
    target = 51;
    const before = results.length;
    sched.run({ until: () => results.length > before });
    expect(results[results.length - 1]).toBe(-abi.ENETDOWN);
    ifup(kernel, machine);
    target = 100;
    sched.run({ until: () => seq >= 100 });
    machine.run({ until: () => machine.link.statsAtoB.frames >= 100, untilNs: kernel.nowNs + 1e8 });
    const s = machine.sink!.stats();
    expect(s.frames).toBe(100);
    expect(s.gaps).toBe(0);
    expect(s.outOfOrder).toBe(0);
    sched.kill(proc, 9);
    machine.run({ untilNs: kernel.nowNs + 5e6 });
    teardown(kernel, inst, stack);
    expect(kernel.skb.live).toBe(0);
    expectNoLeaks(kernel);
  });

  it("summariseLatency: nearest-rank percentiles", () => {
    expect(summariseLatency([])).toEqual({ count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
    const s = summariseLatency(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(s).toEqual({ count: 100, min: 1, mean: 50.5, p50: 50, p90: 90, p99: 99, max: 100 });
  });

  it("sender and receiver apps validate their options", () => {
    const clock = { nowNs: 0 };
    expect(() => new UdpSenderApp({ count: 1, payloadSize: 11, clock })).toThrow(/payloadSize 11/);
    expect(() => new UdpSenderApp({ count: -1, payloadSize: 18, clock })).toThrow(/count/);
    expect(() => new UdpSenderApp({ count: 1, payloadSize: 18, dstPort: 0, clock })).toThrow(/port/);
    expect(() => new UdpReceiverApp({ port: 70000, clock })).toThrow(/port 70000/);
    expect(() => new UdpReceiverApp({ bufferSize: 4, clock })).toThrow(/bufferSize 4/);
  });
});
