import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildUdpFrame, PcapReader, PcapWriter, parseMac, readPcap } from "../src/index.js";

function hasTshark(): boolean {
  try {
    execFileSync("tshark", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function frame(i: number): Uint8Array {
  return buildUdpFrame({
    dstMac: parseMac("02:00:00:00:00:02"),
    srcMac: parseMac("02:00:00:00:00:01"),
    srcIp: 0x0a000001,
    dstIp: 0x0a000002,
    srcPort: 4000 + i,
    dstPort: 5001,
    payload: new Uint8Array(18 + i),
  });
}

describe("PcapWriter / PcapReader", () => {
  it("writes the nanosecond magic, linktype 1 and exact timestamps", () => {
    const w = new PcapWriter();
    w.record(1_500_000_123, frame(0));
    const bytes = w.toBytes();
    const v = new DataView(bytes.buffer);
    expect(v.getUint32(0, true)).toBe(0xa1b23c4d);
    expect(v.getUint16(4, true)).toBe(2);
    expect(v.getUint16(6, true)).toBe(4);
    expect(v.getUint32(20, true)).toBe(1);
    expect(v.getUint32(24, true)).toBe(1);
    expect(v.getUint32(28, true)).toBe(500_000_123);
    const f = readPcap(bytes);
    expect(f.nanosecond).toBe(true);
    expect(f.records[0].timeNs).toBe(1_500_000_123);
    expect(w.chunks().length).toBe(2);
  });
  it("truncates to the snaplen but keeps the original length", () => {
    const w = new PcapWriter({ snaplen: 20 });
    w.record(0, frame(3));
    const r = new PcapReader(w.toBytes()).records[0];
    expect(r.data.length).toBe(20);
    expect(r.originalLength).toBe(frame(3).length);
  });
  it("rejects bad input precisely", () => {
    const w = new PcapWriter();
    expect(() => w.record(-1, frame(0))).toThrow("bad time -1 ns");
    expect(() => w.record(0, frame(0), 1000)).toThrow(/length 1000 outside a frame of 60 bytes/);
    expect(() => readPcap(new Uint8Array(24))).toThrow(/bad magic 0x0 at offset 0/);
    const b = w.toBytes();
    w.record(0, frame(1));
    expect(() => readPcap(w.toBytes().subarray(0, b.length + 20))).toThrow(/record at offset 24/);
  });
  it("a file in a temp dir reads back, and tshark decodes it when installed", () => {
    const w = new PcapWriter();
    const n = 5;
    for (let i = 0; i < n; i++) w.record(i * 672, frame(i));
    const dir = mkdtempSync(join(tmpdir(), "net-nic-"));
    const path = join(dir, "t.pcap");
    writeFileSync(path, w.toBytes());
    const back = readPcap(new Uint8Array(readFileSync(path)));
    expect(back.records.map((r) => r.timeNs)).toEqual([0, 672, 1344, 2016, 2688]);
    expect(back.records.map((r) => Array.from(r.data))).toEqual(
      [0, 1, 2, 3, 4].map((i) => Array.from(frame(i))),
    );
    if (!hasTshark()) return; // tshark absent: the decode check is skipped
    const out = execFileSync(
      "tshark",
      ["-r", path, "-T", "fields", "-e", "udp.srcport", "-e", "udp.dstport"],
      {
        encoding: "utf8",
      },
    );
    const lines = out.trim().split("\n");
    expect(lines.length).toBe(n);
    expect(lines[2].split("\t")).toEqual(["4002", "5001"]);
  });
});
