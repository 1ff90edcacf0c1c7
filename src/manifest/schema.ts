/**
 * The manifest's shape as zod schemas, applied to the YAML document's plain JS value. Every
 * issue keeps the path of the offending node, which the parser turns into a line and column.
 * Custom issues carry `params.hint` (how to fix it) and either `params.sentence` (the message is
 * complete) or `params.subject` (how many trailing path segments lie inside the named value).
 */
import * as z from "zod";
import { isHubmergeError } from "../errors.js";
import { parseDType } from "./dtype.js";
import { parseModelRef, repoIdProblem } from "../model-ref.js";
import type { ModelRef } from "../model-ref.js";
import { paramSettingsSchema } from "./param-setting.js";
import { parseSeed, SEED_HINT } from "./seed.js";
import { tokenizerBlockSchema } from "./tokenizer-schema.js";

export const DEFAULT_SEED = 42n;

type Ctx = z.core.$RefinementCtx;

function fail(ctx: Ctx, message: string, hint: string, path: (string | number)[] = []): never {
  ctx.addIssue({ code: "custom", message, path, params: { hint, subject: path.length } });
  return z.NEVER;
}

function modelRefSchema(manifestDir: string) {
  return z.string().transform((raw, ctx): ModelRef => {
    try {
      return parseModelRef(raw, manifestDir);
    } catch (error) {
      if (!isHubmergeError(error)) throw error;
      ctx.addIssue({ code: "custom", message: error.message, params: { hint: error.hint, sentence: true } });
      return z.NEVER;
    }
  });
}

const dtypeSchema = z.string().transform((name, ctx) => {
  const parsed = parseDType(name);
  if (parsed === undefined) {
    return fail(ctx, `is "${name}", not a dtype`, "Use `bfloat16`, `float16` or `float32`.");
  }
  return parsed.dtype;
});

const layerIndexHint =
  "`layer_range: [start, end]` takes layers start … end−1: whole numbers ≥ 0 with start < end.";

const layerRangeSchema = z.unknown().transform((value, ctx): [number, number] => {
  if (value === undefined) {
    // Reported like any missing key: "`…sources[0]` has no `layer_range`".
    ctx.addIssue({ code: "invalid_type", expected: "array", input: value });
    return z.NEVER;
  }
  if (!Array.isArray(value) || value.length !== 2) {
    return fail(ctx, "must be a list of two layer indices [start, end]", layerIndexHint);
  }
  for (const [index, bound] of value.entries()) {
    if (typeof bound !== "number" || !Number.isSafeInteger(bound) || bound < 0) {
      return fail(
        ctx,
        `has ${JSON.stringify(bound)} where a layer index (whole number ≥ 0) belongs`,
        layerIndexHint,
        [index],
      );
    }
  }
  const [start, end] = value as [number, number];
  if (start >= end) {
    return fail(
      ctx,
      `is [${start}, ${end}]: the end is exclusive, so it must be greater than the start`,
      layerIndexHint,
    );
  }
  return [start, end];
});

const seedSchema = z.unknown().transform((value, ctx) => {
  const parsed = parseSeed(value);
  return "seed" in parsed ? parsed.seed : fail(ctx, parsed.problem, SEED_HINT);
});

const outputRepoSchema = z.string().transform((repo, ctx) => {
  const problem = repoIdProblem(repo, true);
  if (problem !== undefined) {
    return fail(
      ctx,
      `"${repo}" is not a Hub repo id: it ${problem}`,
      "Write the output repo as `org/name`, without `@revision`.",
    );
  }
  return repo;
});

/** `x:` with nothing after it reads as "use the defaults". */
function nullAsEmpty<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => value ?? {}, schema);
}

const outputSchema = z.strictObject({
  repo: outputRepoSchema,
  private: z.boolean().default(false),
  license: z.string().min(1).optional(),
  overwrite: z.boolean().default(false),
});

const cardSchema = z
  .strictObject({
    title: z.string().optional(),
    description: z.string().optional(),
    tags: z.array(z.string().min(1)).nullish(),
    include_manifest: z.boolean().default(true),
  })
  .transform((card) => ({
    title: card.title,
    description: card.description,
    tags: card.tags ?? [],
    includeManifest: card.include_manifest,
  }));

export const hubmergeSchema = z
  .strictObject({
    output: outputSchema.nullish(),
    seed: seedSchema.optional(),
    dare_rescale: z.enum(["paper", "l1"]).default("paper"),
    allow_incompatible: z.boolean().default(false),
    card: nullAsEmpty(cardSchema),
    // How many runners the Action splits the merge over (docs/parts.md); absent: one.
    parts: z.union([z.literal("auto"), z.number().int().positive()]).optional(),
  })
  .transform((block) => ({
    output: block.output ?? undefined,
    seed: block.seed ?? DEFAULT_SEED,
    dareRescale: block.dare_rescale,
    allowIncompatible: block.allow_incompatible,
    card: block.card,
    ...(block.parts !== undefined && { parts: block.parts }),
  }));

function tokenizerSourceSchema(manifestDir: string) {
  return z.string().transform((source, ctx) => {
    if (source === "base" || source === "union") return source;
    try {
      parseModelRef(source, manifestDir);
      return source;
    } catch (error) {
      if (!isHubmergeError(error)) throw error;
      return fail(
        ctx,
        `is neither \`base\`, \`union\` nor a usable model reference: ${error.message.replace(/\.$/, "")}`,
        error.hint ?? "Write `base`, `union` or a model reference such as `org/name`.",
      );
    }
  });
}

export function buildManifestSchema(manifestDir: string) {
  const modelRef = modelRefSchema(manifestDir);
  const modelEntry = z.looseObject({ model: modelRef, parameters: paramSettingsSchema });
  const source = z.looseObject({
    model: modelRef,
    layer_range: layerRangeSchema,
    parameters: paramSettingsSchema,
  });
  const slice = z.looseObject({
    sources: z.array(source).min(1),
    base_model: modelRef.optional(),
    // mergekit's Optional[float]: a number or null, read by nothing (keys.ts warns).
    residual_weight: z.number().nullish(),
    parameters: paramSettingsSchema,
  });
  // keys.ts has already checked that each module has exactly one of `models` and `slices`.
  const module = z.looseObject({
    models: z.array(modelEntry).min(1).optional(),
    slices: z.array(slice).min(1).optional(),
    parameters: paramSettingsSchema,
  });
  return z.looseObject({
    merge_method: z.string().min(1),
    base_model: modelRef.optional(),
    models: z.array(modelEntry).min(1).optional(),
    slices: z.array(slice).min(1).optional(),
    modules: z.record(z.string(), module).optional(),
    parameters: paramSettingsSchema,
    dtype: dtypeSchema.optional(),
    out_dtype: dtypeSchema.optional(),
    tokenizer_source: tokenizerSourceSchema(manifestDir).optional(),
    tokenizer: tokenizerBlockSchema(modelRef).optional(),
    chat_template: z.string().min(1).optional(),
    hubmerge: nullAsEmpty(hubmergeSchema),
  });
}

export type RawManifest = z.output<ReturnType<typeof buildManifestSchema>>;
