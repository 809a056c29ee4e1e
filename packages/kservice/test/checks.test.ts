import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CallerDomain,
  checkArgument,
  checkCall,
  checkCompiledCall,
  compileCallCheck,
  DMA_TO_DEVICE,
  DriverFault,
  GFP_KERNEL,
  type HandleKind,
  IRQF_SHARED,
  Ledger,
  SERVICES,
  type ServiceName,
} from "../src/index.js";

const REGION = { base: 0xd000_0000_0000, size: 0x10_0000 };
const ENTRY = REGION.base + 0x1000;
/** 0xffff888000001000, a direct-map kernel address, as a 48-bit number. */
const KERNEL_DIRECT_MAP_PAGE = 0x8880_0000_1000;

function domain(ledger = new Ledger()): CallerDomain & { ledger: Ledger } {
  return {
    ledger,
    ownsRange: (addr, len) => addr >= REGION.base && addr + len <= REGION.base + REGION.size,
    isEntryPoint: (addr) => addr === ENTRY,
    ownsIrq: (irq) => irq === 11,
    ownsHandle: (kind: HandleKind, value) =>
      kind === "pci-dev" ? value === REGION.base : ledger.has(kind, value),
  };
}

function faultOf(fn: () => unknown): DriverFault {
  try {
    fn();
  } catch (e) {
    if (e instanceof DriverFault) return e;
    throw e;
  }
  throw new Error("expected a DriverFault");
}

describe("checkCall", () => {
  it("accepts a well-formed call and returns its spec", () => {
    expect(checkCall("kmalloc", [64, GFP_KERNEL], domain()).returns).toBe("ptr");
  });

  it("reports an unknown service", () => {
    const f = faultOf(() => checkCall("sys_reboot", [], domain()));
    expect(f.kind).toBe("unknown-service");
    expect(f.message).toBe('unknown kernel service "sys_reboot"');
  });

  it("rejects a kernel pointer passed to kfree, naming service, argument and value", () => {
    const f = faultOf(() => checkCall("kfree", [KERNEL_DIRECT_MAP_PAGE], domain()));
    expect(f.kind).toBe("illegal-argument");
    expect(f.detail.argName).toBe("ptr");
    expect(f.message).toMatch(
      /^kfree: argument 0 \(ptr\) = 0x888000001000: not a heap owned by this driver$/,
    );
  });

  it("allows kfree(NULL) and a block the ledger holds", () => {
    const d = domain();
    d.ledger.acquire("heap", REGION.base + 0x100, "kmalloc", 64);
    expect(() => checkCall("kfree", [0], d)).not.toThrow();
    expect(() => checkCall("kfree", [REGION.base + 0x100], d)).not.toThrow();
  });

  it("rejects a dma_map_single length that runs past the region", () => {
    const end = REGION.base + REGION.size;
    const f = faultOf(() =>
      checkCall("dma_map_single", [REGION.base, end - 100, 200, DMA_TO_DEVICE], domain()),
    );
    expect(f.detail.argIndex).toBe(1);
    expect(f.message).toContain("is not inside the driver's region");
    expect(() =>
      checkCall("dma_map_single", [REGION.base, end - 200, 200, DMA_TO_DEVICE], domain()),
    ).not.toThrow();
  });

  it("rejects a foreign handle, a bad enum, stray flags, a non-entry callback and a foreign IRQ", () => {
    const d = domain();
    expect(faultOf(() => checkCall("netif_start_queue", [REGION.base + 8], d)).detail.argName).toBe("dev");
    expect(
      faultOf(() => checkCall("dma_map_single", [REGION.base, REGION.base, 64, 7], d)).detail.argName,
    ).toBe("dir");
    expect(faultOf(() => checkCall("kmalloc", [64, 0x8000_0000], d)).detail.argName).toBe("gfp");
    expect(
      faultOf(() => checkCall("request_irq", [11, ENTRY + 16, IRQF_SHARED, "eth0", 0], d)).detail.argName,
    ).toBe("handler");
    expect(
      faultOf(() => checkCall("request_irq", [5, ENTRY, IRQF_SHARED, "eth0", 0], d)).detail.argName,
    ).toBe("irq");
    expect(() => checkCall("request_irq", [11, ENTRY, IRQF_SHARED, "eth0", 0], d)).not.toThrow();
  });

  it("rejects wrong arity and non-integer arguments", () => {
    expect(faultOf(() => checkCall("kmalloc", [64], domain())).detail.argName).toBe("arity");
    expect(faultOf(() => checkCall("kmalloc", [1.5, GFP_KERNEL], domain())).message).toContain(
      "not an integer",
    );
    expect(faultOf(() => checkCall("printk", [42], domain())).message).toContain("not a string");
  });

  it("never accepts a pointer outside the region (property)", () => {
    const d = domain();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 48 - 1 }),
        fc.integer({ min: 1, max: 4096 }),
        (addr, len) => {
          const inside = addr >= REGION.base && addr + len <= REGION.base + REGION.size;
          let accepted = true;
          try {
            checkCall("dma_map_single", [REGION.base, addr, len, DMA_TO_DEVICE], d);
          } catch {
            accepted = false;
          }
          return accepted === inside;
        },
      ),
    );
  });
});

