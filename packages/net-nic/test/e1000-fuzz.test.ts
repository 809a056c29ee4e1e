// Bad input is a recorded device error, never a host exception: random register traffic, random
// descriptor memory and random frames must not throw.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_ERRORS, regs as R } from "../src/index.js";
import { makeNic, RX_RING, TX_RING } from "./harness.js";

const interesting = [
  R.CTRL,
  R.EECD,
  R.EERD,
  R.MDIC,
  R.ICR,
  R.ICS,
  R.IMS,
  R.IMC,
  R.ITR,
  R.RCTL,
  R.TCTL,
  R.RDBAL,
  R.RDBAH,
  R.RDLEN,
  R.RDH,
  R.RDT,
  R.RDTR,
  R.RADV,
  R.TDBAL,
  R.TDBAH,
  R.TDLEN,
  R.TDH,
  R.TDT,
  R.TIDV,
  R.TADV,
  R.GORCH,
  R.MTA,
  R.RA + 4,
  R.VFTA,
  0x1234,
  0x1fffc,
];

describe("E1000 under random input", () => {
  it("never throws and keeps the error list bounded", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            bar: fc.constantFrom(0, 1, 2),
            offset: fc.oneof(fc.constantFrom(...interesting), fc.integer({ min: -4, max: 0x20004 })),
            size: fc.constantFrom(1 as const, 2 as const, 4 as const),
            value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 128, 0x7fffffff)),
            write: fc.boolean(),
            frameLen: fc.integer({ min: 0, max: 20000 }),
            advance: fc.integer({ min: 0, max: 2_000_000 }),
          }),
          { maxLength: 80 },
        ),
        fc.uint8Array({ minLength: 4096, maxLength: 4096 }),
        (ops, junk) => {
          const { sched, nic, port } = makeNic({}, 0x20000 + 0x10000);
          port.mem.set(junk, TX_RING);
          port.mem.set(junk, RX_RING);
          nic.attachBackend({ send: () => {} });
          const frame = new Uint8Array(20000).fill(0xff);
          for (const op of ops) {
            if (op.write) nic.barWrite(op.bar, op.offset, op.size, op.value);
            else {
              const v = nic.barRead(op.bar, op.offset, op.size);
              expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff).toBe(true);
            }
            nic.receive(frame, op.frameLen);
            sched.advance(op.advance);
          }
          expect(nic.errors.length).toBeLessThanOrEqual(MAX_ERRORS);
          expect(() => JSON.stringify(nic.snapshot())).not.toThrow();
        },
      ),
      { numRuns: 150 },
    );
  });
});
