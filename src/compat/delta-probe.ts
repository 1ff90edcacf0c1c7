/**
 * The delta probe: does each model's weights actually derive from the reference's? Same-shape
 * models from another pre-training (WizardLM-7B on LLaMA-1 vs Llama-2-7B) pass every config and
 * layout check; a few sampled rows tell them apart, because fine-tuning moves weights by a few
 * thousandths while an independent training run shares no direction with them at all.
 */
import type { Pos } from "../manifest/types.js";
import type { LoadedModel } from "../merge/loaded-model.js";
import { elementCount } from "../merge/kernels/layout.js";
import { isEmbeddingTensor } from "../merge/methods/task-family.js";
import type { MergeMethod } from "../merge/types.js";
import { isDecodableDType } from "../safetensors/dtype.js";
import { tensorTable, type TensorTable } from "./layout-diff.js";
import { planProbeSample, type SampleBlock, type SampledTensor } from "./probe-sample.js";
import { compareSamples, median } from "./probe-stats.js";
import type { Finding, ProbeModelResult, ProbeTensorStats } from "./report.js";
import { SampleReader } from "./sample-reader.js";
import type { CompatThresholds, ProbeOptions } from "./thresholds.js";

export const DARE_PAPER = "arXiv 2311.03099";

export interface ProbeModel {
  name: string;
  loaded: LoadedModel;
}

export interface ProbeInput {
  reference: ProbeModel & { layerCount: number };
  others: readonly ProbeModel[];
  options: ProbeOptions;
}

/** Samples every model against the reference; reads at most options.maxBytesPerModel from each. */
export async function runDeltaProbe(input: ProbeInput): Promise<ProbeModelResult[]> {
  const referenceTable = tensorTable(input.reference.loaded.tensors);
  const tables = input.others.map((m) => tensorTable(m.loaded.tensors));
  const plan = planProbeSample({
    reference: referenceTable,
    referenceLayers: input.reference.layerCount,
    others: tables,
    options: input.options,
  });
  const baseReader = new SampleReader(input.reference.loaded);
  const baseSamples = new Map<string, Promise<Float32Array>>();
  const baseSample = (tensor: SampledTensor) => {
    if (!baseSamples.has(tensor.name))
      baseSamples.set(tensor.name, baseReader.read(tensor.name, tensor.blocks));
    return baseSamples.get(tensor.name)!;
  };
  try {
    // Every sample of every model is requested at once: over a link with a first-byte latency,
    // reading them one after another would cost a round trip each (the reads are a few MB).
    const probeModel = async (model: ProbeInput["others"][number], i: number) => {
      const reader = new SampleReader(model.loaded);
      try {
        const compared = await Promise.all(
          plan.map(async (tensor): Promise<ProbeTensorStats | undefined> => {
            const limit = comparableElements(referenceTable, tables[i]!, tensor.name);
            const blocks = clipBlocks(tensor.blocks, limit);
            if (blocks.length === 0) return undefined;
            const [full, tuned] = await Promise.all([baseSample(tensor), reader.read(tensor.name, blocks)]);
            const base = sliceLike(full, tensor.blocks, blocks);
            return { tensor: tensor.name, kind: tensor.kind, ...compareSamples(base, tuned) };
          }),
        );
        const tensors = compared.filter((t) => t !== undefined);
        return summarise(model.name, input.reference.name, reader.bytesRead, tensors);
      } finally {
        await reader.close();
      }
    };
    const settled = await Promise.allSettled(input.others.map(probeModel));
    const failed = settled.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<ProbeModelResult>).value);
  } finally {
    await baseReader.close();
  }
}

/**
 * Elements the two tensors share in row-major order, 0 when they cannot be compared. Only
 * embeddings may differ, in rows (another vocabulary): their common rows are compared.
 */
function comparableElements(reference: TensorTable, model: TensorTable, name: string): number {
  const a = reference.get(name);
  const b = model.get(name);
  if (!a || !b || !isDecodableDType(b.dtype) || a.shape.length !== b.shape.length) return 0;
  const rowLength = elementCount(a.shape.slice(1));
  if (a.shape.every((d, i) => d === b.shape[i])) return a.shape[0]! * rowLength;
  if (!isEmbeddingTensor(name) || a.shape.slice(1).some((d, i) => d !== b.shape[i + 1])) return 0;
  return Math.min(a.shape[0]!, b.shape[0]!) * rowLength;
}

function clipBlocks(blocks: readonly SampleBlock[], limit: number): SampleBlock[] {
  return blocks
    .filter((b) => b.offset < limit)
    .map((b) => ({ offset: b.offset, length: Math.min(b.length, limit - b.offset) }));
}

/** The parts of a sample read as `full` blocks that the `clipped` blocks (a prefix of each) cover. */
function sliceLike(
  sample: Float32Array,
  full: readonly SampleBlock[],
  clipped: readonly SampleBlock[],
): Float32Array {
  if (clipped.every((b, i) => b.length === full[i]!.length) && clipped.length === full.length) return sample;
  const out = new Float32Array(clipped.reduce((n, b) => n + b.length, 0));
  let from = 0;
  let to = 0;
  clipped.forEach((block, i) => {
    out.set(sample.subarray(from, from + block.length), to);
    from += full[i]!.length;
    to += block.length;
  });
  return out;
}

