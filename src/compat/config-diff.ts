/**
 * config.json against the reference's: keys that change the shape or meaning of the weights
 * block the merge, keys that change behaviour around them warn, everything else is information.
 */
import type { Pos } from "../manifest/types.js";
import type { MergeMethod } from "../merge/types.js";
import type { SliceUse } from "./participants.js";
import type { Finding, Severity } from "./report.js";

export const BLOCKING_KEYS = [
  "model_type",
  "architectures",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "num_key_value_heads",
  "intermediate_size",
  "head_dim",
] as const;

export const WARNING_KEYS = [
  "vocab_size",
  "rope_theta",
  "rope_scaling",
  "max_position_embeddings",
  "rms_norm_eps",
  "layer_norm_eps",
  "tie_word_embeddings",
  "torch_dtype",
] as const;

/**
 * Other keys of transformers' configs whose values are worth showing. A config.json is untrusted
 * input that ends up in a pull request's plan comment: for any key outside these lists only the
 * name is printed ("differs"), so a file that is not a model config shows none of its values.
 */
const DESCRIBED_KEYS: ReadonlySet<string> = new Set([
  "hidden_act",
  "hidden_activation",
  "activation_function",
  "attention_bias",
  "attention_dropout",
  "mlp_bias",
  "initializer_range",
  "bos_token_id",
  "eos_token_id",
  "pad_token_id",
  "use_cache",
  "pretraining_tp",
  "sliding_window",
  "use_sliding_window",
  "max_window_layers",
  "partial_rotary_factor",
  "rotary_pct",
  "num_experts",
  "num_local_experts",
  "num_experts_per_tok",
  "moe_intermediate_size",
  "attn_logit_softcapping",
  "final_logit_softcapping",
  "query_pre_attn_scalar",
  "qk_layernorm",
  "parallel_attn",
]);

/** Longest key name a finding quotes; anything longer is cut (a key is still untrusted text). */
const MAX_KEY_CHARS = 64;

/** Keys that differ between any two saves of one model. */
const IGNORED_KEYS = new Set(["_name_or_path", "transformers_version", "_commit_hash"]);

/** Other spellings of the same setting in older architectures (GPT-2, OPT, T5, ...). */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  hidden_size: ["n_embd", "d_model"],
  num_hidden_layers: ["n_layer", "num_layers"],
  num_attention_heads: ["n_head", "num_heads"],
  intermediate_size: ["n_inner", "ffn_dim"],
  max_position_embeddings: ["n_positions"],
  layer_norm_eps: ["layer_norm_epsilon"],
};

type Config = Record<string, unknown>;

export interface ConfigSide {
  name: string;
  config: Config | undefined;
}

export interface ConfigDiffInput {
  reference: ConfigSide;
  model: ConfigSide & { pos?: Pos; slices: readonly SliceUse[] };
  method: Pick<MergeMethod, "name" | "shapePolicy">;
  /** The manifest's tokenizer setting (`tokenizer_source` or `tokenizer:`), which reconciles vocab_size. */
  tokenizer?: string;
}

/** Findings for one model's config against the reference's. */
export function diffConfigs(input: ConfigDiffInput): Finding[] {
  const { reference, model } = input;
  if (!reference.config || !model.config) {
    const missing = reference.config ? model.name : reference.name;
    return [
      {
        severity: "info",
        code: "config.missing",
        model: model.name,
        base: reference.config ? "config.json" : null,
        value: model.config ? "config.json" : null,
        message: `${missing} has no config.json, so the configs cannot be compared`,
        fix: "add the model's config.json; the tensor layout and delta probe still run",
        pos: model.pos,
      },
    ];
  }
  const base = canonicalConfig(reference.config);
  const other = canonicalConfig(model.config);
  const findings: Finding[] = [];
  for (const key of new Set([...Object.keys(base), ...Object.keys(other)])) {
    if (sameValue(base[key], other[key])) continue;
    findings.push(keyFinding(key, base[key], other[key], input));
  }
  return findings;
}

