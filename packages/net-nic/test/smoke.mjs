// Smoke test against the BUILT package: node, bun and deno run it. Throws on failure.
import {
  buildUdpFrame,
  E1000,
  Link,
  PcapWriter,
  parseMac,
  regs as R,
  readPcap,
  Sink,
} from "@side-kernel/net-nic";

// A tiny scheduler: sorted list of events.
let now = 0;
let events = [];
let nextId = 1;
const scheduler = {
  now: () => now,
  schedule(at, cb) {
    const id = nextId++;
    events.push({ at, id, cb });
    events.sort((a, b) => a.at - b.at || a.id - b.id);
    return id;
  },
  cancel(id) {
    events = events.filter((e) => e.id !== id);
  },
};
function runAll() {
  while (events.length > 0) {
    const e = events.shift();
    now = e.at;
    e.cb();
  }
}

// A tiny PCI port over 64 KiB of memory.
const mem = new Uint8Array(0x10000);
const port = {
  command: 0x7,
  dmaRead(addr, dst, off, len) {
    if (addr + len > mem.length) return false;
    dst.set(mem.subarray(addr, addr + len), off);
    return true;
  },
  dmaWrite(addr, src, off, len) {
    if (addr + len > mem.length) return false;
    mem.set(src.subarray(off, off + len), addr);
    return true;
  },
  setIrq() {},
  signalMsi: () => false,
};

const nic = new E1000({ scheduler, mac: "52:54:00:ab:cd:ef" });
nic.attach(port);
const pcap = new PcapWriter();
const sink = new Sink({ scheduler });
new Link(scheduler, { capture: pcap }).connect(nic, sink);
runAll(); // autonegotiation
if (!(nic.barRead(0, R.STATUS, 4) & R.STATUS_LU)) throw new Error("link not up after autonegotiation");

nic.barWrite(0, R.EERD, 4, (0 << 8) | R.EERD_START);
const w0 = nic.barRead(0, R.EERD, 4) >>> 16;
if (w0 !== 0x5452) throw new Error(`EEPROM word 0 is 0x${w0.toString(16)}, expected 0x5452`);

const frame = buildUdpFrame({
  dstMac: parseMac("02:00:00:00:00:02"),
  srcMac: parseMac("52:54:00:ab:cd:ef"),
  srcIp: 0x0a000001,
  dstIp: 0x0a000002,
  srcPort: 1,
  dstPort: 2,
  payload: new Uint8Array(18),
});
mem.set(frame, 0x2000);
const dv = new DataView(mem.buffer);
dv.setUint32(0x1000, 0x2000, true);
dv.setUint32(0x1008, frame.length | R.TXD_CMD_EOP | R.TXD_CMD_IFCS | R.TXD_CMD_RS, true);
nic.barWrite(0, R.TDBAL, 4, 0x1000);
nic.barWrite(0, R.TDLEN, 4, 128);
nic.barWrite(0, R.TCTL, 4, R.TCTL_EN | R.TCTL_PSP);
nic.barWrite(0, R.TDT, 4, 1);
runAll();
if (!(mem[0x100c] & R.TXD_STAT_DD)) throw new Error("TX descriptor not done");
const recs = readPcap(pcap.toBytes()).records;
if (recs.length !== 1 || recs[0].data.length !== frame.length)
  throw new Error("pcap does not hold the frame");
if (sink.stats().frames !== 1) throw new Error("sink did not receive the frame");
console.log("net-nic ok");