function summarise(
  model: string,
  reference: string,
  bytesRead: number,
  tensors: ProbeTensorStats[],
): ProbeModelResult {
  const result: ProbeModelResult = { model, reference, bytesRead, tensors };
  const usable = tensors.filter((t) => t.elements > 0);
  if (usable.length > 0) {
    result.summary = {
      cosine: median(usable.map((t) => t.cosine)),
      relativeDelta: median(usable.map((t) => t.relativeDelta)),
      p99AbsDelta: median(usable.map((t) => t.p99AbsDelta)),
      maxAbsDelta: Math.max(...usable.map((t) => t.maxAbsDelta)),
    };
  }
  return result;
}

export interface JudgeContext {
  pos?: Pos;
  method: Pick<MergeMethod, "name" | "dropsAtRandom">;
  thresholds: CompatThresholds;
}

/** Turns one model's probe numbers into findings. */
export function judgeProbe(result: ProbeModelResult, ctx: JudgeContext): Finding[] {
  const { summary } = result;
  const at = { model: result.model, pos: ctx.pos };
  if (!summary) {
    return [
      {
        ...at,
        severity: "info",
        code: "probe.skipped",
        base: null,
        value: null,
        message: `no sampled tensor of ${result.model} could be compared with ${result.reference}`,
        fix: "see the layout findings: the tensors differ in name, shape or dtype",
      },
    ];
  }
  const t = ctx.thresholds;
  const measured = {
    cosine: summary.cosine,
    relativeDelta: summary.relativeDelta,
    p99AbsDelta: summary.p99AbsDelta,
  };
  const worst = result.tensors.reduce((a, b) => (b.cosine < a.cosine ? b : a));
  if (summary.cosine < t.unrelatedCosine || summary.relativeDelta > t.unrelatedRelativeDelta) {
    return [
      {
        ...at,
        severity: "blocking",
        code: "probe.unrelated",
        tensor: worst.tensor,
        base: { cosine: `≥ ${t.unrelatedCosine}`, relativeDelta: `≤ ${t.unrelatedRelativeDelta}` },
        value: measured,
        message:
          `${result.model} is not derived from ${result.reference}: over ${result.tensors.length} sampled tensors ` +
          `the median cosine is ${fixed(summary.cosine)} (fine-tunes ≈ 1) and ‖δ‖/‖θ₀‖ ${fixed(summary.relativeDelta)} ` +
          `(unrelated weights ≈ √2 ≈ 1.41); lowest in ${worst.tensor}`,
        fix:
          `use a fine-tune of ${result.reference}, or make this model's own base the base_model ` +
          "(same shapes, another pre-training: the WizardLM-7B vs Llama-2-7B case of the DARE paper)",
      },
    ];
  }
  if (result.tensors.every((x) => x.maxAbsDelta === 0)) {
    return [
      {
        ...at,
        severity: "info",
        code: "probe.identical",
        base: 0,
        value: 0,
        message: `every sampled weight of ${result.model} equals ${result.reference}'s`,
        fix: "check the reference: this model would add nothing to the merge",
      },
    ];
  }
  if (summary.p99AbsDelta >= t.continuedPretrainingDelta || summary.cosine < t.distantCosine) {
    return [continuedPretraining(result, summary, ctx, measured)];
  }
  return [];
}

function continuedPretraining(
  result: ProbeModelResult,
  summary: NonNullable<ProbeModelResult["summary"]>,
  ctx: JudgeContext,
  measured: Record<string, number>,
): Finding {
  const t = ctx.thresholds;
  const fix = ctx.method.dropsAtRandom
    ? `${ctx.method.name} drops delta elements at random, which the paper finds fails at this scale: raise this model's density (≥ 0.5) or use ties / task_arithmetic`
    : "merging works, but DARE at high drop rates would likely hurt this model: keep density high if you switch to dare_*";
  const largest = result.tensors.reduce((a, b) => (b.p99AbsDelta > a.p99AbsDelta ? b : a));
  return {
    severity: "warning",
    code: "probe.continued-pretraining",
    model: result.model,
    tensor: largest.tensor,
    pos: ctx.pos,
    base: { p99AbsDelta: `< ${t.continuedPretrainingDelta}`, cosine: `≥ ${t.distantCosine}` },
    value: measured,
    message:
      `${result.model} moved far from ${result.reference}: median p99 |δ| ${fixed(summary.p99AbsDelta)}, cosine ` +
      `${fixed(summary.cosine)} (largest in ${largest.tensor}); the DARE paper (${DARE_PAPER}) sees SFT deltas within about 0.002–0.005 and ` +
      "continued pre-training at about 0.03, where DARE with high drop rates fails",
    fix,
  };
}

function fixed(x: number): string {
  return Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(3) : x.toPrecision(2);
}
