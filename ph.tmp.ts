import { localKernels } from "./src/merge/kernels/wasm/local-kernels.js";
import { fillUniform24 } from "./src/merge/rng/philox.js";
const k = localKernels();
const view = k.reserve(1 << 20);
const u32 = new Uint32Array(view.buffer);
for (const start of [0, 16, 2 ** 34 - 32, 2 ** 34 + 16, 2 ** 36 + 48]) {
  k.exports.uniforms24(start, 5, 6, 7, 8, 64, k.heapBase);
  const ref = new Uint32Array(64);
  fillUniform24(ref, start, [5, 6], [7, 8]);
  console.log(
    start,
    ref.every((v, i) => v === u32[k.heapBase / 4 + i]),
  );
}
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) k.exports.uniforms24(i * 65536, 1, 2, 3, 4, 65536, k.heapBase);
  console.log("wasm M u24/s", (6553600 / (performance.now() - t0) / 1e3).toFixed(0));
}