describe("checkCompiledCall", () => {
  const names = Object.keys(SERVICES) as ServiceName[];
  /** Values around every kind's edges: null, region edges, kernel addresses, non-integers, strings. */
  const interesting = fc.oneof(
    fc.constantFrom<unknown>(
      0,
      1,
      -1,
      5,
      6,
      11,
      64,
      1514,
      0x8000_0000,
      0xffff_ffff,
      2 ** 32,
      2 ** 48,
      2 ** 53,
      -(2 ** 53),
      1.5,
      Number.NaN,
      REGION.base,
      REGION.base + 8,
      REGION.base + REGION.size - 1,
      REGION.base + REGION.size,
      ENTRY,
      KERNEL_DIRECT_MAP_PAGE,
      GFP_KERNEL,
      DMA_TO_DEVICE,
      "eth0",
      "x".repeat(2000),
      undefined,
    ),
    fc.integer({ min: -10, max: 2 ** 48 }),
  );

  it("accepts and rejects exactly what checkArgument does, with checkCall's fault (property)", () => {
    const ledger = new Ledger();
    ledger.acquire("skb", REGION.base + 8, "test");
    const d = domain(ledger);
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.array(interesting, { maxLength: 6 }),
        fc.boolean(),
        (name, raw, exactArity) => {
          const spec = SERVICES[name];
          const args = exactArity ? spec.args.map((_, i) => raw[i] ?? 0) : raw;
          let expected: string | undefined;
          if (args.length !== spec.args.length) expected = "arity";
          else {
            for (let i = 0; i < args.length && expected === undefined; i++) {
              const reason = checkArgument(spec.args[i], args[i], args, d);
              if (reason !== undefined) expected = `argument ${i} (${spec.args[i].name})`;
            }
          }
          const check = compileCallCheck(name, spec);
          let got: DriverFault | undefined;
          try {
            checkCompiledCall(check, args, d, { entryPoint: "probe" });
          } catch (e) {
            if (!(e instanceof DriverFault)) throw e;
            got = e;
          }
          if (expected === undefined) return got === undefined;
          if (got === undefined) return false;
          let viaCheckCall: DriverFault | undefined;
          try {
            checkCall(name, args, d, { entryPoint: "probe" });
          } catch (e) {
            viaCheckCall = e as DriverFault;
          }
          return (
            got.message.includes(expected) &&
            got.message === viaCheckCall?.message &&
            got.site.service === name &&
            got.site.entryPoint === "probe"
          );
        },
      ),
      { numRuns: 3000 },
    );
  });
});
