/** A slice's own `base_model` is checked like any other input, even when no source names it. */
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../support/tmp.js";
import { checkManifest, findingsOf, writeFixtures } from "./helpers.js";

const tempDir = useTempDirs();

describe("runCheck with a slice's base_model", () => {
  it("blocks a slice base with a different hidden size, at its base_model", async () => {
    const dir = await tempDir();
    await writeFixtures(dir, ["base", "ft1", "wide"]);
    const report = await checkManifest(
      dir,
      `merge_method: linear
slices:
  - base_model: ./wide
    sources:
      - {model: ./base, layer_range: [0, 3], parameters: {weight: 0.5}}
      - {model: ./ft1, layer_range: [0, 3], parameters: {weight: 0.5}}
`,
    );
    const wide = findingsOf(report, "./wide", "config.hidden_size");
    expect(wide.map((f) => f.severity)).toEqual(["blocking"]);
    expect(wide[0]!.pos).toEqual({ line: 3, column: 17 });
  });
});
