/**
 * Parameter resolution with mergekit's meanings (mergekit `config.py`: `evaluate_setting`,
 * `ConfigReader.parameter`; `plan.py`: how `t` is chosen per layer), so that users' configs
 * carry over unchanged:
 *
 * - a scalar is used as is;
 * - a gradient (list of numbers) is interpolated at t = index / (count − 1) of the tensor's layer
 *   (t = 1 when the stack has a single layer, as mergekit does); tensors outside the layer stack
 *   (embeddings, final norm, lm_head) take t = 0;
 * - a list of `{filter, value}` entries is scanned in order and the first entry that matches wins,
 *   where an entry matches when it has no filter, its filter is `"*"`, or its filter is a
 *   substring of the tensor name. An unfiltered entry is therefore a fallback only when it comes
 *   last, exactly as in mergekit. No match leaves the parameter unset at that level, so the next
 *   level of precedence (or the default) applies.
 */

import { HubmergeError } from "../errors.js";
import type {
  FilteredSetting,
  GradientSetting,
  ParamSetting,
  ParamSettings,
  ScalarSetting,
} from "../manifest/types.js";
import { layerIndexOf } from "./layer-names.js";
import type { LayerPosition, ParamSpec, ParamValue } from "./types.js";

/**
 * The tensor's place in a stack of `layerCount` layers (`model.layers.12.…`, `transformer.h.3.…`,
 * `blocks.7.…`; see layer-names.ts), or undefined for tensors outside the layer stack. With
 * slices, mergekit counts layers within the output slice; a planner handling slices passes its
 * own {@link LayerPosition} instead of calling this.
 */
export function layerPositionOf(tensorName: string, layerCount: number): LayerPosition | undefined {
  const index = layerIndexOf(tensorName);
  if (index === undefined) return undefined;
  if (!Number.isInteger(layerCount) || layerCount < 1 || index >= layerCount) {
    throw new HubmergeError(
      "E_MERGE",
      `tensor belongs to layer ${index} but the model has ${layerCount} layers`,
      {
        hint: "Check that config.json's layer count (num_hidden_layers) matches the weights.",
        where: { tensor: tensorName },
      },
    );
  }
  return { index, count: layerCount };
}

/** Gradient position of a tensor: mergekit's `t` (0 outside the layer stack, 1 for a single layer). */
export function gradientPosition(layer: LayerPosition | undefined): number {
  if (layer === undefined) return 0;
  return layer.count > 1 ? layer.index / (layer.count - 1) : 1;
}

/**
 * Value of a gradient at `t` ∈ [0, 1], anchors evenly spaced; computed in f64 with mergekit's exact
 * expression `(1 − frac)·g[i0] + frac·g[i1]` so that values agree with mergekit's to the last bit.
 */
export function interpolateGradient(gradient: GradientSetting, t: number): number {
  const scaled = t * (gradient.length - 1);
  const i0 = Math.trunc(scaled);
  const i1 = Math.min(gradient.length - 1, i0 + 1);
  const frac = scaled - i0;
  return (1 - frac) * (gradient[i0] as number) + frac * (gradient[i1] as number);
}

/** One setting, evaluated for one tensor. Undefined when a filter list has no matching entry. */
export function resolveSetting(
  setting: ParamSetting,
  tensorName: string,
  layer: LayerPosition | undefined,
): ScalarSetting | undefined {
  if (!Array.isArray(setting)) return setting;
  if (setting.length === 0) {
    throw new HubmergeError("E_MERGE", "a parameter is an empty list", {
      hint: "Give a scalar, a gradient with at least one number, or a list of {filter, value} entries.",
      where: { tensor: tensorName },
    });
  }
  if (isGradient(setting)) return interpolateGradient(setting, gradientPosition(layer));
  if (isFilterList(setting)) {
    const entry = setting.find((candidate) => filterMatches(candidate.filter, tensorName));
    return entry === undefined ? undefined : resolveSetting(entry.value, tensorName, layer);
  }
  throw new HubmergeError("E_MERGE", "a parameter list mixes numbers with other values", {
    hint: "A list is either a gradient (numbers only) or a list of {filter, value} entries.",
    where: { tensor: tensorName },
  });
}

function isGradient(list: readonly unknown[]): list is GradientSetting {
  return list.every((item) => typeof item === "number");
}

function isFilterList(list: readonly unknown[]): list is FilteredSetting[] {
  return list.every((item) => typeof item === "object" && item !== null && "value" in item);
}

function filterMatches(filter: string | undefined, tensorName: string): boolean {
  return filter === undefined || filter === "*" || tensorName.includes(filter);
}

export interface ResolveParamsOptions {
  /** The model these are per-model parameters of (for error messages). */
  model?: string;
  /**
   * Whether a missing `required` parameter is an error (default true). The planner passes false
   * for the base model's per-model parameters, which mergekit never requires.
   */
  enforceRequired?: boolean;
}

/**
 * Every parameter of `specs` for one tensor: the first level of `levels` (highest precedence first,
 * e.g. [slice source, slice, global] or [model, global]) whose setting resolves wins, else the
 * spec's default; a parameter with neither is left out. Values are checked against the spec's type.
 */
export function resolveParams(
  specs: readonly ParamSpec[],
  levels: readonly ParamSettings[],
  tensorName: string,
  layer: LayerPosition | undefined,
  options: ResolveParamsOptions = {},
): Record<string, ParamValue> {
  const resolved: Record<string, ParamValue> = {};
  for (const spec of specs) {
    let value = firstResolved(spec.name, levels, tensorName, layer) ?? spec.default;
    // mergekit reads `normalize: 1.0` as true; configs in the wild rely on it.
    if (spec.type === "boolean" && (value === 0 || value === 1)) value = value === 1;
    if (value === undefined) {
      if (spec.required && options.enforceRequired !== false) throw missingParam(spec, tensorName, options);
      continue;
    }
    if (typeof value !== spec.type) throw wrongType(spec, value, tensorName, options);
    resolved[spec.name] = value;
  }
  return resolved;
}

function firstResolved(
  name: string,
  levels: readonly ParamSettings[],
  tensorName: string,
  layer: LayerPosition | undefined,
): ScalarSetting | undefined {
  for (const settings of levels) {
    if (!Object.hasOwn(settings, name)) continue;
    const value = resolveSetting(settings[name] as ParamSetting, tensorName, layer);
    if (value !== undefined) return value;
  }
  return undefined;
}

function missingParam(spec: ParamSpec, tensorName: string, options: ResolveParamsOptions): HubmergeError {
  const owner = options.model === undefined ? "the global parameters" : `model ${options.model}`;
  return new HubmergeError("E_MERGE", `required parameter "${spec.name}" is not set for ${owner}`, {
    hint: `Set ${spec.name} (${spec.description}) in the model's or the global parameters; a filter list needs an entry that matches this tensor or a final entry without filter.`,
    where: { model: options.model, tensor: tensorName },
  });
}

function wrongType(
  spec: ParamSpec,
  value: ScalarSetting,
  tensorName: string,
  options: ResolveParamsOptions,
): HubmergeError {
  return new HubmergeError(
    "E_MERGE",
    `parameter "${spec.name}" must be a ${spec.type}, got ${typeof value} ${JSON.stringify(value)}`,
    {
      hint: `Give ${spec.name} a ${spec.type} value (${spec.description}).`,
      where: { model: options.model, tensor: tensorName },
    },
  );
}
