// A real user process, scheduled while the isolated e1000 carries traffic, tries to read and write
// the driver's memory: both are #PF with U/S in the error code, the process is killed, and the
// driver, the kernel and the traffic go on untouched. With sharedPageTable the same read succeeds.
import { e1000Driver } from "@side-kernel/driver-e1000";
import { NetDevice } from "@side-kernel/kservice";
import { PageFault, PF_PROT, PF_USER, PF_WRITE } from "@side-kernel/paging";
import { describe, expect, it } from "vitest";
import {
  abi,
  IntegrityChecker,
  type IsolatedDriverInstance,
  type Process,
  Scheduler,
  SIGSEGV,
  UdpStack,
  type UserProgram,
} from "../src/index.js";
import { bootKernel, expectNoLeaks } from "./helpers.js";
import { ifup } from "./net-helpers.js";

/** A process that runs `touch` once, records what it threw, and exits if it was not stopped. */
function prober(touch: (p: Process) => void): UserProgram & { fault: unknown } {
  return {
    name: "prober",
    fault: undefined,
    step(p) {
      try {
        touch(p);
      } catch (e) {
        this.fault = e;
        throw e;
      }
      this.fault = null;
      p.syscall(abi.SYS_exit, 0);
    },
  };
}

function boot(sharedPageTable: boolean) {
  const { kernel, machine } = bootKernel({ peer: "sink" });
  const inst = kernel.loadDriver(e1000Driver, {
    mode: "isolated",
    sharedPageTable,
  }) as IsolatedDriverInstance;
  const stack = new UdpStack(kernel);
  stack.attach();
  ifup(kernel, machine);
  const sched = new Scheduler(kernel, stack);
  const dev = kernel.net.byName("eth0")!;
  const priv = dev.ptr + NetDevice.PRIV; // the adapter: inside the driver's region
  return { kernel, machine, inst, stack, sched, dev, priv };
}

/** Transmit `n` raw frames through the driver and let them drain. */
function traffic(env: ReturnType<typeof boot>, n: number): void {
  const frame = new Uint8Array(60).fill(0xff, 0, 6);
  for (let i = 0; i < n; i++) {
    const skb = env.kernel.net.allocSkb("eth0", frame.length);
    env.kernel.net.writeSkb(skb, frame);
    env.kernel.net.xmit(skb);
  }
  env.machine.run({ untilNs: env.kernel.nowNs + 2e6 });
}

describe("user processes against an isolated driver", () => {
  it("a scheduled process cannot read or write driver memory; the driver and kernel go on", () => {
    const env = boot(false);
    const checker = new IntegrityChecker(env.kernel);
    const before = checker.snapshot();
    const mmu = env.kernel.machine.mmu;
    traffic(env, 8);
    const reader = prober((p) => p.load32(env.priv));
    const writer = prober((p) => p.store32(env.priv, 0xdead_beef));
    const r = env.sched.spawn(reader);
    const w = env.sched.spawn(writer);
    env.sched.run({ until: () => r.state === "exited" && w.state === "exited" });

    expect(reader.fault).toBeInstanceOf(PageFault);
    expect((reader.fault as PageFault).errorCode).toBe(PF_USER | PF_PROT);
    expect(writer.fault).toBeInstanceOf(PageFault);
    expect((writer.fault as PageFault).errorCode).toBe(PF_USER | PF_PROT | PF_WRITE);
    expect(r.exitCode).toBe(128 + SIGSEGV);
    expect(w.exitCode).toBe(128 + SIGSEGV);

    // The driver never noticed: no fault, its memory unchanged, and it still transmits.
    expect(env.inst.fault ?? null).toBeNull();
    mmu.ac = true; // the kernel opens user-page access (stac) to look
    expect(mmu.load32(env.priv)).not.toBe(0xdead_beef);
    mmu.ac = false;
    const wire = env.machine.link.statsAtoB.frames;
    traffic(env, 8);
    expect(env.machine.link.statsAtoB.frames).toBe(wire + 8);
    expect(checker.check(before).problems).toEqual([]);

    env.sched.killAll();
    env.stack.detach();
    env.kernel.unloadDriver(env.inst);
    expectNoLeaks(env.kernel);
  });

  it("with sharedPageTable the same process reads the driver's memory: the hole SIDE's own table closes", () => {
    const env = boot(true);
    let seen = -1;
    const reader = prober((p) => {
      seen = p.load32(env.priv);
    });
    const r = env.sched.spawn(reader);
    env.sched.run({ until: () => r.state === "exited" });
    expect(reader.fault).toBeNull();
    expect(r.exitCode).toBe(0);
    expect(seen).toBe(env.kernel.machine.mmu.load32(env.priv)); // the adapter, as the kernel sees it
    env.sched.killAll();
    env.stack.detach();
    env.kernel.unloadDriver(env.inst);
    expectNoLeaks(env.kernel);
  });
});
