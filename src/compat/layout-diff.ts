/**
 * Tensor layouts from the safetensors headers alone: which tensors are missing or extra, and
 * which differ in shape or dtype, each classified by what the chosen method will do with it.
 * Findings that repeat over layers are folded into one (`model.layers.*.mlp.up_proj.weight`).
 */
import type { Pos } from "../manifest/types.js";
import { covers } from "../merge/kernels/layout.js";
import { LAYER_PATTERN, layerIndexOf } from "../merge/layer-names.js";
import { isEmbeddingTensor } from "../merge/methods/task-family.js";
import type { MergeMethod } from "../merge/types.js";
import { isDecodableDType, type DType } from "../safetensors/dtype.js";
import type { SafetensorsModel } from "../safetensors/reader.js";
import type { Finding, LayoutAction, Severity } from "./report.js";

export interface TensorLayout {
  dtype: DType;
  shape: readonly number[];
}

/** Tensor name → dtype and shape, in file order. */
export type TensorTable = ReadonlyMap<string, TensorLayout>;

export interface LayoutSide {
  name: string;
  tensors: TensorTable;
  layerCount: number;
}

export interface LayoutDiffInput {
  reference: LayoutSide;
  model: LayoutSide & { pos?: Pos };
  method: Pick<MergeMethod, "name" | "shapePolicy">;
  /** With slices, layers past either model's stack are not compared (the slices choose layers). */
  slices: boolean;
  /** The manifest's tokenizer setting (`tokenizer_source` or `tokenizer:`), which re-indexes embeddings. */
  tokenizer?: string;
}

/** Most folded findings of one kind per model before the rest is summed up in one line. */
const MAX_GROUPS_PER_CODE = 10;

export function tensorTable(model: Pick<SafetensorsModel, "tensorNames" | "info">): TensorTable {
  return new Map(model.tensorNames().map((name) => [name, pick(model.info(name))]));
}

function pick(info: TensorLayout): TensorLayout {
  return { dtype: info.dtype, shape: info.shape };
}

interface Group {
  code: string;
  severity: Severity;
  action: LayoutAction;
  pattern: string;
  base: unknown;
  value: unknown;
  layers: number[];
  tensors: string[];
  explain: (where: string) => { message: string; fix: string };
}

export function diffLayouts(input: LayoutDiffInput): Finding[] {
  const { reference, model } = input;
  const groups = new Map<string, Group>();
  const add = (name: string, group: Omit<Group, "pattern" | "layers" | "tensors">, wholeLayer = false) => {
    const layer = layerIndexOf(name);
    const pattern = layer === undefined ? name : layerPattern(name, wholeLayer);
    // Whole layers fold into one finding, whatever the shapes of their tensors.
    if (wholeLayer)
      group = { ...group, base: group.base && "whole layer", value: group.value && "whole layer" };
    const key = JSON.stringify([group.code, group.action, pattern, group.base, group.value]);
    const existing = groups.get(key) ?? { ...group, pattern, layers: [], tensors: [] };
    if (layer !== undefined) existing.layers.push(layer);
    existing.tensors.push(name);
    groups.set(key, existing);
  };
  const compared = (name: string) => {
    const layer = layerIndexOf(name);
    return !input.slices || layer === undefined || layer < Math.min(reference.layerCount, model.layerCount);
  };
  for (const [name, ref] of reference.tensors) {
    if (!compared(name)) continue;
    const other = model.tensors.get(name);
    if (!other) add(name, missingGroup(ref, input), beyond(name, model.layerCount));
    else {
      const shape = shapeGroup(name, ref, other, input);
      if (shape) add(name, shape);
      const dtype = dtypeGroup(ref, other);
      if (dtype) add(name, dtype);
    }
  }
  for (const [name, other] of model.tensors) {
    if (compared(name) && !reference.tensors.has(name)) {
      add(name, extraGroup(other, input), beyond(name, reference.layerCount));
    }
  }
  return foldGroups([...groups.values()], input);
}

/** Whether the tensor sits in a layer past the end of the other model's stack. */
function beyond(name: string, layerCount: number): boolean {
  const layer = layerIndexOf(name);
  return layer !== undefined && layer >= layerCount;
}

/** `model.layers.*.mlp.up_proj.weight`, or `model.layers.*` for whole layers (layer-names.ts' pattern). */
function layerPattern(name: string, wholeLayer: boolean): string {
  const match = LAYER_PATTERN.exec(name)!;
  const prefix = name.slice(0, match.index) + `${match[1]}${match[2]}.*`;
  return wholeLayer ? prefix : prefix + name.slice(match.index + match[0].length - match[4]!.length);
}

function missingGroup(ref: TensorLayout, input: LayoutDiffInput) {
  return {
    code: "layout.missing",
    severity: "warning" as const,
    action: "skip" as const,
    base: layoutText(ref),
    value: null,
    explain: (where: string) => ({
      message: `${input.model.name} has no ${where}; the merge leaves it out of that tensor`,
      fix: "expected only if the model never had this tensor; otherwise check its files (a missing shard?)",
    }),
  };
}

function extraGroup(other: TensorLayout, input: LayoutDiffInput) {
  return {
    code: "layout.extra",
    severity: "info" as const,
    action: "ignore" as const,
    base: null,
    value: layoutText(other),
    explain: (where: string) => ({
      message: `${input.model.name} has ${where}, which ${input.reference.name} lacks; it is ignored`,
      fix: "nothing to do unless the output should contain it (the output has the reference's tensors)",
    }),
  };
}

