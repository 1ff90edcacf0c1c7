import { it } from "vitest";
import fc from "fast-check";
import { caseTensors, fastArgs, mergeCase, referenceBytes } from "./merge/kernels/wasm/merge-cases.js";
import { openWasmBackend } from "../src/merge/kernels/wasm/backend.js";
import { decodeToF32 } from "../src/safetensors/dtype.js";
import { nearswap } from "../src/merge/methods/nearswap.js";
function shared(bytes: Uint8Array) { const s = new Uint8Array(new SharedArrayBuffer(bytes.byteLength)); s.set(bytes); return s; }
it("dbg", async () => {
  const w = openWasmBackend({ threads: 2, windowElements: 96, chunkElements: 32 });
  const cases = fc.sample(mergeCase("nearswap"), { numRuns: 3000, seed: 7 });
  let bad = 0;
  const hex = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0]!.toString(16);
  for (const c0 of cases) {
    const c = { ...c0, outDtype: "F32" as const };
    let t = caseTensors(c);
    const ref = new Uint32Array(referenceBytes(c, t).buffer);
    const a = decodeToF32(t.base!.bytes, c.baseDtype), b = decodeToF32(t.inputs[0]!.bytes, c.models[0]!.dtype);
    t = { base: { ...t.base!, bytes: shared(t.base!.bytes) }, inputs: t.inputs.map((x) => ({ ...x, bytes: shared(x.bytes) })) };
    const out = new Uint32Array((await w.tryMerge({ ...fastArgs(c, t), consumeInputs: true }))!.slice().buffer);
    for (let i = 0; i < ref.length; i++) if (ref[i] !== out[i]) {
      if (bad++ < 10) {
        const again = new Uint32Array(nearswap(a.subarray(i, i + 1), b.subarray(i, i + 1), c.global.t as number).buffer)[0]!;
        console.log(`t=${c.global.t} a=${hex(a[i]!)} b=${hex(b[i]!)} ref=${ref[i]!.toString(16)} wasm=${out[i]!.toString(16)} refAgain=${again.toString(16)} i=${i} n=${ref.length}`);
      }
    }
  }
  console.log("bad", bad);
  await w.close();
});
