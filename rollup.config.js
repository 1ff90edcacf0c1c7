// Bundles the Action's two entry points into dist/ (ESM, as @actions/core 3 requires).
import commonjs from "@rollup/plugin-commonjs";
import json from "@rollup/plugin-json";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import typescript from "@rollup/plugin-typescript";

export default {
  input: { index: "src/action/index.ts", post: "src/action/post.ts" },
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
  ],
  onwarn(warning, warn) {
    // TypeScript-compiled CommonJS in dependencies; harmless in ESM.
    if (warning.code === "THIS_IS_UNDEFINED") return;
    if (warning.code === "CIRCULAR_DEPENDENCY" && warning.ids?.some((id) => id.includes("node_modules"))) return;
    warn(warning);
  },
};
