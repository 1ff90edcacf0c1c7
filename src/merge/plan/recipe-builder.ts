import { HubmergeError } from "../../errors.js";
import { isFloatDType, type FloatDType } from "../../safetensors/dtype.js";
import type { LoadedModel } from "../loaded-model.js";
import { isEmbeddingTensor } from "../methods/task-family.js";
import { resolveParams } from "../params.js";
import type { ParamSettings } from "../../manifest/types.js";
import type { LayerPosition, MergeMethod } from "../types.js";
import { outputDType } from "./dtypes.js";
import type { PlannedInput, TensorRecipe } from "./types.js";

/** A model feeding a merge, with its own parameters (a `models` entry's or a slice source's). */
export interface Participant {
  model: LoadedModel;
  paramLayers: ParamSettings[];
}

/** Builds recipes for one output tensor at a time; shared by the `models` and `slices` planners. */
export class RecipeBuilder {
  readonly warnings: string[] = [];

  constructor(
    private readonly method: MergeMethod,
    private readonly globalLayers: ParamSettings[],
    private readonly outDType: FloatDType | undefined,
    /** Embedding rows are re-indexed to one vocabulary later (merge/tokenizer/), so their row counts may differ. */
    private readonly reindexedEmbeddings = false,
  ) {}

  /**
   * The recipe for output `name`, made from tensor `sourceName` of the participants.
   * `sourceNameOf` maps a participant to the tensor name it holds (slices shift layer numbers).
   */
  build(args: {
    name: string;
    sourceName: string;
    layer: LayerPosition | undefined;
    base: Participant | undefined;
    others: Participant[];
    sourceNameOf?: (participant: Participant) => string;
    /**
     * Parameters between the models' own and the global ones, highest first: a slice's, then a
     * module's (mergekit's `ConfigReader.parameter`). They apply to global parameters too.
     */
    scopeLayers?: ParamSettings[];
  }): TensorRecipe {
    const { name, sourceName, layer, base, others } = args;
    const nameIn = args.sourceNameOf ?? (() => sourceName);
    const reference = base ?? others[0];
    if (!reference) throw new HubmergeError("E_INTERNAL", `no model feeds tensor ${name}`);
    const info = reference.model.tensors.info(nameIn(reference));
    const dtype = outputDType(this.outDType, info.dtype);
    const shared = [...(args.scopeLayers ?? []), ...this.globalLayers];
    const global = resolveParams(this.method.globalParams, shared, name, layer);
    // mergekit matches per-model filters against the source tensor name; the base needs no weight.
    const plannedOf = (p: Participant): PlannedInput => ({
      model: p.model.ref,
      tensor: nameIn(p),
      params: this.perModel(p, shared, nameIn(p), layer, p === base),
    });
    const present = others.filter((p) => {
      if (p.model.tensors.has(nameIn(p))) return true;
      this.warnings.push(`${p.model.ref} has no tensor ${nameIn(p)}; it is left out of ${name}`);
      return false;
    });
    const recipe: TensorRecipe = {
      name,
      sourceTensorName: sourceName,
      shape: [...info.shape],
      dtype,
      action: "merge",
      base: base && plannedOf(base),
      inputs: present.map(plannedOf),
      global,
    };
    if (!isFloatDType(info.dtype) || (base && present.length === 0)) {
      // Integer buffers are not weights; a tensor only the base has stays the base's.
      return { ...recipe, action: "copy", base: undefined, inputs: [plannedOf(reference)] };
    }
    if (!base && !(this.reindexedEmbeddings && isEmbeddingTensor(sourceName)))
      this.checkSameShapes(recipe, present);
    return recipe;
  }

  private perModel(
    p: Participant,
    shared: ParamSettings[],
    tensor: string,
    layer: LayerPosition | undefined,
    isBase: boolean,
  ) {
    return resolveParams(this.method.perModelParams, [...p.paramLayers, ...shared], tensor, layer, {
      model: p.model.ref,
      enforceRequired: !isBase,
    });
  }

  /** Methods without a base combine whole tensors, which must agree in shape. */
  private checkSameShapes(recipe: TensorRecipe, present: Participant[]): void {
    for (const p of present) {
      const shape = p.model.tensors.info(recipe.inputs.find((i) => i.model === p.model.ref)!.tensor).shape;
      if (shape.join("x") !== recipe.shape.join("x")) {
        throw new HubmergeError(
          "E_INCOMPATIBLE",
          `shape [${shape.join(", ")}] differs from [${recipe.shape.join(", ")}] of ${present[0]!.model.ref}`,
          {
            where: { model: p.model.ref, tensor: recipe.name },
            hint: `${this.method.name} needs identical shapes; merge fine-tunes of one backbone`,
          },
        );
      }
    }
  }
}
