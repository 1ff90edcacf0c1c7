/**
 * Marks the plan's embedding recipes (embed_tokens, lm_head and their other names) for row
 * re-indexing: each gets the output vocabulary's row count and a row plan over its inputs. A
 * recipe whose inputs all map onto the output unchanged is left alone, so the common case (one
 * vocabulary everywhere) merges exactly as without tokenizer settings, in pieces on the kernels.
 */
import { HubmergeError } from "../../errors.js";
import type { Manifest } from "../../manifest/types.js";
import { modelKey } from "../../model-ref.js";
import type { LoadedModel } from "../loaded-model.js";
import { isEmbeddingTensor } from "../methods/task-family.js";
import type { PlannedInput, TensorRecipe } from "../plan/types.js";
import { plannedInputs } from "../unit-reads.js";
import type { TokenizerPlan } from "./plan-tokenizer.js";
import { planRows, type RowParticipant, type RowPlan } from "./row-plan.js";

export function reindexRecipes(
  recipes: TensorRecipe[],
  tokenizer: TokenizerPlan,
  manifest: Manifest,
  models: ReadonlyMap<string, LoadedModel>,
): TensorRecipe[] {
  const keyOf = new Map([...models].map(([key, m]) => [m.ref, { key, model: m }]));
  return recipes.map((recipe) => {
    if (!isEmbeddingTensor(recipe.sourceTensorName) || recipe.shape.length !== 2) return recipe;
    // In the order execution reads them, which the row plan's participant indices follow.
    const participants = plannedInputs(recipe).map((input) => participant(input, keyOf, tokenizer, recipe));
    const rows = planRows({
      participants,
      // mergekit fills from the tensor's own base: a slice's base_model for the rows of its slice.
      baseKey: recipe.base
        ? keyOf.get(recipe.base.model)!.key
        : manifest.baseModel && modelKey(manifest.baseModel),
      outputIds: tokenizer.outputIds,
      length: tokenizer.length,
      rows: tokenizer.rows,
      tokens: manifest.tokenizer?.tokens ?? [],
      where: (token) => ({ file: manifest.file, ...manifest.locate(["tokenizer", "tokens", token]) }),
    });
    if (isIdentity(rows, participants)) return recipe;
    return { ...recipe, shape: [rows.rows, recipe.shape[1]!], rows };
  });
}

function participant(
  input: PlannedInput,
  keyOf: ReadonlyMap<string, { key: string; model: LoadedModel }>,
  tokenizer: TokenizerPlan,
  recipe: TensorRecipe,
): RowParticipant {
  const { key, model } = keyOf.get(input.model)!;
  const permutation = tokenizer.permutations.get(key)!;
  const [tensorRows, hidden] = model.tensors.info(input.tensor).shape as [number, number];
  if (hidden !== recipe.shape[1]) {
    throw new HubmergeError(
      "E_INCOMPATIBLE",
      `${input.tensor} rows have ${hidden} values, the output's ${recipe.shape[1]}: the hidden sizes differ`,
      { where: { model: model.ref, tensor: recipe.name }, hint: "merge fine-tunes of one backbone" },
    );
  }
  let highest = -1;
  for (const row of permutation) highest = Math.max(highest, row);
  if (highest >= tensorRows) {
    throw new HubmergeError(
      "E_INCOMPATIBLE",
      `${input.tensor} has ${tensorRows} rows, but the model's vocabulary gives a token row ${highest}`,
      {
        where: { model: model.ref, tensor: recipe.name },
        hint: "the model's config vocab_size and its tokenizer disagree with its weights; check its files",
      },
    );
  }
  return { ref: model.ref, key, permutation, ids: tokenizer.vocabs.get(key)!, tensorRows };
}

function isIdentity(plan: RowPlan, participants: readonly RowParticipant[]): boolean {
  if (plan.rows !== plan.length || plan.fills.size > 0) return false;
  return participants.every((p, m) => {
    if (p.tensorRows !== plan.rows) return false;
    const own = plan.own[m]!;
    for (let id = 0; id < own.length; id++) if (own[id] !== id) return false;
    return true;
  });
}
