/**
 * Method-aware checks of a parsed manifest: the method exists, the base model is there when the
 * method needs one, the number of models fits, required parameters are set (model > slice >
 * global, as mergekit resolves them), values are in range, and slices line up. Errors are
 * E_MANIFEST at the offending node; softer findings are appended to `manifest.warnings`.
 */
import type { MergeMethod } from "../merge/types.js";
import { chatTemplateChoice, NAMED_CHAT_TEMPLATES } from "./chat-templates.js";
import { formatPath, manifestError } from "./issues.js";
import type { ModelRef } from "../model-ref.js";
import { formatModelRef, sameModelRef } from "../model-ref.js";
import { MERGEKIT_METHODS, MERGEKIT_METHODS_DOC } from "./mergekit-methods.js";
import { closestMatch, listWords } from "./suggest.js";
import type { Manifest, ModelEntry, NodePath, Pos, Slice } from "./types.js";
import { checkModelCombination, checkParamBlock, effectiveSetting } from "./validate-params.js";
import type { ParamBlock, Reporter } from "./validate-params.js";

/** The merge-method registry as validation needs it. */
export interface MethodLookup {
  get(name: string): MergeMethod | undefined;
  names(): string[];
}

/** A model taking part in one merge: a `models` entry or a slice source. */
interface Participant {
  ref: ModelRef;
  pos: Pos;
  path: NodePath;
  /** Its parameter blocks, highest precedence first (model, slice, global). */
  levels: ParamBlock[];
}

function reporterFor(manifest: Manifest): Reporter {
  const posOf = (at: NodePath | Pos, keyOf = false): Pos => {
    if (!Array.isArray(at)) return at as Pos;
    const path = at as NodePath;
    return (keyOf ? manifest.locateKey(path) : undefined) ?? manifest.locate(path) ?? nearest(manifest, path);
  };
  return {
    fail(at, message, hint, keyOf) {
      throw manifestError(manifest.file, posOf(at, keyOf), message, hint);
    },
    warn(at, message, keyOf) {
      manifest.warnings.push({ message, pos: posOf(at, keyOf) });
    },
  };
}

/** The deepest existing node along `path`. */
function nearest(manifest: Manifest, path: NodePath): Pos {
  for (let n = path.length; n >= 0; n--) {
    const pos = manifest.locate(path.slice(0, n));
    if (pos !== undefined) return pos;
  }
  return { line: 1, column: 1 };
}

function requireMethod(manifest: Manifest, lookup: MethodLookup, report: Reporter): MergeMethod {
  const method = lookup.get(manifest.mergeMethod);
  if (method !== undefined) return method;
  const names = lookup.names();
  if (MERGEKIT_METHODS.includes(manifest.mergeMethod)) {
    report.fail(
      ["merge_method"],
      `\`${manifest.mergeMethod}\` is a mergekit method that hubmerge does not support yet (${MERGEKIT_METHODS_DOC}).`,
      `Choose one of the supported methods: ${listWords([...names].sort())}.`,
    );
  }
  const suggestion = closestMatch(manifest.mergeMethod, names);
  report.fail(
    ["merge_method"],
    `Unknown merge_method \`${manifest.mergeMethod}\`${suggestion ? `; did you mean \`${suggestion}\`?` : "."}`,
    `Known methods: ${listWords([...names].sort())}.`,
  );
}

/** Whether some merge has no base: a `models` list, or a slice without its own `base_model`. */
function lacksBase(manifest: Manifest): boolean {
  if (manifest.baseModel !== undefined) return false;
  return [manifest, ...(manifest.modules ?? [])].some(
    (inputs) => inputs.models !== undefined || inputs.slices?.some((s) => s.baseModel === undefined),
  );
}

function checkBase(manifest: Manifest, method: MergeMethod, report: Reporter): void {
  if (method.base === "required" && lacksBase(manifest)) {
    report.fail(
      ["merge_method"],
      `${method.name} needs a \`base_model\`, and the manifest has none.`,
      `Add \`base_model: org/name\` at the top level: the model the others were fine-tuned from${manifest.models === undefined ? " (or give every slice its own `base_model`)" : ""}.`,
    );
  }
  const lists = [manifest, ...(manifest.modules ?? [])].flatMap((inputs) => inputs.models ?? []);
  if (method.base === "none" && manifest.baseModel !== undefined && lists.length > 0) {
    const listed = lists.some((m) => manifest.baseModel && sameModelRef(m.ref, manifest.baseModel));
    if (!listed) {
      report.warn(
        ["base_model"],
        `${method.name} has no base model; \`base_model\` is only merged if it is also listed in \`models\`.`,
      );
    }
  }
}

