import { afterAll, describe, it } from "vitest";
import { OPS, checkRandomPairs, checkRoundingEdges, checkSpecialPairs } from "./equality-suite.js";
import { openTestRuntime } from "./gpu-setup.js";

const runtime = await openTestRuntime();
afterAll(async () => runtime?.close());

describe.skipIf(!runtime)("soft-float f32 on the GPU equals the reference (x86-64 V8)", () => {
  it.each(OPS)("%s on every pair of special values", (op) => checkSpecialPairs(runtime!.context, op));
  it.each(OPS)("%s on random bit patterns", (op) => checkRandomPairs(runtime!.context, op, 4));
  it("rounds ties to even and keeps subnormal results exact", () => checkRoundingEdges(runtime!.context));
});
