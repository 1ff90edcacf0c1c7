/**
 * Method-aware checks of parameter settings: known names (a typo of a known name is an error,
 * any other unknown name a warning, as mergekit ignores it), value types, ranges (each method's
 * ParamSpec declares its own) at the exact value that is wrong, and DELLA's density ± epsilon.
 */
import type { MergeMethod, ParamSpec } from "../merge/types.js";
import { formatPath } from "./issues.js";
import { formatRange, inRange } from "./param-range.js";
import { paramLeaves, scalarOf } from "./param-leaves.js";
import type { ParamLeaf } from "./param-leaves.js";
import { closestMatch } from "./suggest.js";
import type { NodePath, ParamSetting, ParamSettings, Pos } from "./types.js";

/** Where a validation check reports to; `fail` throws E_MANIFEST at the node. */
export interface Reporter {
  /** With `keyOf`, a path points at its key (e.g. a misspelt parameter name) rather than its value. */
  fail(at: NodePath | Pos, message: string, hint: string, keyOf?: boolean): never;
  warn(at: NodePath | Pos, message: string, keyOf?: boolean): void;
}

/** One `parameters:` mapping and where it sits. */
export interface ParamBlock {
  params: ParamSettings;
  path: NodePath;
  /** A model (or slice source) block takes per-model parameters; the others take both kinds. */
  scope: "global" | "module" | "slice" | "model";
}

function describe(value: unknown): string {
  return typeof value === "string" ? `the string ${JSON.stringify(value)}` : String(value);
}

function checkLeafType(spec: ParamSpec, leaf: ParamLeaf, report: Reporter): void {
  const { value } = leaf;
  const label = `\`${formatPath(leaf.path)}\``;
  if (spec.type === "number") {
    if (typeof value !== "number") {
      const hint =
        typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))
          ? `Write the number without quotes: \`${spec.name}: ${value.trim()}\`.`
          : `Give ${spec.name} a number (${spec.description}).`;
      report.fail(leaf.path, `${label} must be a number, got ${describe(value)}.`, hint);
    }
    if (!Number.isFinite(value)) {
      report.fail(
        leaf.path,
        `${label} must be a finite number, got ${describe(value)}.`,
        `Give ${spec.name} a finite number.`,
      );
    }
    return;
  }
  // mergekit configs often write `normalize: 1.0`; 0 and 1 read as booleans, as in mergekit.
  const numericBoolean = spec.type === "boolean" && (value === 0 || value === 1);
  if (leaf.inGradient || (typeof value !== spec.type && !numericBoolean)) {
    const expected = spec.type === "boolean" ? "`true` or `false`" : "a string";
    const got = leaf.inGradient ? "a gradient" : describe(value);
    const hint =
      spec.type === "boolean" && (value === 0 || value === 1)
        ? `Write \`${value === 1 ? "true" : "false"}\`: mergekit reads ${value} as a truth value, hubmerge asks for a boolean.`
        : `Give ${spec.name} ${expected} (${spec.description}).`;
    report.fail(leaf.path, `${label} must be ${expected}, got ${got}.`, hint);
  }
}

function checkLeafRange(spec: ParamSpec, leaf: ParamLeaf, report: Reporter): void {
  const { range } = spec;
  if (range === undefined || typeof leaf.value !== "number" || inRange(range, leaf.value)) return;
  const bounds = formatRange(range);
  report.fail(
    leaf.path,
    `\`${formatPath(leaf.path)}\` is ${leaf.value}; ${spec.name} must be in ${bounds}.`,
    spec.hint ?? `Give ${spec.name} a value in ${bounds} (${spec.description}).`,
  );
}

function checkSetting(spec: ParamSpec, setting: ParamSetting, path: NodePath, report: Reporter): void {
  for (const leaf of paramLeaves(setting, path)) {
    checkLeafType(spec, leaf, report);
    checkLeafRange(spec, leaf, report);
  }
}