/** Whether `ref` is the base of a merge whose base model is `base`. */
function isBase(base: ModelRef | undefined, method: MergeMethod, ref: ModelRef): boolean {
  return method.base !== "none" && base !== undefined && sameModelRef(ref, base);
}

function checkDuplicates(participants: readonly Participant[], report: Reporter): void {
  participants.forEach((p, i) => {
    const earlier = participants.slice(0, i).find((q) => sameModelRef(q.ref, p.ref));
    if (earlier !== undefined) {
      report.fail(
        p.pos,
        `${formatModelRef(p.ref)} is listed twice (first at line ${earlier.pos.line}).`,
        "List each model once; mergekit would silently keep only one of them.",
      );
    }
  });
}

function countWords(method: MergeMethod): string {
  const { minModels: min, maxModels: max } = method;
  const besides = method.base === "none" ? "" : " besides the base model";
  if (max === min) return `exactly ${min} model${min === 1 ? "" : "s"}${besides}`;
  if (max === undefined) return `at least ${min} model${min === 1 ? "" : "s"}${besides}`;
  return `${min} to ${max} models${besides}`;
}

/** Counts the models that are not the base, in one merge (the `models` list or one slice). */
function checkCount(
  method: MergeMethod,
  others: readonly Participant[],
  listPath: NodePath,
  report: Reporter,
): void {
  if (others.length < method.minModels) {
    report.fail(
      listPath,
      `${method.name} merges ${countWords(method)}; \`${formatPath(listPath)}\` has ${others.length}.`,
      "Add models to merge, or choose another merge_method.",
    );
  }
  const max = method.maxModels ?? Number.POSITIVE_INFINITY;
  const extra = others[max];
  if (extra !== undefined) {
    const baseNote = method.base === "required" ? " (the base_model is one of the models merged)" : "";
    report.fail(
      extra.pos,
      `${method.name} merges ${countWords(method)}${baseNote}, and this is model ${max + 1} of ${others.length}.`,
      "Remove models, or choose a method that takes more, such as ties or linear.",
    );
  }
}

function checkRequired(method: MergeMethod, others: readonly Participant[], report: Reporter): void {
  for (const spec of method.perModelParams.filter((s) => s.required)) {
    for (const p of others) {
      if (effectiveSetting(spec.name, p.levels) !== undefined) continue;
      report.fail(
        p.pos,
        `${formatModelRef(p.ref)} has no \`${spec.name}\`, which ${method.name} needs for every model${method.base === "none" ? "" : " except the base"}.`,
        `Add \`parameters: {${spec.name}: …}\` to this model (${spec.description}), or set it once in the top-level \`parameters\`.`,
      );
    }
  }
}

/**
 * A required global parameter must reach every tensor: set globally, or in every scope that
 * covers part of the merge (each slice, each module; `scopes` lists their blocks, highest first).
 */
function checkRequiredGlobals(
  manifest: Manifest,
  method: MergeMethod,
  scopes: ParamBlock[][],
  report: Reporter,
): void {
  for (const spec of method.globalParams.filter((s) => s.required)) {
    if (scopes.every((levels) => effectiveSetting(spec.name, levels) !== undefined)) continue;
    report.fail(
      manifest.locate(["parameters"]) !== undefined ? ["parameters"] : ["merge_method"],
      `${method.name} needs the parameter \`${spec.name}\` (${spec.description}), and it is not set.`,
      `Add it to the top-level parameters, e.g. \`parameters: {${spec.name}: 0.5}\`.`,
    );
  }
}

/** Runs the per-merge checks on one group of participants (all `models`, or one slice). */
function checkGroup(
  base: ModelRef | undefined,
  method: MergeMethod,
  group: Participant[],
  listPath: NodePath,
  report: Reporter,
): void {
  checkDuplicates(group, report);
  const others = group.filter((p) => !isBase(base, method, p.ref));
  checkCount(method, others, listPath, report);
  checkRequired(method, others, report);
  for (const p of others)
    checkModelCombination(method, p.levels, { label: formatModelRef(p.ref), pos: p.pos }, report);
}

/** A `models` list (top-level or a module's); `outer` are the blocks above a model's own. */
function checkModelList(
  manifest: Manifest,
  method: MergeMethod,
  entries: readonly ModelEntry[],
  listPath: NodePath,
  outer: ParamBlock[],
  report: Reporter,
): void {
  const group = entries.map((entry, i): Participant => {
    const path = [...listPath, i];
    const own: ParamBlock = { params: entry.parameters, path: [...path, "parameters"], scope: "model" };
    checkParamBlock(method, own, report);
    return { ref: entry.ref, pos: entry.pos, path, levels: [own, ...outer] };
  });
  checkGroup(manifest.baseModel, method, group, listPath, report);
}