/** Slices must take layers that exist: a range past the end silently yields nothing. */
export function checkSliceRanges(model: {
  name: string;
  slices: readonly SliceUse[];
  layerCount: number;
}): Finding[] {
  return model.slices
    .filter((use) => use.module === undefined && use.range[1] > model.layerCount)
    .map((use) => ({
      severity: "blocking" as const,
      code: "slices.layer_range",
      model: model.name,
      field: "layer_range",
      base: model.layerCount,
      value: use.range,
      message: `layer_range [${use.range[0]}, ${use.range[1]}) reaches past the model's ${model.layerCount} layers`,
      fix: `keep the range within [0, ${model.layerCount}) (the end is exclusive, as in mergekit)`,
      pos: use.pos,
    }));
}

function isDescribedKey(key: string): boolean {
  return (
    (BLOCKING_KEYS as readonly string[]).includes(key) ||
    (WARNING_KEYS as readonly string[]).includes(key) ||
    DESCRIBED_KEYS.has(key)
  );
}

/** A key outside the known lists: its name (printable, clipped) and that it differs, no values. */
function undescribedFinding(key: string, input: ConfigDiffInput): Finding {
  const printable = key.replace(/[^\x20-\x7e]/g, "?");
  const name = printable.length > MAX_KEY_CHARS ? `${printable.slice(0, MAX_KEY_CHARS)}…` : printable;
  return {
    severity: "info",
    code: `config.${name}`,
    model: input.model.name,
    field: name,
    base: undefined,
    value: undefined,
    message: `${name} differs`,
    fix: "usually harmless; the merged config keeps the reference's value (values of keys that are not known architecture settings are not shown)",
    pos: input.model.pos,
  };
}

function keyFinding(key: string, base: unknown, value: unknown, input: ConfigDiffInput): Finding {
  if (!isDescribedKey(key)) return undescribedFinding(key, input);
  const { model } = input;
  const oneSided = base === undefined || value === undefined || base === null || value === null;
  let severity = severityOf(key);
  let { message, fix } = explain(key, base, value, input);
  if (oneSided && severity === "blocking") {
    // Often a default left implicit; the layout and probe catch a real difference.
    severity = "warning";
    const where = base === undefined ? model.name : input.reference.name;
    message = `${key} is set only in ${where}'s config`;
    fix = "check that both configs describe the same architecture";
  } else if (key === "vocab_size" && input.tokenizer) {
    severity = "info";
    message = `vocab_size is ${show(value)} here, ${show(base)} in ${input.reference.name}; \`${input.tokenizer}\` re-indexes the embeddings to the output vocabulary`;
    fix = "nothing to do: the tokenizer settings reconcile the vocabularies";
  } else if (key === "num_hidden_layers" && model.slices.length > 0) {
    severity = "info";
    message = `${model.name} has ${String(value)} layers and the reference ${String(base)}; the slices take layers within each model`;
    fix = "nothing to do if the layer ranges are the ones you meant";
  }
  return {
    severity,
    code: `config.${key}`,
    model: model.name,
    field: key,
    base,
    value,
    message,
    fix,
    pos: model.pos,
  };
}

function severityOf(key: string): Severity {
  if ((BLOCKING_KEYS as readonly string[]).includes(key)) return "blocking";
  if ((WARNING_KEYS as readonly string[]).includes(key)) return "warning";
  return "info";
}

