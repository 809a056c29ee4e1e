/**
 * Host-speed benchmark of the device model: TX and RX frames per second for 64- and 1518-byte
 * frames (on-the-wire sizes incl. FCS), driven by a harness that refills descriptors like a
 * driver. `--json` prints one JSON object.
 */
import { Bench } from "tinybench";
import { E1000, regs as R, SPEED_1G, wireTimeNs } from "../src/index.js";
import { CMD_BUS_MASTER, MemoryPort, TestScheduler } from "../test/harness.js";

const RING = 256;
const BATCH = 64;
const TX_RING = 0x1000;
const RX_RING = 0x2000;
const BUFS = 0x10000;
const STRIDE = 0x800;

function setup() {
  const sched = new TestScheduler();
  const port = new MemoryPort(BUFS + RING * STRIDE, sched);
  port.command |= CMD_BUS_MASTER;
  const nic = new E1000({ scheduler: sched });
  nic.attach(port);
  sched.advance(600_000_000);
  return { sched, port, nic };
}

function txRig(wireSize: number) {
  const { sched, port, nic } = setup();
  let sent = 0;
  nic.attachBackend({ send: () => void sent++ });
  const len = wireSize - 4;
  const v = port.view;
  for (let i = 0; i < RING; i++) {
    const a = TX_RING + i * 16;
    v.setUint32(a, BUFS + i * STRIDE, true);
    v.setUint32(a + 8, (len | R.TXD_CMD_EOP | R.TXD_CMD_IFCS | R.TXD_CMD_RS) >>> 0, true);
    port.mem.fill(0xff, BUFS + i * STRIDE, BUFS + i * STRIDE + 6);
    port.mem[BUFS + i * STRIDE] = 0x02;
  }
  nic.barWrite(0, R.TDBAL, 4, TX_RING);
  nic.barWrite(0, R.TDLEN, 4, RING * 16);
  nic.barWrite(0, R.TCTL, 4, R.TCTL_EN | R.TCTL_PSP);
  nic.barWrite(0, R.IMS, 4, 0x9d);
  let tail = 0;
  const slot = wireTimeNs(len, SPEED_1G);
  // One "xmit" batch: the driver clears DD of the descriptors it reuses and writes TDT; the
  // simulated clock moves one wire slot per frame (a sender at line rate, so the TX FIFO
  // drains as fast as it fills and never stops the engine); then it cleans (reads ICR).
  return {
    run() {
      for (let k = 0; k < BATCH; k++) {
        port.mem[TX_RING + tail * 16 + 12] = 0;
        tail = (tail + 1) % RING;
        nic.barWrite(0, R.TDT, 4, tail);
        sched.advance(slot);
      }
      nic.barRead(0, R.ICR, 4);
    },
    get sent() {
      return sent;
    },
  };
}

function rxRig(wireSize: number) {
  const { port, nic } = setup();
  const v = port.view;
  for (let i = 0; i < RING; i++) v.setUint32(RX_RING + i * 16, BUFS + i * STRIDE, true);
  nic.barWrite(0, R.RDBAL, 4, RX_RING);
  nic.barWrite(0, R.RDLEN, 4, RING * 16);
  nic.barWrite(0, R.RDT, 4, RING - 1);
  nic.barWrite(0, R.RCTL, 4, R.RCTL_EN | R.RCTL_BAM | R.RCTL_SECRC);
  nic.barWrite(0, R.IMS, 4, 0x9d);
  const frame = new Uint8Array(wireSize - 4);
  frame.set([0x52, 0x54, 0x00, 0x12, 0x34, 0x56], 0);
  let next = 0;
  let received = 0;
  return {
    run() {
      for (let k = 0; k < BATCH; k++) nic.receive(frame, frame.length);
      // The driver's NAPI poll: check DD, clear status, refill, write RDT once per batch.
      for (let k = 0; k < BATCH; k++) {
        const a = RX_RING + next * 16;
        if (port.mem[a + 12] & R.RXD_STAT_DD) received++;
        port.mem[a + 12] = 0;
        next = (next + 1) % RING;
      }
      nic.barWrite(0, R.RDT, 4, (next + RING - 1) % RING);
      nic.barRead(0, R.ICR, 4);
    },
    get received() {
      return received;
    },
  };
}

async function main() {
  const json = process.argv.includes("--json");
  const bench = new Bench({ time: 500, warmupTime: 100 });
  const rigs = {
    txFramesPerSec64: txRig(64),
    txFramesPerSec1518: txRig(1518),
    rxFramesPerSec64: rxRig(64),
    rxFramesPerSec1518: rxRig(1518),
  };
  for (const [name, rig] of Object.entries(rigs)) bench.add(name, () => rig.run());
  await bench.run();
  const out: Record<string, number> = {};
  for (const task of bench.tasks) {
    const r = task.result as { throughput?: { mean: number }; latency?: { mean: number } } | undefined;
    const opsPerSec = r?.throughput?.mean ?? (r?.latency ? 1000 / r.latency.mean : 0);
    out[task.name] = Math.round(opsPerSec * BATCH);
  }
  for (const [name, rig] of Object.entries(rigs)) {
    const moved = "sent" in rig ? rig.sent : rig.received;
    const runs = bench.tasks.find((t) => t.name === name)?.runs ?? 0;
    // Every frame posted must have gone out / been stored (no back-pressure stall, no overrun).
    if (moved < runs * BATCH) throw new Error(`bench rig ${name} moved ${moved} of ${runs * BATCH} frames`);
  }
  if (json) console.log(JSON.stringify(out));
  else console.table(out);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
