import { IPV4_OFFSET, internetChecksum, parseUdp, UDP_OFFSET } from "@side-kernel/net-nic";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { abi, UdpSocket, type UdpStack } from "../src/index.js";
import { expectNoLeaks } from "./helpers.js";
import {
  bootStack,
  HostBufferAccess,
  inject,
  LOCAL_IP,
  PEER_IP,
  peerFrame,
  teardown,
} from "./net-helpers.js";

function boundSocket(stack: UdpStack, port = 9): UdpSocket {
  const s = stack.socket();
  if (!(s instanceof UdpSocket)) throw new Error(`socket() failed: ${s}`);
  expect(stack.bind(s, 0, port)).toBe(0);
  return s;
}

/** Recompute the IPv4 header checksum after editing the header. */
function fixIpChecksum(f: Uint8Array): void {
  f[IPV4_OFFSET + 10] = 0;
  f[IPV4_OFFSET + 11] = 0;
  const c = internetChecksum(f, IPV4_OFFSET, 20);
  f[IPV4_OFFSET + 10] = c >>> 8;
  f[IPV4_OFFSET + 11] = c & 0xff;
}

describe("UDP/IPv4 receive path", () => {
  it("queues a valid datagram and recvfrom returns its payload and source", () => {
    const { kernel, inst, stack } = bootStack();
    const s = boundSocket(stack);
    const payload = Uint8Array.from({ length: 100 }, (_, i) => (i * 7) & 0xff);
    inject(kernel, peerFrame(payload));
    expect(stack.counters.udpInDatagrams).toBe(1);
    expect(s.queued).toBe(1);
    const ua = new HostBufferAccess(kernel);
    expect(stack.recvfrom(s, 0, 1000, ua)).toBe(100);
    expect(ua.mem.subarray(0, 100)).toEqual(payload);
    expect(s.lastSrcIp).toBe(PEER_IP);
    expect(s.lastSrcPort).toBe(5000);
    expect(stack.recvfrom(s, 0, 1000, ua)).toBe(-abi.EAGAIN);
    expect(kernel.skb.live).toBe(0);
    teardown(kernel, inst, stack);
    expectNoLeaks(kernel);
  });

  it("truncates to the buffer, or reports the full length with MSG_TRUNC semantics", () => {
    const { kernel, inst, stack } = bootStack();
    const s = boundSocket(stack);
    const ua = new HostBufferAccess(kernel);
    inject(kernel, peerFrame(new Uint8Array(50).fill(1)));
    inject(kernel, peerFrame(new Uint8Array(50).fill(2)));
    expect(stack.recvfrom(s, 0, 10, ua)).toBe(10);
    expect(stack.recvfrom(s, 0, 10, ua, true)).toBe(50);
    expect(ua.mem[0]).toBe(2);
    teardown(kernel, inst, stack);
    expectNoLeaks(kernel);
  });

  it("drops and counts bad IPv4 headers: version, checksum, TTL 0, fragment, address, protocol, length", () => {
    const { kernel, inst, stack } = bootStack();
    const s = boundSocket(stack);
    const c = stack.counters;
    const mutate = (edit: (f: Uint8Array) => void, fix = true) => {
      const f = peerFrame(new Uint8Array(20));
      edit(f);
      if (fix) fixIpChecksum(f);
      inject(kernel, f);
    };
    mutate((f) => {
      f[IPV4_OFFSET] = 0x65; // version 6
    });
    mutate((f) => {
      f[IPV4_OFFSET] = 0x44; // IHL 4 (16 bytes) < 20
    });
    mutate((f) => {
      f[IPV4_OFFSET + 2] = 0x05; // total length 1280 > frame
    });
    expect(c.ipInHdrErrors).toBe(3);
    mutate((f) => {
      f[IPV4_OFFSET + 10] ^= 0x01; // header checksum wrong
    }, false);
    expect(c.ipInCsumErrors).toBe(1);
    mutate((f) => {
      f[IPV4_OFFSET + 8] = 0; // TTL 0
    });
    expect(c.ipInTtlErrors).toBe(1);
    mutate((f) => {
      f[IPV4_OFFSET + 6] = 0x20; // MF
    });
    mutate((f) => {
      f[IPV4_OFFSET + 7] = 0x10; // fragment offset 16
      f[IPV4_OFFSET + 6] = 0;
    });
    expect(c.ipReasmFails).toBe(2);
    mutate((f) => {
      f[IPV4_OFFSET + 19] = 3; // to 10.0.0.3
    });
    expect(c.ipInAddrErrors).toBe(1);
    mutate((f) => {
      f[IPV4_OFFSET + 9] = 6; // TCP
    });
    expect(c.ipInUnknownProtos).toBe(1);
    mutate((f) => {
      f[UDP_OFFSET + 4] = 0;
      f[UDP_OFFSET + 5] = 4; // UDP length 4 < 8
    });
    expect(c.udpInErrors).toBe(1);
    expect(s.queued).toBe(0);
    expect(c.udpInDatagrams).toBe(0);
    expect(c.ipInReceives).toBe(10);
    expect(kernel.skb.live).toBe(0);
    teardown(kernel, inst, stack);
    expectNoLeaks(kernel);
  });

  it("accepts a zero UDP checksum (none computed), counts NoPorts and frees every skb", () => {
    const { kernel, inst, stack } = bootStack();
    const s = boundSocket(stack);
    const f = peerFrame(new Uint8Array(30).fill(9));
    f[UDP_OFFSET + 6] = 0;
    f[UDP_OFFSET + 7] = 0;
    inject(kernel, f);
    expect(s.queued).toBe(1);
    inject(kernel, peerFrame(new Uint8Array(30), { dstPort: 7777 }));
    expect(stack.counters.udpNoPorts).toBe(1);
    expect(kernel.skb.live).toBe(1);
    stack.close(s); // frees the queued skb
    expect(kernel.skb.live).toBe(0);
    teardown(kernel, inst, stack);
    expectNoLeaks(kernel);
  });

  it("verifies the UDP checksum with the pseudo-header: any single bit flip is dropped (property)", () => {
    const { kernel, inst, stack } = bootStack();
    const s = boundSocket(stack);
    const ua = new HostBufferAccess(kernel);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 1400 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.boolean(),
        (payload, where, bit, flip) => {
          const f = peerFrame(payload, { srcPort: 1 + (where % 60000) });
          // flip a bit in the UDP header or payload (not the destination port, which selects the socket)
          const span = f.length - UDP_OFFSET;
          let at = UDP_OFFSET + (where % span);
          if (at === UDP_OFFSET + 2 || at === UDP_OFFSET + 3) at = UDP_OFFSET + 8 + (where % payload.length);
          if (at === UDP_OFFSET + 4 || at === UDP_OFFSET + 5) at = UDP_OFFSET + 8;
          const before = stack.counters.udpInCsumErrors;
          if (flip) f[at] ^= 1 << bit;
          inject(kernel, f);
          if (flip) {
            expect(stack.counters.udpInCsumErrors).toBe(before + 1);
            expect(s.queued).toBe(0);
          } else {
            expect(stack.recvfrom(s, 0, 2000, ua)).toBe(payload.length);
            expect(ua.mem.subarray(0, payload.length)).toEqual(payload);
          }
        },
      ),
      { numRuns: 200 },
    );
    expect(kernel.skb.live).toBe(0);
    teardown(kernel, inst, stack);
    expectNoLeaks(kernel);
  });

  it("drops and counts datagrams beyond SO_RCVBUF, keeping the queued ones", () => {
    const { kernel, inst, stack } = bootStack({ stack: { rcvbuf: 8192 } });
    const s = boundSocket(stack);
    for (let i = 0; i < 20; i++) inject(kernel, peerFrame(new Uint8Array(1000)));
    expect(s.queued).toBeGreaterThan(0);
    expect(s.queuedBytes).toBeLessThanOrEqual(8192);
    expect(s.queued + stack.counters.udpRcvbufErrors).toBe(20);
    expect(stack.counters.udpRcvbufErrors).toBeGreaterThan(0);
    teardown(kernel, inst, stack);
    expect(kernel.skb.live).toBe(0);
    expectNoLeaks(kernel);
  });
});

