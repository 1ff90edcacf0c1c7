import { localKernels } from "./src/merge/kernels/wasm/local-kernels.js";
import { writeDescriptor } from "./src/merge/kernels/wasm/descriptor.js";
import { planMerge } from "./src/merge/kernels/wasm/task-plan.js";
import { methodRegistry } from "./src/merge/methods/registry.js";
const n = 1 << 22;
const k = localKernels();
const heap = k.heapBase; const desc = heap; const scratch = heap + 4096; const base = scratch + 64 * 4096 * 4;
const m0 = base + n * 2 + 256, m1 = m0 + n * 2 + 256, out = m1 + n * 2 + 256;
const view = k.reserve(out + n * 2 + 256 - heap);
for (let i = 0; i < n * 2; i++) view[base + i] = (i * 7) & 0x3f;
for (const name of ["task_arithmetic", "dare_ties", "dare_linear"]) {
  const plan = planMerge({ method: methodRegistry.get(name)!, global: {}, models: [{ model: "a", params: { weight: 0.5, density: 0.3 } }, { model: "b", params: { weight: 0.5, density: 0.3 } }], hasBase: true, count: n, seed: 1n, dareRescale: "paper", tensorName: "t" })!;
  const buf = k.memory.buffer;
  writeDescriptor({ words: new Uint32Array(buf), floats: new Float32Array(buf), at: desc }, plan, { base, models: [m0, m1], output: out, baseDtype: "BF16", modelDtypes: ["BF16", "BF16"], outDtype: "BF16" });
  k.exports.mergeChunk(desc, 0, 0, 0, n, scratch, scratch - 64);
  const t = performance.now();
  for (let r = 0; r < 5; r++) k.exports.mergeChunk(desc, 0, 0, 0, n, scratch, scratch - 64);
  console.log(name, (5 * n / (performance.now() - t) / 1e3).toFixed(0), "Mel/s in-process kernel");
}
const t = performance.now(); for (let r = 0; r < 5; r++) view.copyWithin(m0, base, base + n * 2); console.log("memcpy GB/s", (5 * n * 2 / (performance.now() - t) / 1e6).toFixed(1));
