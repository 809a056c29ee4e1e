import { defineConfig } from "tsup";

/** The build every package shares: ESM and CJS with type declarations and source maps. */
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
});
