import { describe, expect, it } from "vitest";
import { type KernelServices, SERVICES } from "../src/index.js";

describe("KernelServices type", () => {
  it("derives arity and string arguments from the table", () => {
    // Compile-time: these signatures must type-check; at run time the table carries the same arity.
    const sig: Pick<KernelServices, "kmalloc" | "printk" | "request_irq"> = {
      kmalloc: (size: number, gfp: number) => size + gfp,
      printk: (msg: string) => msg.length,
      request_irq: (irq: number, _h: number, _f: number, name: string, _id: number) => irq + name.length,
    };
    expect(sig.printk("hi")).toBe(2);
    expect(SERVICES.kmalloc.args).toHaveLength(2);
    expect(SERVICES.request_irq.args[3].kind).toBe("str");
  });
});
