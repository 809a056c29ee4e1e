import { TrafficGenerator } from "@side-kernel/net-nic";
import { Access, CR4_SMAP, PageFault, PF_PROT, PF_USER, PF_WRITE } from "@side-kernel/paging";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  abi,
  PAGE_OFFSET,
  PacedScheduler,
  type Process,
  Scheduler,
  SIGSEGV,
  SYSCALL_TABLE,
  TASK_SIZE_MAX,
  UdpReceiverApp,
  type UdpStack,
  type UserProgram,
} from "../src/index.js";
import { expectNoLeaks } from "./helpers.js";
import { bootStack, ifup, inject, PEER_IP, peerFrame, teardown } from "./net-helpers.js";

/** A program that runs one closure per step; -ERESTARTSYS repeats the step; then exit(0). */
class Script implements UserProgram {
  readonly name = "script";
  readonly results: number[] = [];
  private i = 0;
  constructor(private readonly steps: ((p: Process) => number)[]) {}
  step(p: Process): void {
    if (this.i >= this.steps.length) {
      p.syscall(abi.SYS_exit, 0);
      return;
    }
    const r = this.steps[this.i](p);
    if (r === -abi.ERESTARTSYS) return;
    this.results.push(r);
    this.i++;
  }
}

/** Write a sockaddr_in for ip:port at user va (user-mode stores). */
function sockaddr(p: Process, va: number, ip: number, port: number): void {
  for (let i = 0; i < 16; i++) p.store8(va + i, 0);
  p.store8(va, abi.AF_INET);
  p.store8(va + 2, port >>> 8);
  p.store8(va + 3, port & 0xff);
  for (let i = 0; i < 4; i++) p.store8(va + 4 + i, (ip >>> (24 - 8 * i)) & 0xff);
}

function setup(options: Parameters<typeof bootStack>[0] = {}) {
  const env = bootStack(options);
  const sched = new Scheduler(env.kernel, env.stack);
  return { ...env, sched };
}

function finish(env: ReturnType<typeof setup>): void {
  env.sched.killAll();
  teardown(env.kernel, env.inst, env.stack as UdpStack);
  expectNoLeaks(env.kernel);
}