function checkUnknownName(method: MergeMethod, block: ParamBlock, name: string, report: Reporter): void {
  const path = [...block.path, name];
  const globalSpec = method.globalParams.find((s) => s.name === name);
  if (globalSpec !== undefined) {
    report.warn(
      path,
      `\`${name}\` is a global parameter of ${method.name}; set per model it has no effect (move it to the top-level \`parameters\`).`,
      true,
    );
    return;
  }
  const known = [...method.perModelParams, ...(block.scope === "model" ? [] : method.globalParams)].map(
    (s) => s.name,
  );
  const suggestion = closestMatch(name, known);
  if (suggestion !== undefined) {
    report.fail(
      path,
      `Unknown parameter \`${name}\` for ${method.name}; did you mean \`${suggestion}\`?`,
      `Rename it to \`${suggestion}\` (mergekit would silently ignore it).`,
      true,
    );
  }
  const list = known.length > 0 ? `its parameters are ${known.join(", ")}` : "it takes no parameters here";
  report.warn(path, `\`${name}\` is not a parameter of ${method.name} (${list}); it is ignored.`, true);
}

/** Names, types and ranges of every setting in one `parameters:` mapping. */
export function checkParamBlock(method: MergeMethod, block: ParamBlock, report: Reporter): void {
  const specs =
    block.scope === "model" ? method.perModelParams : [...method.globalParams, ...method.perModelParams];
  for (const [name, setting] of Object.entries(block.params)) {
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined) checkUnknownName(method, block, name, report);
    else checkSetting(spec, setting, [...block.path, name], report);
  }
}

/** The first block (highest precedence first) that sets `name`, with the setting's path. */
export function effectiveSetting(
  name: string,
  levels: readonly ParamBlock[],
): { setting: ParamSetting; path: NodePath } | undefined {
  for (const level of levels) {
    const setting = level.params[name];
    if (setting !== undefined) return { setting, path: [...level.path, name] };
  }
  return undefined;
}

function effectiveNumber(method: MergeMethod, name: string, levels: readonly ParamBlock[]) {
  const found = effectiveSetting(name, levels);
  const fallback = method.perModelParams.find((s) => s.name === name)?.default;
  const value = found === undefined ? fallback : scalarOf(found.setting);
  return typeof value === "number" ? { value, path: found?.path } : undefined;
}

/**
 * Checks between a model's parameters, once each value is known to be a plain scalar:
 * DELLA needs 0 < density − epsilon and density + epsilon < 1 (as mergekit, below density 1);
 * breadcrumbs trims gamma when density + gamma > 1 (a warning).
 */
export function checkModelCombination(
  method: MergeMethod,
  levels: readonly ParamBlock[],
  owner: { label: string; pos: Pos },
  report: Reporter,
): void {
  const has = (name: string): boolean => method.perModelParams.some((s) => s.name === name);
  const density = effectiveNumber(method, "density", levels);
  if (density === undefined) return;
  const d = density.value;
  if (has("epsilon")) {
    const epsilon = effectiveNumber(method, "epsilon", levels);
    if (epsilon !== undefined && d < 1 && !(d - epsilon.value > 0 && d + epsilon.value < 1)) {
      report.fail(
        epsilon.path ?? density.path ?? owner.pos,
        `For ${owner.label}, density ${d} ± epsilon ${epsilon.value} leaves (0, 1): DELLA's keep probabilities run from density − epsilon to density + epsilon.`,
        "Choose epsilon smaller than both density and 1 − density (e.g. density 0.5, epsilon 0.1).",
      );
    }
  }
  if (has("gamma")) {
    const gamma = effectiveNumber(method, "gamma", levels);
    if (gamma !== undefined && d < 1 && d + gamma.value > 1) {
      report.warn(
        gamma.path ?? density.path ?? owner.pos,
        `For ${owner.label}, density ${d} + gamma ${gamma.value} exceeds 1: fewer than gamma of the largest entries will be dropped.`,
      );
    }
  }
}
