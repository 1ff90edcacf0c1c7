/**
 * `chat_template:` as mergekit reads it: a built-in name, `auto` (the template most sources
 * share, chosen at plan time), or the Jinja text itself. The built-in names are mergekit's; the
 * texts below are hubmerge's own renderings of each published prompt format.
 */
import { Template } from "@huggingface/jinja";

const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Stanford Alpaca: an optional system preamble, then `### Instruction:` / `### Response:` blocks. */
const ALPACA = [
  "{%- set system = messages | selectattr('role', 'equalto', 'system') | list -%}",
  "{%- if system %}{{ system[-1]['content'] | trim }}{{ '\\n\\n' }}{% endif -%}",
  "{%- for message in messages if message['role'] != 'system' -%}",
  "{%- if message['role'] == 'user' %}{{ '### Instruction:\\n' + message['content'] | trim }}",
  "{%- elif message['role'] == 'user_context' %}{{ '### Input:\\n' + message['content'] | trim }}",
  "{%- elif message['role'] == 'assistant' %}{{ '### Response:\\n' + message['content'] | trim }}{% endif -%}",
  "{%- if not loop.last %}{{ '\\n\\n' }}{% endif -%}",
  "{%- endfor -%}",
  "{%- if add_generation_prompt and messages[-1]['role'] != 'assistant' %}{{ '\\n\\n### Response:\\n' }}{% endif -%}",
].join("");

/** Llama 3: header-delimited turns ending in `<|eot_id|>`, the BOS token first. */
const LLAMA3 = [
  "{{- bos_token -}}",
  "{%- for message in messages -%}",
  "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' -}}",
  "{%- endfor -%}",
  "{%- if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif -%}",
].join("");

/** Mistral instruct: `[INST] … [/INST]` user turns, the system text folded into the first one. */
const MISTRAL = [
  "{%- if messages[0]['role'] == 'system' -%}",
  "{%- set system = messages[0]['content'] -%}{%- set turns = messages[1:] -%}",
  "{%- else -%}{%- set turns = messages -%}{%- endif -%}",
  "{{- bos_token -}}",
  "{%- for message in turns -%}",
  "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}",
  "{{- raise_exception('Conversation roles must alternate user/assistant after an optional system message') -}}",
  "{%- endif -%}",
  "{%- if message['role'] == 'user' -%}",
  "{%- if loop.first and system is defined %}{{ ' [INST] ' + system + '\\n\\n' + message['content'] + ' [/INST]' }}",
  "{%- else %}{{ ' [INST] ' + message['content'] + ' [/INST]' }}{% endif -%}",
  "{%- elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}",
  "{%- else %}{{ raise_exception('Only user and assistant roles follow the optional system message') }}{% endif -%}",
  "{%- endfor -%}",
].join("");

/** EXAONE: `[|role|]` markers, `[|endofturn|]` after every turn but the user's. */
const EXAONE = [
  "{%- for message in messages -%}",
  "{%- if loop.first and message['role'] != 'system' %}{{ '[|system|][|endofturn|]\\n' }}{% endif -%}",
  "{{- '[|' + message['role'] + '|]' + message['content'] -}}",
  "{%- if message['role'] == 'user' %}{{ '\\n' }}{% else %}{{ '[|endofturn|]\\n' }}{% endif -%}",
  "{%- endfor -%}",
  "{%- if add_generation_prompt %}{{ '[|assistant|]' }}{% endif -%}",
].join("");

export const NAMED_CHAT_TEMPLATES: Readonly<Record<string, string>> = {
  alpaca: ALPACA,
  chatml: CHATML,
  exaone: EXAONE,
  llama3: LLAMA3,
  mistral: MISTRAL,
};

export type ChatTemplateChoice =
  { kind: "auto" } | { kind: "named"; name: string; text: string } | { kind: "jinja"; text: string };

/**
 * What a `chat_template` value asks for, or a reason it cannot be used. mergekit takes any text
 * of 20 characters or more containing `{` as Jinja; hubmerge also parses it, so that a broken
 * template fails at plan time instead of in a user's chat application.
 */
export function chatTemplateChoice(value: string): ChatTemplateChoice | { problem: string } {
  if (value === "auto") return { kind: "auto" };
  const named = Object.hasOwn(NAMED_CHAT_TEMPLATES, value) ? NAMED_CHAT_TEMPLATES[value] : undefined;
  if (named !== undefined) return { kind: "named", name: value, text: named };
  if (value.length < 20 || !value.includes("{")) {
    return { problem: `\`${value}\` is neither a known template name nor Jinja template text` };
  }
  const problem = jinjaProblem(value);
  return problem === undefined
    ? { kind: "jinja", text: value }
    : { problem: `the Jinja template does not parse: ${problem}` };
}

/** The parser's message for a template that does not parse, else undefined. */
export function jinjaProblem(text: string): string | undefined {
  try {
    new Template(text);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