describe("system calls", () => {
  it("an unknown number is -ENOSYS (and the table has Linux's numbers)", () => {
    const env = setup();
    const prog = new Script([
      (p) => p.syscall(0), // read: not implemented here
      (p) => p.syscall(999),
      (p) => p.syscall(-1),
      (p) => p.syscall(1.5),
      (p) => p.syscall(abi.SYS_socket, abi.AF_INET, abi.SOCK_DGRAM, 0),
    ]);
    const proc = env.sched.spawn(prog);
    env.sched.run({ until: () => proc.state === "exited" });
    expect(prog.results).toEqual([-abi.ENOSYS, -abi.ENOSYS, -abi.ENOSYS, -abi.ENOSYS, 0]);
    expect(proc.exitCode).toBe(0);
    expect([3, 41, 44, 45, 49].every((n) => SYSCALL_TABLE[n] !== null)).toBe(true);
    expect(env.stack.socketCount).toBe(0); // exit closed the socket
    finish(env);
  });

  it("socket/bind argument errors are precise", () => {
    const env = setup();
    const prog = new Script([
      (p) => p.syscall(abi.SYS_socket, 10 /* AF_INET6 */, abi.SOCK_DGRAM, 0),
      (p) => p.syscall(abi.SYS_socket, abi.AF_INET, 1 /* SOCK_STREAM */, 0),
      (p) => p.syscall(abi.SYS_socket, abi.AF_INET, abi.SOCK_DGRAM, 6),
      (p) => p.syscall(abi.SYS_bind, 7, p.dataBase, 16),
      (p) => p.syscall(abi.SYS_socket, abi.AF_INET, abi.SOCK_DGRAM, 0),
      (p) => p.syscall(abi.SYS_bind, 0, p.dataBase, 8),
      (p) => {
        sockaddr(p, p.dataBase, 0, 9);
        return p.syscall(abi.SYS_bind, 0, p.dataBase, 16);
      },
      (p) => p.syscall(abi.SYS_close, 0),
      (p) => p.syscall(abi.SYS_close, 0),
    ]);
    const proc = env.sched.spawn(prog);
    env.sched.run({ until: () => proc.state === "exited" });
    expect(prog.results).toEqual([
      -abi.EAFNOSUPPORT,
      -abi.ESOCKTNOSUPPORT,
      -abi.EPROTONOSUPPORT,
      -abi.EBADF,
      0,
      -abi.EINVAL,
      0,
      0,
      -abi.EBADF,
    ]);
    finish(env);
  });

  it("a bad user pointer is -EFAULT, never a kernel crash", () => {
    const env = setup({ peer: "sink", ifup: true });
    const kernelPtr = PAGE_OFFSET + 0x1000; // direct map: above TASK_SIZE_MAX
    const prog = new Script([
      (p) => p.syscall(abi.SYS_socket, abi.AF_INET, abi.SOCK_DGRAM, 0),
      (p) => p.syscall(abi.SYS_bind, 0, 0, 16), // NULL page: unmapped
      (p) => p.syscall(abi.SYS_bind, 0, kernelPtr, 16), // kernel address: access_ok fails
      (p) => {
        sockaddr(p, p.dataBase, PEER_IP, 9);
        return p.syscall(abi.SYS_sendto, 0, 0x2000_0000, 100, 0, p.dataBase, 16); // unmapped buffer
      },
      (p) => p.syscall(abi.SYS_sendto, 0, kernelPtr, 100, 0, p.dataBase, 16),
      (p) => p.syscall(abi.SYS_sendto, 0, TASK_SIZE_MAX - 10, 100, 0, p.dataBase, 16), // straddles the end
      (p) => p.syscall(abi.SYS_sendto, 0, p.dataBase + p.dataSize - 50, 100, 0, p.dataBase, 16), // runs off the data
      (p) => p.syscall(abi.SYS_sendto, 0, p.dataBase + 64, 100, 0, p.dataBase, 16), // fine
    ]);
    const proc = env.sched.spawn(prog);
    env.sched.run({ until: () => proc.state === "exited" });
    const E = -abi.EFAULT;
    expect(prog.results).toEqual([0, E, E, E, E, E, E, 100]);
    expect(env.sched.uaccess.faults).toBe(6);
    expect(proc.exitCode).toBe(0);
    env.machine.run({ untilNs: env.kernel.nowNs + 5e6 });
    finish(env);
  });

  it("copy_to_user into a read-only user page (the code page) is -EFAULT; the datagram is consumed", () => {
    const env = setup();
    const prog = new Script([
      (p) => p.syscall(abi.SYS_socket, abi.AF_INET, abi.SOCK_DGRAM, 0),
      (p) => {
        sockaddr(p, p.dataBase, 0, 9);
        return p.syscall(abi.SYS_bind, 0, p.dataBase, 16);
      },
      (p) => p.syscall(abi.SYS_recvfrom, 0, p.codeBase, 100, 0, 0, 0),
      (p) => p.syscall(abi.SYS_recvfrom, 0, p.dataBase + 64, 100, abi.MSG_DONTWAIT, 0, 0),
    ]);
    const proc = env.sched.spawn(prog);
    env.sched.run({ until: () => prog.results.length === 2 && proc.state === "blocked" });
    inject(env.kernel, peerFrame(new Uint8Array(40)));
    env.sched.run({ until: () => proc.state === "exited" });
    expect(prog.results).toEqual([0, 0, -abi.EFAULT, -abi.EAGAIN]);
    expect(env.kernel.skb.live).toBe(0);
    finish(env);
  });
});

