/**
 * Walking a parameter setting down to its leaves (a scalar, each gradient anchor, each filter
 * value), with the YAML path of each, so checks can point at the exact number that is wrong.
 */
import type { NodePath, ParamSetting, ScalarSetting } from "./types.js";

export interface ParamLeaf {
  value: ScalarSetting;
  path: NodePath;
  /** Whether the leaf is one anchor of a gradient (a list of numbers). */
  inGradient: boolean;
}

function isGradient(setting: ParamSetting): setting is number[] {
  return Array.isArray(setting) && (setting.length === 0 || typeof setting[0] === "number");
}

export function paramLeaves(setting: ParamSetting, path: NodePath): ParamLeaf[] {
  if (!Array.isArray(setting)) return [{ value: setting, path, inGradient: false }];
  if (isGradient(setting))
    return setting.map((value, i) => ({ value, path: [...path, i], inGradient: true }));
  return setting.flatMap((entry, i): ParamLeaf[] => {
    const valuePath = [...path, i, "value"];
    if (!Array.isArray(entry.value)) return [{ value: entry.value, path: valuePath, inGradient: false }];
    return entry.value.map((value, j) => ({ value, path: [...valuePath, j], inGradient: true }));
  });
}

/** The setting's value when it is one plain scalar (no gradient, no filters). */
export function scalarOf(setting: ParamSetting | undefined): ScalarSetting | undefined {
  return setting === undefined || Array.isArray(setting) ? undefined : setting;
}