describe("UDP/IPv4 send path", () => {
  it("builds a valid Ethernet/IPv4/UDP frame that reaches the Sink", () => {
    const { kernel, machine, inst, stack } = bootStack({ peer: "sink", ifup: true });
    const frames: Uint8Array[] = [];
    const sink = machine.sink!;
    const orig = sink.receive.bind(sink);
    sink.receive = (f, n) => {
      frames.push(f.slice(0, n));
      return orig(f, n);
    };
    const s = stack.socket() as UdpSocket;
    const ua = new HostBufferAccess(kernel);
    ua.mem.set([0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 42], 0);
    expect(stack.sendto(s, 0, 13, PEER_IP, 9, ua)).toBe(13);
    expect(s.localPort).toBeGreaterThanOrEqual(32768); // ephemeral bind
    machine.run({ until: () => frames.length > 0, untilNs: kernel.nowNs + 1e8 });
    expect(
      frames.length,
      `sink saw nothing; netdev counters ${JSON.stringify(kernel.net.byName("eth0")!.counters)}`,
    ).toBe(1);
    const u = parseUdp(frames[0]);
    expect(u).not.toBeNull();
    expect(u!.checksumsOk).toBe(true);
    expect(u!.srcIp).toBe(LOCAL_IP);
    expect(u!.dstIp).toBe(PEER_IP);
    expect(u!.dstPort).toBe(9);
    expect(u!.srcPort).toBe(s.localPort);
    expect(frames[0][u!.payloadOffset + 12]).toBe(42);
    expect([...frames[0].subarray(0, 6)]).toEqual([2, 0, 0, 0, 0, 2]);
    machine.run({ untilNs: kernel.nowNs + 5e6 });
    teardown(kernel, inst, stack);
    expectNoLeaks(kernel);
  });

  it("returns precise errors: EMSGSIZE, ENETUNREACH, EHOSTUNREACH, ENETDOWN, EADDRINUSE, EADDRNOTAVAIL", () => {
    const { kernel, machine, inst, stack } = bootStack({ peer: "sink" });
    const ua = new HostBufferAccess(kernel);
    const s = stack.socket() as UdpSocket;
    expect(stack.sendto(s, 0, 10, PEER_IP, 9, ua)).toBe(-abi.ENETDOWN); // not up yet
    kernel.net.devOpen("eth0");
    machine.run({ until: () => kernel.net.byName("eth0")!.carrier, untilNs: 5e9 });
    expect(stack.sendto(s, 0, 1473, PEER_IP, 9, ua)).toBe(-abi.EMSGSIZE);
    expect(stack.sendto(s, 0, 1472, PEER_IP, 9, ua)).toBe(1472);
    expect(stack.sendto(s, 0, 10, 0x0b000001, 9, ua)).toBe(-abi.ENETUNREACH);
    expect(stack.sendto(s, 0, 10, 0x0a000005, 9, ua)).toBe(-abi.EHOSTUNREACH);
    expect(stack.sendto(s, 0, 10, PEER_IP, 0, ua)).toBe(-abi.EINVAL);
    const a = stack.socket() as UdpSocket;
    const b = stack.socket() as UdpSocket;
    expect(stack.bind(a, 0, 4000)).toBe(0);
    expect(stack.bind(b, 0, 4000)).toBe(-abi.EADDRINUSE);
    expect(stack.bind(b, PEER_IP, 4001)).toBe(-abi.EADDRNOTAVAIL);
    expect(stack.bind(a, 0, 4002)).toBe(-abi.EINVAL); // already bound
    expect(stack.bind(b, LOCAL_IP, 4001)).toBe(0);
    machine.run({ untilNs: kernel.nowNs + 5e6 });
    teardown(kernel, inst, stack);
    expectNoLeaks(kernel);
  });

  it("refuses a second protocol handler and restores none on detach", () => {
    const { kernel, inst, stack } = bootStack();
    expect(() => stack.attach()).toThrow(/already attached/);
    stack.detach();
    expect(kernel.net.protocolHandler).toBeNull();
    kernel.net.protocolHandler = () => {};
    expect(() => stack.attach()).toThrow(/another protocol handler/);
    kernel.net.protocolHandler = null;
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});
