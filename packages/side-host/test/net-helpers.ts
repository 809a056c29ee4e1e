import { e1000Driver } from "@side-kernel/driver-e1000";
import { buildUdpFrame, parseIpv4, parseMac, type UdpFrameSpec } from "@side-kernel/net-nic";
import { expect } from "vitest";
import type { DriverInstance, Kernel, Machine, MachineOptions, UserAccess } from "../src/index.js";
import { UdpStack, type UdpStackOptions } from "../src/index.js";
import { bootKernel } from "./helpers.js";

export const NIC_MAC = "52:54:00:12:34:56";
export const PEER_MAC = "02:00:00:00:00:02";
export const LOCAL_IP = parseIpv4("10.0.0.1");
export const PEER_IP = parseIpv4("10.0.0.2");

/** Boot, load e1000 natively, attach a UDP stack; optionally ifup and wait for carrier. */
export function bootStack(options: MachineOptions & { ifup?: boolean; stack?: UdpStackOptions } = {}): {
  kernel: Kernel;
  machine: Machine;
  inst: DriverInstance;
  stack: UdpStack;
} {
  const { kernel, machine } = bootKernel({ mac: NIC_MAC, ...options });
  const inst = kernel.loadDriver(e1000Driver, { mode: "native" });
  const stack = new UdpStack(kernel, options.stack);
  stack.attach();
  if (options.ifup) ifup(kernel, machine);
  return { kernel, machine, inst, stack };
}

/** ifup eth0 and run until the carrier is on (autonegotiation ~0.5 s). */
export function ifup(kernel: Kernel, machine: Machine): void {
  expect(kernel.net.devOpen("eth0")).toBe(0);
  const dev = kernel.net.byName("eth0")!;
  machine.run({ until: () => dev.carrier, untilNs: kernel.nowNs + 5e9 });
  expect(dev.carrier).toBe(true);
}

/** A UDP frame from the peer to us (valid checksums unless changed later). */
export function peerFrame(payload: Uint8Array, over: Partial<UdpFrameSpec> = {}): Uint8Array {
  return buildUdpFrame({
    srcMac: parseMac(PEER_MAC),
    dstMac: parseMac(NIC_MAC),
    srcIp: PEER_IP,
    dstIp: LOCAL_IP,
    srcPort: 5000,
    dstPort: 9,
    payload,
    ...over,
  });
}

/** Hand `frame` to the stack as the driver would: an skb, eth_type_trans, netif_receive_skb. */
export function inject(kernel: Kernel, frame: Uint8Array): void {
  const dev = kernel.net.byName("eth0")!;
  const skb = kernel.net.allocSkb("eth0", frame.length);
  kernel.net.writeSkb(skb, frame);
  kernel.skb.ethTypeTrans(skb, dev.ptr);
  kernel.net.receive(skb);
}

/** A UserAccess for kernel-level tests: "user" memory is a host buffer at address 0. */
export class HostBufferAccess implements UserAccess {
  readonly mem = new Uint8Array(65536);
  constructor(private readonly kernel: Kernel) {}
  copyFromUser(dst: Uint8Array, off: number, va: number, len: number): number {
    if (va + len > this.mem.length) return -14;
    dst.set(this.mem.subarray(va, va + len), off);
    return 0;
  }
  copyToUser(va: number, kva: number, len: number): number {
    if (va + len > this.mem.length) return -14;
    this.kernel.mmu.readBytes(kva, this.mem, va, len);
    return 0;
  }
}

/** Tear down: detach the stack, unload the driver. */
export function teardown(kernel: Kernel, inst: DriverInstance, stack: UdpStack): void {
  stack.detach();
  kernel.unloadDriver(inst);
}
