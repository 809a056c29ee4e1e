import { defineConfig } from "tsup";

/** The build every package shares: ESM and CJS with type declarations and source maps. */
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
  // Constant folding and inlining of imported constants: V8 does not fold module-level bindings
  // (a bundler makes every top-level `const` a `var`), so each named constant in a hot path would
  // otherwise cost a load and a type check at every use.
  minifySyntax: true,
});
