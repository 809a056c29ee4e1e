import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { e1000Driver } from "../src/driver.js";
import { E1000_ID_TABLE } from "../src/main.js";

const SRC = join(import.meta.dirname, "..", "src");
const sources = readdirSync(SRC)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => ({ file: f, text: readFileSync(join(SRC, f), "utf8") }));

describe("the module object", () => {
  it("names init and exit among its entry points, every entry point a function", () => {
    expect(e1000Driver.name).toBe("e1000");
    expect(Object.keys(e1000Driver.entryPoints)).toContain(e1000Driver.init);
    expect(Object.keys(e1000Driver.entryPoints)).toContain(e1000Driver.exit);
    for (const [name, f] of Object.entries(e1000Driver.entryPoints)) {
      expect(typeof f, name).toBe("function");
    }
    expect(Object.keys(e1000Driver.entryPoints).sort()).toEqual(
      [
        "e1000_clean",
        "e1000_close",
        "e1000_exit_module",
        "e1000_init_module",
        "e1000_intr",
        "e1000_open",
        "e1000_probe",
        "e1000_remove",
        "e1000_reset_task",
        "e1000_set_mac",
        "e1000_set_rx_mode",
        "e1000_tx_timeout",
        "e1000_watchdog",
        "e1000_xmit_frame",
      ].sort(),
    );
  });

  it("is frozen, so the kernel's copy of its text cannot be patched", () => {
    expect(Object.isFrozen(e1000Driver)).toBe(true);
    expect(Object.isFrozen(e1000Driver.entryPoints)).toBe(true);
  });

  it("binds the 82540EM (8086:100E) and only Intel parts", () => {
    expect(E1000_ID_TABLE.some((e) => e.vendor === 0x8086 && e.device === 0x100e)).toBe(true);
    for (const e of E1000_ID_TABLE) expect(e.vendor).toBe(0x8086);
  });
});

describe("the driver reads nothing but k", () => {
  it("imports only @side-kernel/kservice and its own files", () => {
    const bad: string[] = [];
    for (const { file, text } of sources) {
      for (const m of text.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g)) {
        const spec = m[1] ?? m[2];
        if (spec !== "@side-kernel/kservice" && !/^\.\/[\w-]+\.js$/.test(spec)) bad.push(`${file}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("uses no host globals and keeps no mutable module state", () => {
    const bad: string[] = [];
    for (const { file, text } of sources) {
      const hostUse =
        /\b(globalThis|process|Buffer|require|setTimeout|setInterval|Date|performance|console)\s*[.(]/g;
      for (const m of text.matchAll(hostUse)) bad.push(`${file}: ${m[0]}`);
      // a top-level `let`/`var` would be JS state that survives between calls
      for (const m of text.matchAll(/^(?:export\s+)?(let|var)\s+(\w+)/gm))
        bad.push(`${file}: ${m[1]} ${m[2]}`);
      // top-level class fields or Map/Set instances would be state too
      for (const m of text.matchAll(/^(?:export\s+)?const\s+(\w+)\s*=\s*new\s+(Map|Set|Array|WeakMap)\b/gm)) {
        bad.push(`${file}: const ${m[1]} = new ${m[2]}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("the scan above catches what it claims to (a planted violation fails)", () => {
    const text = 'import { x } from "node:fs";\nlet counter = 0;\nconst t = Date.now();\n';
    expect(
      text.match(
        /\b(globalThis|process|Buffer|require|setTimeout|setInterval|Date|performance|console)\s*[.(]/,
      )?.[1],
    ).toBe("Date");
    expect([...text.matchAll(/^(?:export\s+)?(let|var)\s+(\w+)/gm)]).toHaveLength(1);
    expect([...text.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"/g)][0][1]).toBe("node:fs");
  });
});
