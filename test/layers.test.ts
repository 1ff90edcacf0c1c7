import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

/**
 * The import rules of eslint.layers.js, tried on small files placed (virtually) in each layer:
 * what a layer may import passes, an import that points up or sideways fails.
 */
const eslint = new ESLint();

async function restricted(file: string, specifier: string): Promise<boolean> {
  const code = `import type * as target from "${specifier}";\nexport type Target = typeof target;\n`;
  const [result] = await eslint.lintText(code, { filePath: file });
  return (result?.messages ?? []).some((m) => m.ruleId === "no-restricted-imports");
}

describe("layer import rules", () => {
  it.each([
    ["src/cli/x.ts", "../pipeline/index.js"],
    ["src/action/x.ts", "../pipeline/index.js"],
    ["src/cli/x.ts", "../session.js"],
    ["src/cli/x.ts", "../localhub/index.js"],
    ["src/action/x.ts", "../lock/lockfile.js"],
    ["src/bot/x.ts", "../dispatch-event.js"],
    ["src/bot/x.ts", "../manifest/referenced-models.js"],
    ["src/source/x.ts", "../hub/client/config.js"],
    ["src/source/x.ts", "../model-ref.js"],
    ["src/safetensors/x.ts", "../source/byte-source.js"],
    ["src/manifest/x.ts", "../merge/types.js"],
    ["src/hub/publish/x.ts", "../client/errors.js"],
    ["src/hub/client/x.ts", "../../errors.js"],
    ["src/merge/plan/x.ts", "../../safetensors/writer.js"],
    // The pipeline's modules run the stages and import each other.
    ["src/pipeline/x.ts", "../merge/execute.js"],
    ["src/pipeline/x.ts", "../verify/index.js"],
    ["src/pipeline/x.ts", "../parts/pins.js"],
    ["src/pipeline/x.ts", "../hub/publish/publish.js"],
    ["src/pipeline/x.ts", "../session.js"],
    ["src/pipeline/x.ts", "./load.js"],
  ])("lets %s import %s", async (file, specifier) => {
    expect(await restricted(file, specifier)).toBe(false);
  });

  it.each([
    // Faces go through the pipeline, and never into each other (the bot never imports the Action).
    ["src/cli/x.ts", "../merge/kernels/select-backend.js"],
    ["src/action/x.ts", "../source/hub-source.js"],
    ["src/bot/x.ts", "../action/event.js"],
    ["src/bot/x.ts", "../pipeline-extra/x.js"],
    // …through its entry only, never one of its modules.
    ["src/cli/x.ts", "../pipeline/load.js"],
    ["src/action/x.ts", "../pipeline/part.js"],
    // The engine never imports the faces, the pipeline or the session.
    ["src/merge/plan/x.ts", "../../pipeline/index.js"],
    ["src/verify/x.ts", "../pipeline/verify.js"],
    ["src/parts/x.ts", "../pipeline/part.js"],
    ["src/card/x.ts", "../session.js"],
    ["src/run-record.ts", "./pipeline/index.js"],
    ["src/finish-output.ts", "./pipeline/merge.js"],
    // The pipeline never imports the faces, and its modules never import its entry (a cycle).
    ["src/pipeline/x.ts", "../cli/main.js"],
    ["src/pipeline/x.ts", "../action/apply.js"],
    ["src/pipeline/x.ts", "./index.js"],
    // Stages do not import the stages above them.
    ["src/source/x.ts", "../card/card-data.js"],
    ["src/source/x.ts", "../safetensors/file-source.js"],
    ["src/source/x.ts", "../hub/publish/publish.js"],
    ["src/manifest/x.ts", "../merge/params.js"],
    ["src/safetensors/x.ts", "../merge/types.js"],
    ["src/hub/client/x.ts", "../publish/publish.js"],
    ["src/hub/client/x.ts", "../../source/hub-source.js"],
    ["src/card/x.ts", "../hub/publish/publish.js"],
    ["src/errors.ts", "./run-record.js"],
  ])("forbids %s to import %s", async (file, specifier) => {
    expect(await restricted(file, specifier)).toBe(true);
  });
});
