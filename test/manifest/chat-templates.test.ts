import { Template } from "@huggingface/jinja";
import { describe, expect, it } from "vitest";
import { chatTemplateChoice, NAMED_CHAT_TEMPLATES } from "../../src/manifest/chat-templates.js";
import { parseManifest } from "../../src/manifest/parse.js";
import { validateManifest } from "../../src/manifest/validate.js";
import { expectManifestError, fakeLookup } from "./helpers.js";

const FILE = "/work/cfg/manifest.yaml";
const manifest = (template: string) =>
  `merge_method: linear\nmodels:\n  - model: org/a\n    parameters: {weight: 1}\nchat_template: ${template}\n`;
const validate = (text: string) => validateManifest(parseManifest(text, FILE), fakeLookup);

const conversation = {
  messages: [
    { role: "user", content: "What is 2+2?" },
    { role: "assistant", content: "4" },
  ],
  bos_token: "<s>",
  eos_token: "</s>",
  add_generation_prompt: false,
};

function render(name: string, extra: Record<string, unknown> = {}): string {
  return new Template(NAMED_CHAT_TEMPLATES[name]!).render({ ...conversation, ...extra });
}

describe("built-in chat templates", () => {
  it("render a two-message conversation in each published format", () => {
    expect(render("chatml")).toBe(
      "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n",
    );
    expect(render("llama3")).toBe(
      "<s><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>",
    );
    expect(render("mistral")).toBe("<s> [INST] What is 2+2? [/INST] 4</s>");
    expect(render("alpaca")).toBe("### Instruction:\nWhat is 2+2?\n\n### Response:\n4");
    expect(render("exaone")).toBe(
      "[|system|][|endofturn|]\n[|user|]What is 2+2?\n[|assistant|]4[|endofturn|]\n",
    );
  });

  it("open the assistant's turn when asked for a generation prompt", () => {
    const question = { messages: [conversation.messages[0]!], add_generation_prompt: true };
    expect(render("llama3", question)).toMatch(/<\|start_header_id\|>assistant<\|end_header_id\|>\n\n$/);
    expect(render("alpaca", question)).toBe("### Instruction:\nWhat is 2+2?\n\n### Response:\n");
    expect(render("chatml", question)).toMatch(/<\|im_start\|>assistant\n$/);
  });

  it("fold a system message into mistral's first turn and alpaca's preamble", () => {
    const system = { messages: [{ role: "system", content: "Be brief." }, ...conversation.messages] };
    expect(render("mistral", system)).toBe("<s> [INST] Be brief.\n\nWhat is 2+2? [/INST] 4</s>");
    expect(render("alpaca", system)).toBe("Be brief.\n\n### Instruction:\nWhat is 2+2?\n\n### Response:\n4");
  });
});

describe("chat_template in a manifest", () => {
  it("accepts every built-in name, auto, and Jinja text", () => {
    for (const name of [...Object.keys(NAMED_CHAT_TEMPLATES), "auto"])
      expect(() => validate(manifest(name))).not.toThrow();
    expect(chatTemplateChoice("{% for m in messages %}{{ m.content }}{% endfor %}")).toMatchObject({
      kind: "jinja",
    });
  });

  it("refuses an unknown name at its line, suggesting the closest", () => {
    expectManifestError(() => validate(manifest("llama")), 5, 16, /`llama`.*did you mean `llama3`/);
  });

  it("refuses Jinja that does not parse at plan time, not after the merge", () => {
    const broken = JSON.stringify("{% for message in messages %}{{ message.content }}");
    expectManifestError(() => validate(manifest(broken)), 5, 16, /does not parse/);
  });

  it("does not treat inherited object members as template names", () => {
    expect(chatTemplateChoice("constructor")).toHaveProperty("problem");
  });
});
