/**
 * The `slices` planner (mergekit's `plan_slice`): output layers stacked slice by slice and
 * renumbered from 0 within the scope, each merged from the sources' layers at the same offset in
 * their `layer_range`, gradients' `t` running over the slice. Tensors outside the stack come from
 * the first slice's sources when they sit before it (embeddings), else from the last slice's,
 * each with that slice's base (its own `base_model`, else the manifest's).
 */
import { HubmergeError } from "../../errors.js";
import type { Slice } from "../../manifest/types.js";
import { withLayerIndex } from "../layer-names.js";
import type { LoadedModel } from "../loaded-model.js";
import type { PlannerContext } from "./plan-models.js";
import type { PlanScope } from "./plan-scope.js";
import type { Participant } from "./recipe-builder.js";
import type { StackedLayer } from "./stacked-config.js";
import type { TensorRecipe } from "./types.js";

interface SliceInputs {
  base: Participant | undefined;
  others: Participant[];
  starts: Map<Participant, number>;
}

export function planSlices(
  slices: readonly Slice[],
  scope: PlanScope,
  context: PlannerContext,
): { recipes: TensorRecipe[]; reference: LoadedModel; stack: StackedLayer[] } {
  const { builder } = context;
  const layerRecipes: TensorRecipe[] = [];
  const stack: StackedLayer[] = [];
  let outIndex = 0;
  const sliceInputs = slices.map((slice) => splitSlice(slice, scope, context));
  slices.forEach((slice, s) => {
    const { base, others, starts } = sliceInputs[s]!;
    const first = base ?? others[0]!;
    const length = slice.sources[0]!.layerRange[1] - slice.sources[0]!.layerRange[0];
    const scopeLayers = [slice.parameters, ...scope.paramLayers];
    const names = scope.tensorsOf(first.model);
    for (let k = 0; k < length; k++) {
      const sourceIndex = starts.get(first)! + k;
      stack.push({ config: first.model.config, index: sourceIndex });
      for (const sourceName of names) {
        if (scope.layerIndex(sourceName) !== sourceIndex) continue;
        layerRecipes.push(
          builder.build({
            name: withLayerIndex(sourceName, outIndex + k),
            sourceName,
            layer: { index: k, count: length },
            base,
            others,
            sourceNameOf: (p) => withLayerIndex(sourceName, starts.get(p)! + k),
            scopeLayers,
          }),
        );
      }
    }
    outIndex += length;
  });
  const head = sliceInputs[0]!;
  const tail = sliceInputs[sliceInputs.length - 1]!;
  const pre: TensorRecipe[] = [];
  const post: TensorRecipe[] = [];
  const reference = (head.base ?? head.others[0]!).model;
  for (const name of scope.tensorsOf(reference)) {
    if (scope.layerIndex(name) !== undefined) continue;
    const before = isBeforeStack(name);
    const from = before ? head : tail;
    const slice = before ? slices[0]! : slices[slices.length - 1]!;
    (before ? pre : post).push(
      builder.build({
        name,
        sourceName: name,
        layer: undefined,
        base: from.base,
        others: from.others,
        scopeLayers: [slice.parameters, ...scope.paramLayers],
      }),
    );
  }
  const baseModel = context.baseRef ? context.modelOf(context.baseRef) : reference;
  return { recipes: [...pre, ...layerRecipes, ...post], reference: baseModel, stack };
}

function splitSlice(slice: Slice, scope: PlanScope, context: PlannerContext): SliceInputs {
  const { method, modelOf } = context;
  // mergekit's ConfigReader.base_model: the slice's own base, else the top-level one.
  const baseRef = slice.baseModel ?? context.baseRef;
  const baseModel = baseRef && modelOf(baseRef);
  const starts = new Map<Participant, number>();
  let base: Participant | undefined;
  const others: Participant[] = [];
  for (const source of slice.sources) {
    const p: Participant = { model: modelOf(source.ref), paramLayers: [source.parameters] };
    if (scope.module) checkRange(source, p.model, scope, context.file);
    starts.set(p, source.layerRange[0]);
    if (method.base !== "none" && p.model === baseModel && !base) base = p;
    else others.push(p);
  }
  if (method.base === "required" && !base) {
    throw new HubmergeError(
      "E_MANIFEST",
      `every slice must include the base model ${baseRef?.raw} for ${method.name}`,
      {
        where: { file: context.file, line: slice.pos.line, column: slice.pos.column },
        hint: "add the base model as a source of this slice, with the same layer_range length",
      },
    );
  }
  return { base, others, starts };
}

/**
 * A module's layer range must lie within the module's stack. (The whole model's ranges are the
 * compatibility check's to judge: a blocking finding that `allow_incompatible` may overrule.)
 */
function checkRange(
  source: Slice["sources"][number],
  model: LoadedModel,
  scope: PlanScope,
  file: string,
): void {
  const name = scope.module!.layout.name;
  const count = scope.layerCount(model);
  if (source.layerRange[1] <= count) return;
  const [start, end] = source.layerRange;
  throw new HubmergeError(
    "E_MANIFEST",
    count === 0
      ? `module \`${name}\` has no layer stack, so its slices cannot take layer_range [${start}, ${end}]`
      : `layer_range [${start}, ${end}] reaches past the ${count} layers of module \`${name}\` in ${model.ref}`,
    {
      where: { file, line: source.pos.line, column: source.pos.column, model: model.ref },
      hint:
        count === 0
          ? `merge \`${name}\` with \`models:\` (e.g. \`${name}: {models: [{model: ${source.ref.raw}}]}\`)`
          : `keep the range within [0, ${count}] (the end is exclusive, as in mergekit); layer numbers count within the module`,
    },
  );
}

/**
 * Whether a tensor outside the layer stack comes before it: token and position embeddings, a
 * vision tower's patch embedding and the norms and convolutions in front of its blocks.
 */
function isBeforeStack(name: string): boolean {
  return /embed_tokens|wte|wpe|word_embeddings|embeddings\.|patch_embed|patch_conv|pos_embed|position_embedding|class_embedding|embed_positions|(^|\.)conv[12]\.|ln_pre|layernorm_pre|pre_layrnorm/.test(
    name,
  );
}
