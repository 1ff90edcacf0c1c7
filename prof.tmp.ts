import { createKernelRuntime } from "./src/merge/fast-path.js";
import { methodRegistry } from "./src/merge/methods/registry.js";
const n = 1 << 24;
const B = new Uint8Array(n * 2).map((_, i) => (i * 7) & 0x3f), F = [B.slice(), B.slice()];
const method = methodRegistry.get("task_arithmetic")!;
const params = { weight: 0.5, density: 0.3 };
const args = { recipe: { name: "t", sourceTensorName: "t", shape: [n], dtype: "BF16" as const, action: "merge" as const, base: undefined, inputs: [], global: {} },
  method, base: { bytes: B, dtype: "BF16" as const }, inputs: F.map((b, i) => ({ model: "m" + i, bytes: b, dtype: "BF16" as const, params })), global: {}, seed: 1n, dareRescale: "paper" as const, tensorName: "t" };
for (const [threads, budget] of [[1, 64 << 20], [1, 8 << 20], [2, 8 << 20], [1, 256 << 20]] as const) {
  const rt = createKernelRuntime({ backend: "wasm", threads, bufferBudget: budget });
  for (let r = 0; r < 4; r++) { const t = performance.now(); await rt.tryMerge(args); if (r > 1) console.log(threads, budget >> 20, "MB", (n / (performance.now() - t) / 1e3).toFixed(0), "Mel/s"); }
  await rt.close();
}
const g = globalThis as any; console.log("in", g.__in?.toFixed(0), "out", g.__out?.toFixed(0), "alloc", g.__alloc?.toFixed(0));