/** One slice at `slicePath`; returns its parameter blocks (slice, then `outer`). */
function checkSlice(
  manifest: Manifest,
  method: MergeMethod,
  slice: Slice,
  slicePath: NodePath,
  outer: ParamBlock[],
  report: Reporter,
): ParamBlock[] {
  const sliceBlock: ParamBlock = {
    params: slice.parameters,
    path: [...slicePath, "parameters"],
    scope: "slice",
  };
  checkParamBlock(method, sliceBlock, report);
  const group = slice.sources.map((source, k): Participant => {
    const path = [...slicePath, "sources", k];
    const own: ParamBlock = { params: source.parameters, path: [...path, "parameters"], scope: "model" };
    checkParamBlock(method, own, report);
    return { ref: source.ref, pos: source.pos, path, levels: [own, sliceBlock, ...outer] };
  });
  const [first, ...rest] = slice.sources;
  const length = first === undefined ? 0 : first.layerRange[1] - first.layerRange[0];
  rest.forEach((source, k) => {
    const own = source.layerRange[1] - source.layerRange[0];
    if (own !== length) {
      report.fail(
        [...slicePath, "sources", k + 1, "layer_range"],
        `This source spans ${own} layers, the slice's first source ${length}: every source of a slice must span the same number of layers.`,
        "Make every `layer_range` in this slice the same length (end − start), or move the source into a slice of its own.",
      );
    }
  });
  const base = slice.baseModel ?? manifest.baseModel;
  if (slice.baseModel !== undefined && method.base === "none") {
    report.warn(
      [...slicePath, "base_model"],
      `${method.name} has no base model, so this slice's \`base_model\` changes nothing.`,
      true,
    );
  }
  if (method.base === "required" && base !== undefined && !group.some((p) => isBase(base, method, p.ref))) {
    const whose = slice.baseModel !== undefined ? "this slice's base model" : "the base model";
    report.fail(
      slice.baseModel !== undefined ? [...slicePath, "base_model"] : slice.pos,
      `This slice has no source from ${whose} ${formatModelRef(base)}, which ${method.name} needs.`,
      `Add ${whose} as a source of this slice, with a layer_range of the same length.`,
    );
  }
  checkGroup(base, method, group, [...slicePath, "sources"], report);
  return [sliceBlock, ...outer];
}

/**
 * The merges of `models`/`slices` under `path` (the manifest, or one module): each `models` list
 * and each slice is checked as a group; returns the parameter scopes they make.
 */
function checkInputs(
  manifest: Manifest,
  method: MergeMethod,
  inputs: Pick<Manifest, "models" | "slices">,
  path: NodePath,
  outer: ParamBlock[],
  report: Reporter,
): ParamBlock[][] {
  const scopes: ParamBlock[][] = [];
  if (inputs.models !== undefined) {
    checkModelList(manifest, method, inputs.models, [...path, "models"], outer, report);
    scopes.push(outer);
  }
  inputs.slices?.forEach((slice, s) =>
    scopes.push(checkSlice(manifest, method, slice, [...path, "slices", s], outer, report)),
  );
  return scopes;
}

/** Checks `manifest` against its merge method; throws E_MANIFEST at the first problem. */
export function validateManifest(manifest: Manifest, lookup: MethodLookup): void {
  const report = reporterFor(manifest);
  const method = requireMethod(manifest, lookup, report);
  checkBase(manifest, method, report);
  const global: ParamBlock = { params: manifest.parameters, path: ["parameters"], scope: "global" };
  checkParamBlock(method, global, report);
  const scopes = checkInputs(manifest, method, manifest, [], [global], report);
  for (const module of manifest.modules ?? []) {
    const path = ["modules", module.name];
    const block: ParamBlock = { params: module.parameters, path: [...path, "parameters"], scope: "module" };
    checkParamBlock(method, block, report);
    scopes.push(...checkInputs(manifest, method, module, path, [block, global], report));
  }
  checkRequiredGlobals(manifest, method, scopes, report);
  checkChatTemplate(manifest, report);
}

/** A chat template that cannot be written fails here, never after the merge. */
function checkChatTemplate(manifest: Manifest, report: Reporter): void {
  if (manifest.chatTemplate === undefined) return;
  const choice = chatTemplateChoice(manifest.chatTemplate);
  if (!("problem" in choice)) return;
  const names = ["auto", ...Object.keys(NAMED_CHAT_TEMPLATES)];
  const suggestion = closestMatch(manifest.chatTemplate, names);
  report.fail(
    ["chat_template"],
    `chat_template: ${choice.problem}${suggestion ? `; did you mean \`${suggestion}\`?` : "."}`,
    `Use one of ${listWords(names)}, or give the Jinja template text itself.`,
  );
}
