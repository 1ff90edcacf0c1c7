// Bundles the Action's two entry points into dist/ (ESM, as @actions/core 3 requires).
import commonjs from "@rollup/plugin-commonjs";
import json from "@rollup/plugin-json";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import typescript from "@rollup/plugin-typescript";
import { readFileSync } from "node:fs";

/** The wasm kernels and their worker are loaded beside the code that uses them: ship both. */
function kernelAssets() {
  const assets = {
    "kernels.wasm": "src/merge/kernels/wasm/kernels.wasm",
    "kernel-worker.js": "src/merge/kernels/wasm/workers/kernel-worker.js",
  };
  return {
    name: "kernel-assets",
    generateBundle() {
      for (const [fileName, from] of Object.entries(assets)) {
        this.emitFile({ type: "asset", fileName, source: readFileSync(from) });
      }
    },
  };
}

export default {
  input: { index: "src/action/index.ts", post: "src/action/post.ts" },
  // Dawn's native binary cannot be bundled: the GPU backend loads `webgpu` from node_modules when
  // the runner has it installed (docs/gpu.md), and falls back to wasm otherwise.
  external: ["webgpu"],
  output: {
    dir: "dist",
    format: "es",
    sourcemap: false,
    entryFileNames: "[name].js",
    chunkFileNames: "chunks/[name].js",
  },
  plugins: [
    typescript({
      tsconfig: "./tsconfig.build.json",
      compilerOptions: { outDir: "dist", sourceMap: false, module: "ESNext", moduleResolution: "Bundler" },
    }),
    nodeResolve({ preferBuiltins: true, exportConditions: ["node"] }),
    commonjs(),
    json(),
    kernelAssets(),
  ],
  onwarn(warning, warn) {
    // TypeScript-compiled CommonJS in dependencies; harmless in ESM.
    if (warning.code === "THIS_IS_UNDEFINED") return;
    if (warning.code === "CIRCULAR_DEPENDENCY" && warning.ids?.some((id) => id.includes("node_modules")))
      return;
    warn(warning);
  },
};
