import { describe, expect, it } from "vitest";
import { parseCardData } from "../../src/source/card-data.js";
import type { CardInput, CardSource } from "../../src/card/card-input.js";
import { CARD_MARKER, renderCard } from "../../src/card/render-card.js";
import { parseManifest } from "../../src/manifest/parse.js";
import { dareTiesMethod } from "../../src/merge/methods/dare-ties.js";
import type { RunRecord } from "../../src/run-record.js";

const SHA_A = "a".repeat(40);
const SHA_B = "b".repeat(40);

function input(options: { license?: string; sources?: CardSource[] } = {}): CardInput {
  const license = options.license ? `\n    license: ${options.license}` : "";
  const manifest = parseManifest(
    `merge_method: dare_ties
base_model: org/base
models:
  - model: org/math
    parameters: {weight: 0.5, density: 0.3}
hubmerge:
  output:
    repo: me/merged${license}
  seed: 7
`,
    "merges/m.yaml",
  );
  const record: RunRecord = {
    tool: { name: "hubmerge", version: "1.2.3" },
    manifest: { file: "merges/m.yaml", sha256: "c".repeat(64) },
    method: "dare_ties",
    seed: "7",
    dareRescale: "paper",
    sources: [],
    dtype: "bfloat16",
    files: [{ path: "model.safetensors", size: 10, sha256: "d".repeat(64) }],
    warnings: [],
  };
  const sources = options.sources ?? [
    {
      ref: "org/base",
      repo: "org/base",
      revision: SHA_A,
      role: "base",
      license: "mit",
      pipelineTag: "text-generation",
    },
    { ref: "org/math", repo: "org/math", revision: SHA_B, role: "merged", license: "mit" },
  ];
  return {
    manifest,
    method: dareTiesMethod,
    record,
    sources,
    repo: "me/merged",
    hubUrl: "http://127.0.0.1:9",
  };
}

describe("renderCard", () => {
  it("writes front matter the Hub reads, listing every source", () => {
    const { text, warnings } = renderCard(input({ license: "apache-2.0" }));
    const data = parseCardData(text)!;
    expect(data).toEqual({
      base_model: ["org/base", "org/math"],
      base_model_relation: "merge",
      library_name: "transformers",
      tags: ["merge", "hubmerge", "mergekit", "dare_ties"],
      license: "apache-2.0",
      pipeline_tag: "text-generation",
    });
    expect(warnings).toEqual([]);
    expect(text).toContain(CARD_MARKER);
  });

  it("links each source at its pinned revision and records the reproducibility facts", () => {
    const { text } = renderCard(input());
    expect(text).toContain(`[\`${SHA_B.slice(0, 12)}\`](http://127.0.0.1:9/org/math/tree/${SHA_B})`);
    expect(text).toContain("https://arxiv.org/abs/2311.03099");
    expect(text).toContain("`" + "d".repeat(64) + "`");
    expect(text).toContain("sha256 `" + "c".repeat(64) + "`");
    expect(text).toContain("npx hubmerge@1.2.3 merge merge.yaml");
    expect(text).toContain("seed: `7`");
    expect(text).toContain("base_model: org/base"); // the manifest, verbatim
  });

  it("shows how to verify, and links the provenance attestation only when it is known", () => {
    expect(renderCard(input()).text).toContain("npx hubmerge@1.2.3 verify me/merged");
    expect(renderCard(input()).text).not.toContain("Build provenance");
    const url = "https://github.com/acme/merges/attestations";
    const { text } = renderCard({ ...input(), provenanceUrl: url });
    expect(text).toContain(`([attestations](${url}); check with \`gh attestation verify\`)`);
  });

  it("inherits the sources' license when they agree, and warns when they do not", () => {
    expect(parseCardData(renderCard(input()).text)!["license"]).toBe("mit");
    const mixed = input({
      sources: [
        { ref: "org/base", repo: "org/base", revision: SHA_A, role: "base", license: "mit" },
        { ref: "org/math", repo: "org/math", revision: SHA_B, role: "merged", license: "llama2" },
      ],
    });
    const { text, warnings } = renderCard(mixed);
    expect(parseCardData(text)!["license"]).toBeUndefined();
    expect(warnings[0]).toMatch(/mit, llama2/);
  });

  it("lists no base_model for local folders, which are not Hub ids", () => {
    const { text } = renderCard(
      input({
        license: "mit",
        sources: [
          { ref: "./base", role: "base" },
          { ref: "./ft", role: "merged" },
        ],
      }),
    );
    expect(parseCardData(text)!["base_model"]).toBeUndefined();
    expect(text).toContain("| `./ft` | merged | local folder |");
  });
});
