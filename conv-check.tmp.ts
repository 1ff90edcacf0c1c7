import { wasmDecodeToF32, wasmEncodeFromF32 } from "./src/merge/kernels/wasm/local-kernels.js";
import { decodeToF32, encodeFromF32 } from "./src/safetensors/dtype.js";
const all = new Uint16Array(65536).map((_, i) => i);
const bytes = new Uint8Array(all.buffer);
for (const dt of ["BF16", "F16"] as const) {
  const a = new Uint32Array(wasmDecodeToF32(bytes, dt).buffer), b = new Uint32Array(decodeToF32(bytes, dt).buffer);
  let bad = 0; for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) { if (bad++ < 5) console.log(dt, i.toString(16), a[i]!.toString(16), b[i]!.toString(16)); }
  console.log("decode", dt, bad);
}
const n = 1 << 22; const r = new Uint32Array(n); let s = 12345;
for (let i = 0; i < n; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; r[i] = s >>> 0; }
for (let i = 0; i < 65536; i++) { r[i] = (i << 16) | (i & 1 ? 0x8000 : 0x7fff); r[65536 + i] = (i << 16) | 0x1000; }
const f = new Float32Array(r.buffer);
for (const dt of ["BF16", "F16", "F32"] as const) {
  const a = wasmEncodeFromF32(f, dt), b = encodeFromF32(f, dt);
  let bad = 0; for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) bad++;
  console.log("encode", dt, bad);
}
