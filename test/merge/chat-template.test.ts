import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NAMED_CHAT_TEMPLATES } from "../../src/manifest/chat-templates.js";
import { chooseChatTemplate } from "../../src/merge/chat-template.js";
import { planRun, runMerge, closeModels } from "../../src/pipeline/index.js";
import type { ModelSource } from "../../src/source/model-source.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();

/** A source that only has the given small files. */
function filesSource(files: Record<string, string>): ModelSource {
  return {
    readFile: async (name: string) => (name in files ? new TextEncoder().encode(files[name]) : undefined),
  } as unknown as ModelSource;
}

const A = "{{ 'A' }}{% for m in messages %}{{ m.content }}{% endfor %}";
const B = "{{ 'B' }}{% for m in messages %}{{ m.content }}{% endfor %}";
const config = (template: unknown) => JSON.stringify({ chat_template: template });

describe("chooseChatTemplate", () => {
  it("auto takes the template most sources ship, from either file, trimmed", async () => {
    const chosen = await chooseChatTemplate("auto", [
      { ref: "base", source: filesSource({ "tokenizer_config.json": config(B) }) },
      { ref: "ft1", source: filesSource({ "chat_template.jinja": `${A}\n` }) },
      {
        ref: "ft2",
        source: filesSource({ "tokenizer_config.json": config([{ name: "default", template: A }]) }),
      },
      { ref: "ft3", source: filesSource({}) },
    ]);
    expect(chosen).toEqual({ text: A, origin: "auto: ft1 (2 of 4 sources)" });
  });

  it("auto breaks a tie for the first source in order (the base first), and finds none without templates", async () => {
    const tie = await chooseChatTemplate("auto", [
      { ref: "base", source: filesSource({ "tokenizer_config.json": config(B) }) },
      { ref: "ft1", source: filesSource({ "tokenizer_config.json": config(A) }) },
    ]);
    expect(tie?.text).toBe(B);
    expect(
      await chooseChatTemplate("auto", [{ ref: "x", source: filesSource({ "tokenizer_config.json": "{" }) }]),
    ).toBe(undefined);
  });

  it("names and inline Jinja need no source", async () => {
    expect(await chooseChatTemplate("mistral", [])).toEqual({
      text: NAMED_CHAT_TEMPLATES["mistral"],
      origin: "mistral",
    });
    expect(await chooseChatTemplate(A, [])).toEqual({ text: A, origin: "inline Jinja" });
  });
});

const LINEAR = (template: string) => `merge_method: linear
models:
  - model: ./ft1
    parameters: {weight: 0.5}
  - model: ./ft2
    parameters: {weight: 0.5}
chat_template: ${template}
`;

describe("chat templates in a merge", () => {
  it("writes a built-in template that is not chatml (this failed after merging every tensor)", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    await runMerge({ manifestPath: await writeManifest(dir, LINEAR("llama3")), out: join(dir, "out") });
    expect(await readFile(join(dir, "out", "chat_template.jinja"), "utf8")).toBe(
      NAMED_CHAT_TEMPLATES["llama3"],
    );
  });

  it("chooses auto's template at plan time, and warns when no source has one", async () => {
    const dir = await tempDir();
    const { fineTunes } = await writeFamily(dir);
    const manifestPath = await writeManifest(dir, LINEAR("auto"));
    const none = await planRun({ manifestPath });
    await closeModels(none.models);
    expect(none.chatTemplate).toBeUndefined();
    expect(none.plan.warnings).toContain(
      "chat_template: auto found no chat template in any source; none is written",
    );
    await writeFile(join(fineTunes[1]!, "chat_template.jinja"), A);
    const planned = await planRun({ manifestPath });
    await closeModels(planned.models);
    expect(planned.chatTemplate).toEqual({ text: A, origin: "auto: ./ft2 (1 of 2 sources)" });
  });
});
