import { createKernelRuntime } from "./src/merge/fast-path.js";
import { methodRegistry } from "./src/merge/methods/registry.js";
import { decodeToF32, encodeFromF32 } from "./src/safetensors/dtype.js";
const n = 1 << 24;
const rnd = (s: number) => { const a = new Float32Array(n); let x = s; for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; a[i] = ((x >>> 0) / 2 ** 32 - 0.5) * 0.1; } return a; };
const base = rnd(1); const ft = [rnd(2), rnd(3)].map((d) => d.map((v, i) => base[i]! + v * 0.05));
const bytes = (a: Float32Array) => encodeFromF32(a, "BF16");
const B = bytes(base), F = ft.map(bytes);
for (const name of ["dare_ties", "task_arithmetic", "ties"]) {
  const method = methodRegistry.get(name)!;
  const params = { weight: 0.5, density: 0.3 };
  const args = { recipe: { name: "t", sourceTensorName: "t", shape: [n], dtype: "BF16" as const, action: "merge" as const, base: undefined, inputs: [], global: {} },
    method, base: { bytes: B, dtype: "BF16" as const }, inputs: F.map((b, i) => ({ model: "m" + i, bytes: b, dtype: "BF16" as const, params })), global: {}, seed: 1n, dareRescale: "paper" as const, tensorName: "t" };
  let t = performance.now();
  const ref = encodeFromF32(method.merge({ tensorName: "t", sourceTensorName: "t", shape: [n], base: { model: "b", data: decodeToF32(B, "BF16"), shape: [n], params: {} },
    inputs: F.map((b, i) => ({ model: "m" + i, data: decodeToF32(b, "BF16"), shape: [n], params })), global: {}, seed: 1n, dareRescale: "paper", warn() {} }), "BF16");
  const tr = performance.now() - t;
  for (const threads of [1, 2]) {
    const rt = createKernelRuntime({ backend: "wasm", threads });
    await rt.tryMerge(args); // warm
    t = performance.now(); const out = await rt.tryMerge(args); const tw = performance.now() - t;
    console.log(name, "ref", (n / tr / 1e3).toFixed(1), "Mel/s; wasm", threads, (n / tw / 1e3).toFixed(1), "Mel/s; same", Buffer.compare(Buffer.from(out!), Buffer.from(ref)) === 0);
    await rt.close();
  }
}
