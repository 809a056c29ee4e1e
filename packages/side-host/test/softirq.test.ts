import {
  type DriverModule,
  GFP_KERNEL,
  HZ,
  type KernelApi,
  NapiStruct,
  TimerList,
} from "@side-kernel/kservice";
import { describe, expect, it } from "vitest";
import { bootKernel, expectNoLeaks } from "./helpers.js";

/** A driver whose poll always uses `work` of its budget and counts calls in memory. */
function pollingDriver(work: number): { module: DriverModule; k: () => KernelApi } {
  let captured: KernelApi | null = null;
  const module: DriverModule = {
    name: "poller",
    entryPoints: {
      init: (k) => {
        captured = k;
        return 0;
      },
      exit: () => 0,
      // napi poll: count in the byte after the napi_struct; complete when work < budget
      poll: (k, napi, budget) => {
        k.store32(napi + NapiStruct.SIZE, k.load32(napi + NapiStruct.SIZE) + 1);
        const done = Math.min(work, budget);
        if (done < budget) k.napi_complete_done(napi, done);
        return done;
      },
      tick: (k, timer) => {
        k.store32(timer + TimerList.SIZE, k.load32(timer + TimerList.SIZE) + 1);
        return 0;
      },
    },
    init: "init",
    exit: "exit",
  };
  return { module, k: () => captured! };
}

describe("NAPI and softirqs", () => {
  it("a poll that uses its whole budget stays scheduled; one round spends at most 300", () => {
    const { kernel } = bootKernel({ peer: "none" });
    const d = pollingDriver(64);
    const inst = kernel.loadDriver(d.module, { mode: "native" });
    const k = d.k();
    const dev = k.alloc_etherdev(0);
    const napis = [0, 1, 2, 3, 4, 5].map(() => k.kzalloc(NapiStruct.SIZE + 4, GFP_KERNEL));
    for (const n of napis) {
      k.netif_napi_add(dev, n, k.fn("poll"), 64);
      k.napi_enable(n);
      k.napi_schedule(n);
    }
    kernel.softirq.run();
    // 300 / 64: five polls fit (the fifth overdraws, as in Linux), the sixth waits
    const counts = napis.map((n) => k.load32(n + NapiStruct.SIZE));
    expect(counts).toEqual([1, 1, 1, 1, 1, 0]);
    expect(kernel.softirq.pending).toBe(true);
    for (const n of napis) k.napi_disable(n);
    expect(kernel.softirq.pending).toBe(false);
    k.free_netdev(dev);
    for (const n of napis) k.kfree(n);
    expect(inst.ledger.count()).toBe(0);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });

  it("a poll that completes leaves the poll list; a timer fires once at its jiffy and releases its ledger entry", () => {
    const { kernel, machine } = bootKernel({ peer: "none" });
    const d = pollingDriver(3);
    const inst = kernel.loadDriver(d.module, { mode: "native" });
    const k = d.k();
    const dev = k.alloc_etherdev(0);
    const napi = k.kzalloc(NapiStruct.SIZE + 4, GFP_KERNEL);
    k.netif_napi_add(dev, napi, k.fn("poll"), 64);
    k.napi_schedule(napi); // disabled: ignored
    expect(kernel.softirq.pending).toBe(false);
    k.napi_enable(napi);
    k.napi_schedule(napi);
    machine.run({ untilNs: kernel.nowNs + 1000 });
    expect(k.load32(napi + NapiStruct.SIZE)).toBe(1);
    const timer = k.kzalloc(TimerList.SIZE + 4, GFP_KERNEL);
    k.timer_setup(timer, k.fn("tick"), 0);
    const at = k.jiffies() + HZ / 2;
    k.mod_timer(timer, at);
    expect(inst.ledger.has("timer", timer)).toBe(true);
    machine.run({ untilNs: (at * 1e9) / HZ - 1 });
    expect(k.load32(timer + TimerList.SIZE)).toBe(0);
    machine.run({ untilNs: (at * 1e9) / HZ + 1e6 });
    expect(k.load32(timer + TimerList.SIZE)).toBe(1);
    expect(inst.ledger.has("timer", timer)).toBe(false);
    expect(k.del_timer_sync(timer)).toBe(0);
    k.free_netdev(dev);
    k.kfree(napi);
    k.kfree(timer);
    kernel.unloadDriver(inst);
    expectNoLeaks(kernel);
  });
});
