import { e1000Driver } from "@side-kernel/driver-e1000";
import { NetDevice } from "@side-kernel/kservice";
import { buildUdpFrame, parseMac, parseUdp } from "@side-kernel/net-nic";
import { describe, expect, it } from "vitest";
import { type Kernel, type Machine, NET_XMIT_SUCCESS } from "../src/index.js";
import { bootKernel, expectNoLeaks } from "./helpers.js";

const MAC = "52:54:00:12:34:56";

function frameWithSeq(seq: number, size = 60): Uint8Array {
  const payload = new Uint8Array(size - 42);
  payload[0] = (seq >>> 24) & 0xff;
  payload[1] = (seq >>> 16) & 0xff;
  payload[2] = (seq >>> 8) & 0xff;
  payload[3] = seq & 0xff;
  return buildUdpFrame({
    srcMac: parseMac(MAC),
    dstMac: parseMac("02:00:00:00:00:02"),
    srcIp: 0x0a000001,
    dstIp: 0x0a000002,
    srcPort: 9,
    dstPort: 9,
    payload,
  });
}

function ifup(kernel: Kernel, machine: Machine): void {
  expect(kernel.net.devOpen("eth0")).toBe(0);
  // autonegotiation takes ~0.5 s; the watchdog then turns the carrier on
  machine.run({ until: () => kernel.net.byName("eth0")!.carrier, untilNs: kernel.nowNs + 5e9 });
  expect(kernel.net.byName("eth0")!.carrier).toBe(true);
}

// The same end-to-end suite in both modes: the driver's code is the same, only `k` differs.
describe.each(["native", "isolated"] as const)("e1000 driver, %s", (mode) => {
  it("probe reads the MAC from the EEPROM and registers eth0", () => {
    const { kernel, machine } = bootKernel({ mac: MAC });
    const inst = kernel.loadDriver(e1000Driver, { mode });
    const eth0 = kernel.net.byName("eth0");
    expect(eth0).toBeDefined();
    expect(kernel.net.macString(eth0!.ptr)).toBe(MAC);
    expect(eth0!.carrier).toBe(false);
    expect(machine.mmu.load8(eth0!.ptr + NetDevice.name)).toBe("e".charCodeAt(0));
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });

  it("ifup brings the carrier on after autonegotiation; raw skbs sent with xmit reach the Sink in order", () => {
    const { kernel, machine } = bootKernel({ mac: MAC, peer: "sink" });
    const inst = kernel.loadDriver(e1000Driver, { mode });
    ifup(kernel, machine);
    expect(kernel.nowNs).toBeGreaterThanOrEqual(0.5e9);
    const N = 50;
    for (let i = 0; i < N; i++) {
      const skb = kernel.net.allocSkb("eth0", 128);
      kernel.net.writeSkb(skb, frameWithSeq(i));
      expect(kernel.net.xmit(skb)).toBe(NET_XMIT_SUCCESS);
    }
    machine.run({ until: () => machine.sink!.stats().frames >= N, untilNs: kernel.nowNs + 1e9 });
    const s = machine.sink!.stats();
    expect(s.frames).toBe(N);
    expect(s.gaps).toBe(0);
    expect(s.outOfOrder).toBe(0);
    // the driver reaps the transmitted skbs
    machine.run({ untilNs: kernel.nowNs + 5e6 });
    kernel.unloadDriver(inst);
    expect(kernel.skb.live).toBe(0);
    expectNoLeaks(kernel);
  });

  it("frames from a TrafficGenerator reach the protocol hook in order; ifdown then ifup works", () => {
    const { kernel, machine } = bootKernel({
      mac: MAC,
      peer: "generator",
      traffic: { count: 40, ratePps: 100_000 },
    });
    const inst = kernel.loadDriver(e1000Driver, { mode });
    const seqs: number[] = [];
    kernel.net.protocolHandler = (skb) => {
      const f = kernel.net.frame(skb);
      const u = parseUdp(f, f.length);
      if (u !== null) {
        const p = u.payloadOffset;
        seqs.push(((f[p] << 24) | (f[p + 1] << 16) | (f[p + 2] << 8) | f[p + 3]) >>> 0);
      }
      kernel.net.freeSkb(skb);
    };
    ifup(kernel, machine);
    machine.generator!.start();
    machine.run({ until: () => seqs.length >= 40, untilNs: kernel.nowNs + 1e9 });
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i));
    kernel.net.devClose("eth0");
    expect(kernel.net.byName("eth0")!.up).toBe(false);
    expect(kernel.irq.actionCount()).toBe(0);
    ifup(kernel, machine);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});