function explain(key: string, base: unknown, value: unknown, input: ConfigDiffInput) {
  const { reference, method } = input;
  const values = `${show(value)} here, ${show(base)} in ${reference.name}`;
  const anotherBackbone = `merge only fine-tunes of ${reference.name}, or make this model's own base the base_model`;
  switch (key) {
    case "model_type":
    case "architectures":
      return { message: `another architecture: ${key} is ${values}`, fix: anotherBackbone };
    case "num_hidden_layers":
      return {
        message: `the layer stacks differ: ${values}`,
        fix: `${anotherBackbone}; to stack layers of different models use slices with layer_range`,
      };
    case "vocab_size":
      return {
        message: `vocab_size is ${values}; ${vocabOutcome(base, value, method)}`,
        fix: vocabFix(method),
      };
    case "rope_theta":
    case "rope_scaling":
    case "max_position_embeddings":
      return {
        message: `position encoding differs: ${key} is ${values}; the merged config keeps the reference's`,
        fix: "check the model's base: LLaMA-1 and Llama-2 differ exactly here (2048 vs 4096 positions)",
      };
    case "rms_norm_eps":
    case "layer_norm_eps":
      return {
        message: `normalisation epsilon differs: ${key} is ${values}, typical of another base release`,
        fix: "check the model's base (LLaMA-1 used rms_norm_eps 1e-6, Llama-2 1e-5)",
      };
    case "tie_word_embeddings":
      return {
        message: `tie_word_embeddings is ${values}: one model shares lm_head with embed_tokens, the other does not`,
        fix: "see the layout findings for lm_head; the merged config follows the reference",
      };
    case "torch_dtype":
      return {
        message: `stored as ${show(value)}, the reference as ${show(base)}; hubmerge decodes both to f32`,
        fix: "set out_dtype if the output should not take the reference's dtype",
      };
    default:
      if (severityOf(key) === "blocking") {
        return { message: `the weights cannot line up: ${key} is ${values}`, fix: anotherBackbone };
      }
      return {
        message: `${key} is ${values}`,
        fix: "usually harmless; the merged config keeps the reference's value",
      };
  }
}

/** What the method will do with embeddings of another vocabulary size. */
function vocabOutcome(
  base: unknown,
  value: unknown,
  method: Pick<MergeMethod, "name" | "shapePolicy">,
): string {
  if (method.shapePolicy === "strict") {
    return `${method.name} needs identical shapes, so the merge fails on the embedding tensors`;
  }
  if (typeof base === "number" && typeof value === "number" && value > base) {
    return `${method.name} cuts embed_tokens and lm_head to the base's ${base} rows, dropping the ${value - base} tokens this model added`;
  }
  return `this model's embeddings do not cover the base's, so ${method.name} leaves it out of embed_tokens and lm_head`;
}

function vocabFix(method: Pick<MergeMethod, "name" | "shapePolicy">): string {
  if (method.shapePolicy === "strict") {
    return "add `tokenizer_source: union` to merge the vocabularies, or use models with one vocabulary";
  }
  return "fine if the added tokens are not needed; otherwise add `tokenizer_source: union` to merge the vocabularies";
}

/** The config with aliases folded into the usual names and derivable defaults filled in. */
function canonicalConfig(config: Config): Config {
  const out: Config = {};
  const aliasNames = new Set(Object.values(ALIASES).flat());
  for (const [key, value] of Object.entries(config)) {
    if (!IGNORED_KEYS.has(key) && !aliasNames.has(key)) out[key] = value;
  }
  for (const [key, aliases] of Object.entries(ALIASES)) {
    if (out[key] !== undefined) continue;
    const alias = aliases.find((name) => config[name] !== undefined);
    if (alias) out[key] = config[alias];
  }
  // transformers' defaults for llama-style configs that omit them.
  const heads = out["num_attention_heads"];
  const hidden = out["hidden_size"];
  if (out["num_key_value_heads"] === undefined && heads !== undefined) out["num_key_value_heads"] = heads;
  if (out["head_dim"] === undefined && typeof hidden === "number" && typeof heads === "number" && heads > 0) {
    out["head_dim"] = hidden / heads;
  }
  return out;
}

/** Equal as JSON; an explicit null equals an absent key (`rope_scaling: null`). */
function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? undefined) === canonicalJson(b ?? undefined);
}

function canonicalJson(value: unknown): string {
  if (value === undefined) return "undefined";
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

function show(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value) ?? "unset");
}
