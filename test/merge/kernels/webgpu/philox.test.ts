import { afterAll, describe, it } from "vitest";
import { checkPhiloxRandom, checkPhiloxVectors } from "./equality-suite.js";
import { openTestRuntime } from "./gpu-setup.js";

const runtime = await openTestRuntime();
afterAll(async () => runtime?.close());

describe.skipIf(!runtime)("Philox uniforms on the GPU equal the reference stream", () => {
  it("gives docs/rng.md's test vectors", () => checkPhiloxVectors(runtime!.context));
  it("matches fillUniform24 for random keys, streams and ranges", () =>
    checkPhiloxRandom(runtime!.context, 40));
});
