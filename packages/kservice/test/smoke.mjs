// Smoke test of the built package under node, bun and deno.
import { checkCall, DriverFault, GFP_KERNEL, Ledger, SERVICES } from "@side-kernel/kservice";

const base = 0xd000_0000_0000;
const ledger = new Ledger();
const domain = {
  ownsRange: (a, n) => a >= base && a + n <= base + 0x100000,
  isEntryPoint: () => false,
  ownsIrq: () => false,
  ownsHandle: (kind, v) => ledger.has(kind, v),
};
if (checkCall("kmalloc", [64, GFP_KERNEL], domain) !== SERVICES.kmalloc) throw new Error("kmalloc spec");
let fault;
try {
  checkCall("kfree", [0x8880_0000_1000], domain);
} catch (e) {
  fault = e;
}
if (!(fault instanceof DriverFault) || fault.kind !== "illegal-argument")
  throw new Error("kfree of a kernel pointer");
ledger.acquire("heap", base, "kmalloc", 64);
checkCall("kfree", [base], domain);
if (ledger.release("heap", base)?.detail !== 64 || ledger.count() !== 0) throw new Error("ledger");
console.log("kservice ok");