describe("system calls with arbitrary arguments (property)", () => {
  it("never crash the kernel: every call returns a number, -ENOSYS off the table, errors are negative errnos", () => {
    const env = setup({ peer: "sink", ifup: true });
    const interesting = (p: { dataBase: number }) => [
      0,
      1,
      -1,
      16,
      Number.NaN,
      2 ** 53,
      1.5,
      p.dataBase,
      p.dataBase + 64,
      TASK_SIZE_MAX - 8,
      PAGE_OFFSET,
      0xffff_ffff,
    ];
    const arg = fc.integer({ min: 0, max: 11 });
    const calls = fc.array(
      fc.tuple(fc.constantFrom(-1, 0, 3, 41, 44, 45, 49, 59, 400, 511, 512), arg, arg, arg, arg, arg, arg),
      { minLength: 1, maxLength: 30 },
    );
    fc.assert(
      fc.property(calls, (list) => {
        const got: number[] = [];
        const proc = env.sched.spawn({
          name: "fuzz",
          step(p) {
            const c = list[got.length];
            if (c === undefined) {
              p.syscall(abi.SYS_exit, 0);
              return;
            }
            const v = interesting(p);
            const r = p.syscall(c[0], v[c[1]], v[c[2]], v[c[3]], v[c[4]], v[c[5]], v[c[6]]);
            if (r === -abi.ERESTARTSYS) {
              got.push(r); // asleep (e.g. recvfrom on an empty socket): give up on this process
              env.sched.kill(p, 9);
              return;
            }
            got.push(r);
          },
        });
        env.sched.run({ until: () => proc.state === "exited" });
        for (let i = 0; i < got.length; i++) {
          const nr = list[i][0];
          expect(Number.isFinite(got[i])).toBe(true);
          if (nr < 0 || nr >= 512 || SYSCALL_TABLE[nr] === null) expect(got[i]).toBe(-abi.ENOSYS);
        }
        expect(env.stack.socketCount).toBe(0); // exit or kill closed everything
      }),
      { numRuns: 60 },
    );
    env.machine.run({ untilNs: env.kernel.nowNs + 5e6 });
    finish(env);
  });
});