function shapeGroup(name: string, ref: TensorLayout, other: TensorLayout, input: LayoutDiffInput) {
  if (sameShape(ref.shape, other.shape)) return undefined;
  const base = `[${ref.shape.join(", ")}]`;
  const value = `[${other.shape.join(", ")}]`;
  const shapes = `${value} vs ${base} in ${input.reference.name}`;
  const common = { code: "layout.shape", base, value };
  if (!isDecodableDType(ref.dtype)) {
    const explain = (where: string) => ({
      message: `${where} is ${shapes}; it is not a float tensor, so the reference's is copied`,
      fix: "nothing to do",
    });
    return { ...common, severity: "info" as const, action: "ignore" as const, explain };
  }
  const method = input.method.name;
  const vocabOnly = isEmbeddingTensor(name) && sameShape(ref.shape.slice(1), other.shape.slice(1));
  if (vocabOnly && input.tokenizer) {
    const explain = (where: string) => ({
      message: `${where} is ${shapes}; \`${input.tokenizer}\` re-indexes it to the output vocabulary`,
      fix: "nothing to do: the tokenizer settings reconcile the vocabularies",
    });
    return { ...common, severity: "info" as const, action: "ignore" as const, explain };
  }
  const union = vocabOnly ? "; or add `tokenizer_source: union` to merge the vocabularies" : "";
  if (input.method.shapePolicy === "strict") {
    const explain = (where: string) => ({
      message: `${where} is ${shapes}; ${method} needs identical shapes and fails`,
      fix: `merge fine-tunes of one backbone, or use a task-arithmetic method if only the vocabulary differs${union}`,
    });
    return { ...common, severity: "blocking" as const, action: "error" as const, explain };
  }
  if (isEmbeddingTensor(name) && covers(other.shape, ref.shape)) {
    const explain = (where: string) => ({
      message: `${where} is ${shapes}; ${method} cuts it to the reference's shape (the extra rows are dropped)`,
      fix: `fine if the added tokens are not needed in the merge${union}`,
    });
    return { ...common, severity: "warning" as const, action: "truncate" as const, explain };
  }
  const explain = (where: string) => ({
    message: isEmbeddingTensor(name)
      ? `${where} is ${shapes}; it does not cover the reference's rows, so ${method} leaves this model out of it`
      : `${where} is ${shapes}: another architecture; ${method} would silently leave this model out of it`,
    fix: isEmbeddingTensor(name)
      ? "use a model whose vocabulary includes the base's"
      : `merge only fine-tunes of ${input.reference.name}`,
  });
  const severity = isEmbeddingTensor(name) ? ("warning" as const) : ("blocking" as const);
  return { ...common, severity, action: "skip" as const, explain };
}

function dtypeGroup(ref: TensorLayout, other: TensorLayout) {
  if (ref.dtype === other.dtype) return undefined;
  const common = { code: "layout.dtype", base: ref.dtype, value: other.dtype };
  if (isDecodableDType(ref.dtype) && !isDecodableDType(other.dtype)) {
    const explain = (where: string) => ({
      message: `${where} is ${other.dtype}, the reference's ${ref.dtype}; it cannot be decoded to merge`,
      fix: "convert the model to a float dtype (F32, F16, BF16), e.g. dequantize it first",
    });
    return { ...common, severity: "blocking" as const, action: "error" as const, explain };
  }
  const explain = (where: string) => ({
    message: `${where} is ${other.dtype}, the reference's ${ref.dtype}; both are read as f32, so it does not matter`,
    fix: "nothing to do (out_dtype chooses the output dtype)",
  });
  return { ...common, severity: "info" as const, action: "ignore" as const, explain };
}

function foldGroups(groups: Group[], input: LayoutDiffInput): Finding[] {
  const findings: Finding[] = [];
  const perCode = new Map<string, Group[]>();
  for (const group of groups) perCode.set(group.code, [...(perCode.get(group.code) ?? []), group]);
  for (const [code, list] of perCode) {
    for (const group of list.slice(0, MAX_GROUPS_PER_CODE)) findings.push(groupFinding(group, input));
    const rest = list.slice(MAX_GROUPS_PER_CODE);
    if (rest.length === 0) continue;
    const worst = rest.some((g) => g.severity === "blocking") ? "blocking" : rest[0]!.severity;
    const count = rest.reduce((n, g) => n + g.tensors.length, 0);
    findings.push({
      severity: worst,
      code,
      model: input.model.name,
      base: null,
      value: null,
      tensor: rest[0]!.tensors[0],
      message: `${count} more tensor(s) like the above (first: ${rest[0]!.tensors[0]})`,
      fix: rest[0]!.explain(rest[0]!.tensors[0]!).fix,
      pos: input.model.pos,
      action: rest[0]!.action,
    });
  }
  return findings;
}

function groupFinding(group: Group, input: LayoutDiffInput): Finding {
  const layers = new Set(group.layers).size;
  let where = group.tensors[0] ?? group.pattern;
  if (layers > 0 && group.tensors.length > layers) {
    where = `${group.pattern} (${group.tensors.length} tensors in layers ${formatLayers(group.layers)})`;
  } else if (layers > 1) {
    where = `${group.pattern} (in ${layers} layers: ${formatLayers(group.layers)})`;
  }
  const { message, fix } = group.explain(where);
  return {
    severity: group.severity,
    code: group.code,
    model: input.model.name,
    tensor: group.tensors.length > 1 ? group.pattern : group.tensors[0],
    base: group.base,
    value: group.value,
    message,
    fix,
    pos: input.model.pos,
    action: group.action,
  };
}

/** `0–3, 7, 9–10` */
export function formatLayers(layers: readonly number[]): string {
  const sorted = [...new Set(layers)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

function layoutText(layout: TensorLayout): string {
  return `${layout.dtype} [${layout.shape.join(", ")}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
