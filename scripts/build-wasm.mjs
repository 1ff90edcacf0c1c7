#!/usr/bin/env node
/**
 * Builds the WebAssembly kernels: asm/index.ts (AssemblyScript) → src/merge/kernels/wasm/kernels.wasm.
 *
 *   node scripts/build-wasm.mjs             compile (the binary is committed; rebuild after editing asm/)
 *   node scripts/build-wasm.mjs --check     compile to memory and fail if the committed binary differs
 *   node scripts/build-wasm.mjs --lib       also copy the run-time assets tsc does not emit (the
 *                                           binary and the worker script) from src/ to lib/
 */
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const WASM = "merge/kernels/wasm/kernels.wasm";
/** Files the compiled package needs next to tsc's output. */
const ASSETS = [WASM, "merge/kernels/wasm/workers/kernel-worker.js"];

/** Compiler flags: SIMD, shared imported memory (for worker threads), no runtime, no allocator. */
const FLAGS = [
  "asm/index.ts",
  "--optimizeLevel",
  "3",
  "--shrinkLevel",
  "0",
  "--noAssert",
  "--runtime",
  "stub",
  "--enable",
  "simd",
  "--enable",
  "threads",
  "--importMemory",
  "--sharedMemory",
  "--initialMemory",
  "1",
  "--maximumMemory",
  "65536",
  "--use",
  "abort=",
  "--disableWarning",
  "112", // v128 in signatures of internal (non-exported) helpers
];

async function compile() {
  const asc = await import("assemblyscript/asc");
  let binary;
  const { error, stderr } = await asc.main([...FLAGS, "--outFile", "kernels.wasm"], {
    readFile: (name, baseDir) => readFile(join(baseDir, name), "utf8").catch(() => null),
    writeFile: (name, contents) => {
      if (name.endsWith(".wasm")) binary = contents;
    },
    listFiles: () => [],
    baseDir: root,
  });
  if (error) throw new Error(`asc failed: ${error.message}\n${stderr.toString()}`);
  return binary;
}

const args = new Set(process.argv.slice(2));
const binary = await compile();
const target = join(root, "src", WASM);
if (args.has("--check")) {
  const committed = await readFile(target).catch(() => undefined);
  if (!committed || Buffer.compare(committed, Buffer.from(binary)) !== 0) {
    console.error(`${target} is stale: run node scripts/build-wasm.mjs and commit the result`);
    process.exit(1);
  }
} else {
  await writeFile(target, binary);
  console.log(`wrote ${target} (${binary.byteLength} bytes)`);
}
if (args.has("--lib")) {
  for (const asset of ASSETS) {
    await mkdir(dirname(join(root, "lib", asset)), { recursive: true });
    await copyFile(join(root, "src", asset), join(root, "lib", asset));
  }
  console.log(`copied ${ASSETS.join(", ")} to lib/`);
}