describe("user processes", () => {
  it("cannot read kernel memory: #PF with U/S in the error code, the process is killed, the kernel goes on", () => {
    const env = setup();
    const target = env.kernel.net.byName("eth0")!.ptr; // a kernel object (direct map)
    let fault: unknown = null;
    const bad: UserProgram = {
      name: "peek",
      step(p) {
        try {
          p.load32(target);
        } catch (e) {
          fault = e;
          throw e;
        }
      },
    };
    const proc = env.sched.spawn(bad);
    const ok = new Script([(p) => p.syscall(abi.SYS_socket, abi.AF_INET, abi.SOCK_DGRAM, 0)]);
    const proc2 = env.sched.spawn(ok);
    env.sched.run({ until: () => proc.state === "exited" && proc2.state === "exited" });
    expect(fault).toBeInstanceOf(PageFault);
    const code = (fault as PageFault).errorCode;
    expect(code & PF_USER).toBe(PF_USER);
    expect(code & PF_PROT).toBe(PF_PROT); // present but supervisor
    expect(code).toBe(PF_USER | PF_PROT);
    expect(proc.exitCode).toBe(128 + SIGSEGV);
    expect(proc.fault).toBe(fault);
    expect(env.sched.stats.killed).toBe(1);
    expect(ok.results).toEqual([0]);
    expect(proc2.exitCode).toBe(0);
    expect(env.machine.clock.categoryCycles("exception")).toBeGreaterThan(0);
    finish(env);
  });

  it("a user write to its read-only code page is #PF 0x7", () => {
    const env = setup();
    let code = -1;
    const proc = env.sched.spawn({
      name: "scribble",
      step(p) {
        try {
          p.store32(p.codeBase, 0xdead);
        } catch (e) {
          code = (e as PageFault).errorCode;
          throw e;
        }
      },
    });
    env.sched.run({ until: () => proc.state === "exited" });
    expect(code).toBe(PF_USER | PF_WRITE | PF_PROT);
    finish(env);
  });

  it("has its own address space: same user address, different memory; CR3 switches are counted and charged", () => {
    const env = setup();
    const seen: number[][] = [[], []];
    const mk = (tag: number): UserProgram => {
      let n = 0;
      return {
        name: `p${tag}`,
        step(p) {
          if (n === 0) p.store32(p.dataBase, tag);
          seen[tag].push(p.load32(p.dataBase));
          if (++n < 3) p.syscall(999);
          else p.syscall(abi.SYS_exit, 0);
        },
      };
    };
    const a = env.sched.spawn(mk(0));
    const b = env.sched.spawn(mk(1));
    expect(a.space.root).not.toBe(b.space.root);
    expect(a.space.query(a.dataBase)!.pa).not.toBe(b.space.query(b.dataBase)!.pa);
    const crossing0 = env.machine.clock.categoryCycles("crossing");
    env.sched.run({ until: () => a.state === "exited" && b.state === "exited" });
    expect(seen).toEqual([
      [0, 0, 0],
      [1, 1, 1],
    ]);
    expect(env.sched.stats.contextSwitches).toBeGreaterThanOrEqual(2);
    expect(env.machine.clock.categoryCycles("crossing")).toBeGreaterThan(crossing0);
    // after both exited the kernel's own CR3 is loaded again
    expect(env.machine.mmu.cr3).toBe(env.kernel.space.root);
    finish(env);
  });

  it("SMAP: the kernel cannot touch user memory without opening access (AC), as stac/clac", () => {
    const env = setup();
    let pf: unknown = null;
    let withAc = -1;
    const probe = env.sched.spawn({
      name: "probe",
      step(p) {
        p.store32(p.dataBase, 0x5678);
        const cpu = env.machine.cpu;
        cpu.syscall(); // into the kernel, by hand (FMASK clears AC)
        expect(env.machine.mmu.cr4 & CR4_SMAP).toBe(CR4_SMAP);
        try {
          env.machine.mmu.translate(p.dataBase, Access.Read);
        } catch (e) {
          pf = e;
        }
        const buf = new Uint8Array(4);
        expect(env.sched.uaccess.copyFromUser(buf, 0, p.dataBase, 4)).toBe(0);
        withAc = buf[0] | (buf[1] << 8);
        cpu.sysret();
        p.syscall(abi.SYS_exit, 0);
      },
    });
    env.sched.run({ until: () => probe.state === "exited" });
    expect(pf).toBeInstanceOf(PageFault);
    expect((pf as PageFault).errorCode & PF_USER).toBe(0); // a supervisor access ...
    expect((pf as PageFault).errorCode & PF_PROT).toBe(PF_PROT); // ... refused by SMAP
    expect(withAc).toBe(0x5678);
    finish(env);
  });

  it("recvfrom blocks on an empty queue and wakes when a datagram arrives; its source is written back", () => {
    const env = setup();
    const prog = new Script([
      (p) => p.syscall(abi.SYS_socket, abi.AF_INET, abi.SOCK_DGRAM, 0),
      (p) => {
        sockaddr(p, p.dataBase, 0, 9);
        return p.syscall(abi.SYS_bind, 0, p.dataBase, 16);
      },
      (p) => {
        if (!p.inKernel) p.store32(p.dataBase + 32, 16);
        return p.syscall(abi.SYS_recvfrom, 0, p.dataBase + 64, 1000, 0, p.dataBase + 16, p.dataBase + 32);
      },
      (p) => p.load32(p.dataBase + 64), // the payload's first word
      (p) => p.load8(p.dataBase + 16 + 7), // last byte of the source address
      (p) => (p.load8(p.dataBase + 16 + 2) << 8) | p.load8(p.dataBase + 16 + 3), // source port
    ]);
    const proc = env.sched.spawn(prog);
    env.sched.run({ until: () => proc.state === "blocked" });
    expect(prog.results).toEqual([0, 0]);
    expect(proc.stats.sleeps).toBe(1);
    const syscalls = env.sched.stats.syscalls;
    inject(env.kernel, peerFrame(Uint8Array.of(7, 0, 0, 0, 9, 9)));
    expect(proc.state).toBe("runnable");
    env.sched.run({ until: () => proc.state === "exited" });
    expect(prog.results.slice(2)).toEqual([6, 7, 2, 5000]); // 6 bytes from 10.0.0.2:5000
    // the woken recvfrom did not enter the kernel a second time: + 1 for the final exit only
    expect(env.sched.stats.syscalls).toBe(syscalls + 1);
    finish(env);
  });

  it("a sender blocks while the device queue is stopped, then completes with nothing dropped", () => {
    // 1472-byte datagrams at CPU speed outrun the 1 Gbit/s wire: the card's 16 KiB TX FIFO and
    // the 256-descriptor ring fill, the driver stops its queue, and the sender must sleep.
    const env = setup({ peer: "sink", ifup: true });
    const dev = env.kernel.net.byName("eth0")!;
    const N = 600;
    let sent = 0;
    const proc = env.sched.spawn({
      name: "blast",
      step(p) {
        if (sent === 0 && !p.inKernel) sockaddr(p, p.dataBase, PEER_IP, 9);
        if (sent === 0 && p.fds.length === 0) {
          p.syscall(abi.SYS_socket, abi.AF_INET, abi.SOCK_DGRAM, 0);
          return;
        }
        if (sent === N) {
          p.syscall(abi.SYS_exit, 0);
          return;
        }
        if (!p.inKernel)
          for (let i = 0; i < 4; i++) p.store8(p.dataBase + 64 + i, (sent >>> (24 - 8 * i)) & 0xff);
        const r = p.syscall(abi.SYS_sendto, 0, p.dataBase + 64, 1472, 0, p.dataBase, 16);
        if (r === -abi.ERESTARTSYS) {
          expect(dev.stopped).toBe(true);
          return;
        }
        expect(r).toBe(1472);
        sent++;
      },
    });
    const t0 = env.kernel.nowNs;
    env.sched.run({ until: () => proc.state === "exited" });
    expect(proc.exitCode).toBe(0);
    expect(env.kernel.nowNs).toBeGreaterThan(t0);
    env.machine.run({ until: () => env.machine.link.statsAtoB.frames >= N, untilNs: env.kernel.nowNs + 1e9 });
    expect(env.stack.counters.udpSndBlocked).toBeGreaterThanOrEqual(1);
    expect(proc.stats.sleeps).toBe(env.stack.counters.udpSndBlocked); // every block is one sleep
    expect(dev.counters.txQueued).toBe(0); // nothing waited in the qdisc: the sender waited instead
    expect(env.kernel.net.byName("eth0")!.counters.txDropped).toBe(0);
    const s = env.machine.sink!.stats();
    expect(s.frames).toBe(N);
    expect(s.outOfOrder).toBe(0);
    expect(s.gaps).toBe(0);
    env.machine.run({ untilNs: env.kernel.nowNs + 5e6 });
    finish(env);
  });
});

describe("softirqs and processes", () => {
  it("softirq work that overruns MAX_SOFTIRQ_TIME is deferred to ksoftirqd and the receiver still runs", () => {
    // a receive path made 10x dearer so that ten NAPI rounds overrun 2 ms at a boundary
    const env = setup({ peer: "none", stack: { costs: { stackRxPerPacket: 20_000 } } });
    const gen = new TrafficGenerator({
      scheduler: new PacedScheduler(env.machine.events),
      frameSize: 64,
      count: 20_000,
    });
    env.machine.link.connect(env.machine.nic, gen);
    ifup(env.kernel, env.machine);
    const rx = new UdpReceiverApp({ clock: env.kernel });
    const proc = env.sched.spawn(rx);
    env.sched.run({ until: () => rx.ready && proc.state === "blocked" });
    gen.start();
    env.sched.run({ untilNs: env.kernel.nowNs + 100e6 });
    expect(env.sched.stats.ksoftirqdWakeups).toBeGreaterThan(0);
    expect(rx.received).toBeGreaterThan(100);
    expect(rx.outOfOrder).toBe(0);
    env.sched.killAll();
    env.machine.run({ untilNs: env.kernel.nowNs + 5e6 });
    finish(env);
  });
});
