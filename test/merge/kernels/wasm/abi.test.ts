import { describe, expect, it } from "vitest";
import * as abi from "../../../../src/merge/kernels/wasm/abi.js";
import { HIGH_HIST_BYTES, LOW_HIST_BYTES } from "../../../../src/merge/kernels/wasm/layout.js";
import { createKernelMemory, kernelModule } from "../../../../src/merge/kernels/wasm/load-kernels.js";
import { WebAssemblyApi } from "../../../../src/merge/kernels/wasm/wasm-api.js";

/** The constants asm/abi.ts exports, read from the compiled module. */
function wasmConstants(): Record<string, number> {
  const instance = new WebAssemblyApi.Instance(kernelModule(), { env: { memory: createKernelMemory(1) } });
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(instance.exports)) {
    if (typeof value === "object" && value !== null && "value" in value)
      out[name] = Number((value as { value: unknown }).value);
  }
  return out;
}

describe("kernel ABI", () => {
  it("has the same descriptor layout and constants on both sides", () => {
    const wasm = wasmConstants();
    expect(wasm).toMatchObject({
      DTYPE_F32: abi.DTYPE_CODE.F32,
      DTYPE_F16: abi.DTYPE_CODE.F16,
      DTYPE_BF16: abi.DTYPE_CODE.BF16,
      H_MODELS: abi.HEADER.models,
      H_FLAGS: abi.HEADER.flags,
      H_BASE_DTYPE: abi.HEADER.baseDtype,
      H_OUT_DTYPE: abi.HEADER.outDtype,
      H_BASE_PTR: abi.HEADER.basePtr,
      H_OUT_PTR: abi.HEADER.outPtr,
      H_LAMBDA: abi.HEADER.lambda,
      H_PLAIN_DIVISOR: abi.HEADER.plainDivisor,
      H_SELECT_KEY: abi.HEADER.selectKey,
      H_SELECT_TAKE: abi.HEADER.selectTake,
      H_NEARSWAP_T: abi.HEADER.nearswapT,
      H_FLOOR: abi.HEADER.floor,
      HEADER_WORDS: abi.HEADER_WORDS,
      FLAG_HAS_BASE: abi.FLAG_HAS_BASE,
      FLAG_CONSENSUS: abi.FLAG_CONSENSUS,
      FLAG_NORMALIZE: abi.FLAG_NORMALIZE,
      FLAG_SELECT: abi.FLAG_SELECT,
      M_PTR: abi.MODEL.ptr,
      M_DTYPE: abi.MODEL.dtype,
      M_MODE: abi.MODEL.mode,
      M_WEIGHT: abi.MODEL.weight,
      M_THRESHOLD: abi.MODEL.threshold,
      M_RESCALE: abi.MODEL.rescale,
      M_DIVISOR: abi.MODEL.divisor,
      M_KEY0: abi.MODEL.key0,
      M_KEY1: abi.MODEL.key1,
      M_STREAM0: abi.MODEL.stream0,
      M_STREAM1: abi.MODEL.stream1,
      M_UPPER_KEY: abi.MODEL.upperKey,
      M_UPPER_TAKE: abi.MODEL.upperTake,
      M_LOWER_KEY: abi.MODEL.lowerKey,
      M_LOWER_TAKE: abi.MODEL.lowerTake,
      MODEL_WORDS: abi.MODEL_WORDS,
      MODE_DENSE: abi.MODE_DENSE,
      MODE_DARE: abi.MODE_DARE,
      MODE_MAGNITUDE: abi.MODE_MAGNITUDE,
      BLOCK: abi.BLOCK,
      FIXED_SCRATCH_ARRAYS: abi.FIXED_SCRATCH_ARRAYS,
      HIGH_BUCKETS: abi.HIGH_BUCKETS,
      LOW_SLOTS: abi.LOW_SLOTS,
      HIGH_BYTES: HIGH_HIST_BYTES,
      LOW_BYTES: LOW_HIST_BYTES,
    });
  });

  it("keeps blocks a multiple of the kernels' 32-element Philox groups", () => {
    expect(abi.BLOCK % 32).toBe(0);
    expect(abi.GROUP % 16).toBe(0);
  });
});
