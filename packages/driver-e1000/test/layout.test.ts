import { NapiStruct, NetDeviceOps, Spinlock, TimerList, WorkStruct } from "@side-kernel/kservice";
import { describe, expect, it } from "vitest";
import { Adapter, BufferInfo, HwStats, ModuleData, Ring, STATS_REGISTERS } from "../src/layout.js";
import { E1000_ID_TABLE, MODULE_DATA_SIZE } from "../src/main.js";

/** Fields as [offset, size]; checks that none overlap and all fit in `size`. */
function expectDisjoint(fields: Record<string, [number, number]>, size: number): void {
  const sorted = Object.entries(fields).sort((a, b) => a[1][0] - b[1][0]);
  for (let i = 0; i < sorted.length; i++) {
    const [name, [off, len]] = sorted[i];
    expect(off + len, `${name} ends past SIZE`).toBeLessThanOrEqual(size);
    if (i + 1 < sorted.length)
      expect(off + len, `${name} overlaps ${sorted[i + 1][0]}`).toBeLessThanOrEqual(sorted[i + 1][1][0]);
    if (len >= 8) expect(off % 8, `${name} is not 8-byte aligned`).toBe(0);
  }
}

describe("driver struct layouts", () => {
  it("lays out struct e1000_adapter without overlaps, embedded kernel structs whole", () => {
    expectDisjoint(
      {
        netdev: [Adapter.netdev, 8],
        pdev: [Adapter.pdev, 8],
        hwAddr: [Adapter.hwAddr, 8],
        ioBase: [Adapter.ioBase, 4],
        flags: [Adapter.flags, 4],
        bars: [Adapter.bars, 4],
        phyId: [Adapter.phyId, 4],
        txRing: [Adapter.txRing, 8],
        rxRing: [Adapter.rxRing, 8],
        napi: [Adapter.napi, NapiStruct.SIZE],
        watchdogTimer: [Adapter.watchdogTimer, TimerList.SIZE],
        resetTask: [Adapter.resetTask, WorkStruct.SIZE],
        statsLock: [Adapter.statsLock, Spinlock.SIZE],
        txdCmd: [Adapter.txdCmd, 4],
        txIntDelay: [Adapter.txIntDelay, 4],
        txAbsIntDelay: [Adapter.txAbsIntDelay, 4],
        rxIntDelay: [Adapter.rxIntDelay, 4],
        rxAbsIntDelay: [Adapter.rxAbsIntDelay, 4],
        itr: [Adapter.itr, 4],
        rxBufferLen: [Adapter.rxBufferLen, 4],
        eepromWords: [Adapter.eepromWords, 4],
        eepromAddrBits: [Adapter.eepromAddrBits, 4],
        allocRxBuffFailed: [Adapter.allocRxBuffFailed, 4],
        linkSpeed: [Adapter.linkSpeed, 4],
        linkDuplex: [Adapter.linkDuplex, 4],
        txTimeoutCount: [Adapter.txTimeoutCount, 4],
        permAddr: [Adapter.permAddr, 6],
        netdevOps: [Adapter.netdevOps, NetDeviceOps.SIZE],
        hwStats: [Adapter.hwStats, HwStats.SIZE],
      },
      Adapter.SIZE,
    );
  });

  it("lays out the ring and buffer_info structs", () => {
    expectDisjoint(
      {
        desc: [Ring.desc, 8],
        dma: [Ring.dma, 8],
        size: [Ring.size, 4],
        count: [Ring.count, 4],
        nextToUse: [Ring.nextToUse, 4],
        nextToClean: [Ring.nextToClean, 4],
        bufferInfo: [Ring.bufferInfo, 8],
        head: [Ring.head, 4],
        tail: [Ring.tail, 4],
      },
      Ring.SIZE,
    );
    expectDisjoint(
      {
        skb: [BufferInfo.skb, 8],
        dma: [BufferInfo.dma, 8],
        length: [BufferInfo.length, 4],
        nextToWatch: [BufferInfo.nextToWatch, 4],
      },
      BufferInfo.SIZE,
    );
  });

  it("keeps one u64 per statistics register, each register once", () => {
    const lows = STATS_REGISTERS.map(([l]) => l);
    expect(new Set(lows).size).toBe(lows.length);
    expect(HwStats.SIZE).toBe(lows.length * 8);
    expect(HwStats.gorc).toBe(lows.indexOf(0x4088) * 8);
  });

  it("sizes the module data block for the id table and its zero terminator", () => {
    expect(ModuleData.idTable).toBeGreaterThanOrEqual(ModuleData.name + ModuleData.NAME_SIZE);
    expect(MODULE_DATA_SIZE).toBe(ModuleData.idTable + (E1000_ID_TABLE.length + 1) * 32);
  });
});
