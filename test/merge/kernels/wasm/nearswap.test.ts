import { afterAll, describe, it } from "vitest";
import { openWasmBackend } from "../../../../src/merge/kernels/wasm/backend.js";
import {
  DTYPE_MIXES,
  NEARSWAP_T,
  checkDtypes,
  checkFloorDistances,
  checkRandomDistances,
  checkSpecialPairs,
} from "../nearswap-checks.js";

// Small windows and chunks on 3 threads, so that every check crosses their boundaries.
const backend = openWasmBackend({ threads: 3, windowElements: 400, chunkElements: 112 });
afterAll(() => backend.close());

describe("nearswap on wasm gives the reference's bytes", () => {
  it.each(NEARSWAP_T)("on every pair of special values (NaN, ±Inf, ±0, subnormals), t = %s", (t) =>
    checkSpecialPairs(backend, t),
  );
  it("on distances either side of the 1e-6 floor", () => checkFloorDistances(backend));
  it.each([1, 2])("on random distances (correctly rounded reciprocals), seed %s", (seed) =>
    checkRandomDistances(backend, seed),
  );
  it.each(DTYPE_MIXES)("with %s and %s inputs, %s output", (base, model, out) =>
    checkDtypes(backend, [base, model, out]),
  );
});
