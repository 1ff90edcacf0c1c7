/**
 * Where each row of a re-indexed embedding (embed_tokens, lm_head) comes from, per source, as
 * mergekit's `tokenizer/embed.py` decides it. A source that has the token keeps its own row. For
 * the others, the token's default row is:
 * - the `tokenizer.tokens` setting, if any (that model's row for the token, another token's row,
 *   or zeros); with `force`, even sources that have the token take it;
 * - else the row of the only source that has the token;
 * - else zeros, if no source has it;
 * - else the base model's row, if the base has it;
 * - else the mean of the rows of the sources that have it.
 * Rows past the token count (`pad_to_multiple_of`) are the mean of the source's rows above them.
 */
import { HubmergeError } from "../../errors.js";
import type { TokenSetting } from "../../manifest/tokenizer-schema.js";
import { modelKey } from "../../model-ref.js";

/** A default row: a participant's source row, zeros, or the mean of several source rows. */
export type RowFill =
  | { kind: "row"; model: number; row: number }
  | { kind: "zero" }
  | { kind: "mean"; from: { model: number; row: number }[] };

/** One model feeding the tensor, in the recipe's read order. */
export interface RowParticipant {
  ref: string;
  /** `modelKey` of its reference, to match the manifest's references. */
  key: string;
  /** Output id → its row, or −1 (tokenizer/output-vocab.ts). */
  permutation: Int32Array;
  /** Its own vocabulary (for `model_token` by text). */
  ids: ReadonlyMap<string, number>;
  /** Rows of its tensor. */
  tensorRows: number;
}

export interface RowPlan {
  /** Output rows (the token count, padded). */
  rows: number;
  /** Tokens: rows past this are padding. */
  length: number;
  /** Per participant: output id → own row, or −1 to take `fills`. */
  own: Int32Array[];
  /** Output id → the default row, where some participant needs one. */
  fills: Map<number, RowFill>;
}

export interface RowPlanInput {
  participants: readonly RowParticipant[];
  /**
   * `modelKey` of the tensor's base model (the slice's own `base_model` where one is set), whose
   * row is preferred for tokens some sources lack.
   */
  baseKey?: string;
  /** Output token → id (every configured token is in it). */
  outputIds: ReadonlyMap<string, number>;
  length: number;
  rows: number;
  tokens: readonly (readonly [string, TokenSetting])[];
  /** Position of a token's setting in the manifest, for errors. */
  where: (token: string) => Record<string, unknown>;
}

export function planRows(input: RowPlanInput): RowPlan {
  const { participants, length } = input;
  const own = participants.map((p) => p.permutation.slice());
  const fills = new Map<number, RowFill>();
  const configured = new Map<number, TokenSetting>();
  for (const [token, setting] of input.tokens) {
    const id = input.outputIds.get(token)!;
    configured.set(id, setting);
    fills.set(id, configuredFill(token, id, setting, input));
    if (setting.force) own.forEach((rows) => (rows[id] = -1));
  }
  const baseIndex = input.baseKey === undefined ? -1 : participants.findIndex((p) => p.key === input.baseKey);
  for (let id = 0; id < length; id++) {
    if (configured.has(id)) continue;
    if (own.every((rows) => rows[id]! >= 0)) continue; // every source keeps its own row
    const present = participants.map((_, m) => m).filter((m) => own[m]![id]! >= 0);
    fills.set(id, automaticFill(id, present, baseIndex, own));
  }
  return { rows: input.rows, length, own, fills };
}

function automaticFill(id: number, present: number[], baseIndex: number, own: Int32Array[]): RowFill {
  if (present.length === 1) return { kind: "row", model: present[0]!, row: own[present[0]!]![id]! };
  if (present.length === 0) return { kind: "zero" };
  if (baseIndex >= 0 && own[baseIndex]![id]! >= 0)
    return { kind: "row", model: baseIndex, row: own[baseIndex]![id]! };
  return { kind: "mean", from: present.map((m) => ({ model: m, row: own[m]![id]! })) };
}

function configuredFill(token: string, id: number, setting: TokenSetting, input: RowPlanInput): RowFill {
  const { source } = setting;
  if (source.kind === "zero") return { kind: "zero" };
  const model = input.participants.findIndex((p) => p.key === modelKey(source.model));
  const fail = (message: string, hint: string) =>
    new HubmergeError("E_MANIFEST", `\`tokenizer.tokens.${token}\`: ${message}`, {
      where: input.where(token),
      hint,
    });
  if (model < 0) {
    throw fail(
      `${source.model.raw} is not one of the models merged into the embeddings`,
      "name a model listed in `models` (or `slices`), or the base model",
    );
  }
  const p = input.participants[model]!;
  if (source.kind === "model") {
    const row = p.permutation[id]!;
    if (row < 0)
      throw fail(
        `${p.ref} has no token ${JSON.stringify(token)}`,
        "take another model's row, or use `{kind: model_token, ...}`",
      );
    return { kind: "row", model, row };
  }
  const row = source.tokenId ?? p.ids.get(source.token!);
  if (row === undefined) {
    throw fail(
      `${p.ref} has no token ${JSON.stringify(source.token)}`,
      "name a token of that model's vocabulary, or use `token_id`",
    );
  }
  if (row >= p.tensorRows) {
    throw fail(
      `token id ${row} is past ${p.ref}'s ${p.tensorRows} embedding rows`,
      `use an id below ${p.tensorRows}`,
    );
  }
  return { kind: "row", model, row };
}
