import { afterAll, describe, it } from "vitest";
import { CONVERSIONS, checkConversion, checkPartialQuads } from "./equality-suite.js";
import { openTestRuntime } from "./gpu-setup.js";

const runtime = await openTestRuntime();
afterAll(async () => runtime?.close());

describe.skipIf(!runtime)("dtype conversion on the GPU equals dtype.ts", () => {
  it.each(CONVERSIONS)("%s → %s", (from, to) => checkConversion(runtime!.context, from, to));
  it("handles 1 to 9 elements (partial quads)", () => checkPartialQuads(runtime!.context));
});
