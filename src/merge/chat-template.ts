/**
 * The chat template a merge writes, settled at plan time so that nothing about it can fail
 * after the tensors are merged. `auto` takes the template most sources ship, as mergekit does;
 * on a tie the base model's wins, else the first in manifest order (mergekit leaves ties to the
 * order of a Python set).
 */
import { chatTemplateChoice } from "../manifest/chat-templates.js";
import type { ModelSource } from "../source/model-source.js";

export interface ChosenChatTemplate {
  text: string;
  /** How it was chosen, for the plan and the card: a name, "inline Jinja", or the source model. */
  origin: string;
}

/** One model's own template: `chat_template.jinja`, else tokenizer_config.json's `chat_template`. */
export async function sourceChatTemplate(source: ModelSource): Promise<string | undefined> {
  const file = await source.readFile("chat_template.jinja");
  if (file) return new TextDecoder().decode(file).trim() || undefined;
  const configBytes = await source.readFile("tokenizer_config.json");
  if (!configBytes) return undefined;
  let template: unknown;
  try {
    template = (JSON.parse(new TextDecoder().decode(configBytes)) as Record<string, unknown>)[
      "chat_template"
    ];
  } catch {
    return undefined; // not ours to judge: the tokenizer files are copied as they are
  }
  if (Array.isArray(template)) {
    const named = template.find(
      (t) => t && typeof t === "object" && (t as Record<string, unknown>)["name"] === "default",
    );
    template = named && (named as Record<string, unknown>)["template"];
  }
  return typeof template === "string" && template.trim() ? template.trim() : undefined;
}

/**
 * The template for `value` (already validated with the manifest), or undefined when `auto`
 * finds none among the sources. `sources` are in manifest order, the base first.
 */
export async function chooseChatTemplate(
  value: string,
  sources: readonly { ref: string; source: ModelSource }[],
): Promise<ChosenChatTemplate | undefined> {
  const choice = chatTemplateChoice(value);
  if ("problem" in choice) throw new Error(`chat_template was not validated: ${choice.problem}`);
  if (choice.kind === "named") return { text: choice.text, origin: choice.name };
  if (choice.kind === "jinja") return { text: choice.text, origin: "inline Jinja" };
  const votes = new Map<string, { count: number; first: string }>();
  for (const { ref, source } of sources) {
    const text = await sourceChatTemplate(source);
    if (text === undefined) continue;
    const vote = votes.get(text) ?? { count: 0, first: ref };
    vote.count++;
    votes.set(text, vote);
  }
  let best: [string, { count: number; first: string }] | undefined;
  for (const entry of votes) if (!best || entry[1].count > best[1].count) best = entry;
  return (
    best && {
      text: best[0],
      origin: `auto: ${best[1].first} (${best[1].count} of ${sources.length} sources)`,
    }
  );
}
