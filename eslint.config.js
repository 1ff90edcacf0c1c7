import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";
import { layerRules } from "./eslint.layers.js";

export default tseslint.config(
  {
    ignores: [
      "lib/",
      "dist/",
      "node_modules/",
      "coverage/",
      "build/",
      "**/*.wasm",
      ".hubmerge-tmp*/",
      ".gl/",
      "examples/demo/hub/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    files: ["bin/**/*.js", "src/**/*.js", "scripts/**/*.mjs", "scripts/**/*.js"],
    languageOptions: { globals: { ...globals.node, WebAssembly: "readonly" } },
  },
  {
    files: ["eslint.layers.js"],
    languageOptions: { globals: globals.node },
  },
  // Layers point down; cli/, action/ and bot/ enter the engine through pipeline/index.ts.
  ...layerRules(),
);
