import { afterAll, describe, it } from "vitest";
import {
  DTYPE_MIXES,
  NEARSWAP_T,
  checkDtypes,
  checkFloorDistances,
  checkRandomDistances,
  checkSpecialPairs,
} from "../nearswap-checks.js";
import { openTestRuntime } from "./gpu-setup.js";

// Chunks of 768 elements, so that every check crosses chunk boundaries.
const runtime = await openTestRuntime({ chunkElements: 768 });
afterAll(async () => runtime?.close());

describe.skipIf(!runtime)("nearswap on WebGPU gives the reference's bytes", () => {
  it.each(NEARSWAP_T)("on every pair of special values (NaN, ±Inf, ±0, subnormals), t = %s", (t) =>
    checkSpecialPairs(runtime!, t),
  );
  it("on distances either side of the 1e-6 floor", () => checkFloorDistances(runtime!));
  it("on random distances (soft-float reciprocals, correctly rounded)", () =>
    checkRandomDistances(runtime!, 3, 1 << 14));
  it.each(DTYPE_MIXES)("with %s and %s inputs, %s output", (base, model, out) =>
    checkDtypes(runtime!, [base, model, out]),
  );
});
