// Every package README opens with an example that must run as written: extract the first ```ts
// block of each and run it (sibling packages resolve to their sources, as in every test).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";

const packages = fileURLToPath(new URL("../../../packages/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "side-kernel-readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first ```ts block of a README, or undefined. */
function firstExample(readme: string): string | undefined {
  return /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
}

const examples = readdirSync(packages)
  .map((name) => ({ name, code: firstExample(readFileSync(join(packages, name, "README.md"), "utf8")) }))
  .filter((e): e is { name: string; code: string } => e.code !== undefined);

describe("README examples", () => {
  it("every published package but the planned ones has one", () => {
    expect(examples.map((e) => e.name).sort()).toEqual(
      readdirSync(packages)
        .filter((n) => n !== "recovery")
        .sort(),
    );
  });

  for (const { name, code } of examples) {
    it(`${name} runs as written`, async () => {
      const file = join(dir, `${name}.ts`);
      writeFileSync(file, code);
      const log = vi.spyOn(console, "log").mockImplementation(() => {});
      try {
        await import(file);
        expect(log).toHaveBeenCalled();
      } finally {
        log.mockRestore();
      }
    });
  }
});
