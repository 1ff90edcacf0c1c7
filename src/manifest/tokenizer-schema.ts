/**
 * mergekit's tokenizer settings: `tokenizer_source: base | union | <model>`, or the `tokenizer:`
 * block (`source`, `tokens`, `pad_to_multiple_of`). Both forms become one `TokenizerSettings`;
 * mergekit refuses a manifest with both, and so does this schema (in parse.ts).
 */
import * as z from "zod";
import type { ModelRef } from "../model-ref.js";

/** Where the embedding row of one token comes from when a model lacks it (or `force` says so). */
export type TokenSource =
  /** That model's row for the same token. */
  | { kind: "model"; model: ModelRef }
  /** That model's row for another token, named by its text or its id in that model's vocabulary. */
  | { kind: "model_token"; model: ModelRef; token?: string; tokenId?: number }
  | { kind: "zero" };

export interface TokenSetting {
  source: TokenSource;
  /** Use the source's row even in models that have the token. */
  force: boolean;
}

export type TokenizerSourceSetting = "base" | "union" | ModelRef;

export interface TokenizerBlock {
  source: TokenizerSourceSetting;
  /** Token text → setting, in manifest order; each token is added to the output vocabulary. */
  tokens: [string, TokenSetting][];
  padToMultipleOf?: number;
}

type Ctx = z.core.$RefinementCtx;

const TOKEN_HINT =
  'Write `source: org/model`, `source: {kind: model_token, model: org/model, token: "<s>"}` ' +
  "(or `token_id: 1`), or `source: {kind: zero}`.";

function fail(ctx: Ctx, message: string, hint: string, path: (string | number)[] = []): never {
  ctx.addIssue({ code: "custom", message, path, params: { hint, subject: path.length } });
  return z.NEVER;
}

function isPlain(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `base`, `union`, or a model reference checked by `modelRef`. */
export function tokenizerSourceValue(modelRef: z.ZodType<ModelRef, unknown>) {
  return z.union([z.literal("base"), z.literal("union"), modelRef]);
}

function tokenSourceSchema(modelRef: z.ZodType<ModelRef, unknown>) {
  const modelToken = z
    .strictObject({
      kind: z.literal("model_token"),
      model: modelRef,
      token: z.string().min(1).optional(),
      token_id: z.number().int().nonnegative().optional(),
    })
    .transform((value, ctx): TokenSource => {
      if ((value.token === undefined) === (value.token_id === undefined)) {
        return fail(ctx, "needs exactly one of `token` and `token_id`", TOKEN_HINT);
      }
      return {
        kind: "model_token",
        model: value.model,
        ...(value.token !== undefined && { token: value.token }),
        ...(value.token_id !== undefined && { tokenId: value.token_id }),
      };
    });
  const zero = z.strictObject({ kind: z.literal("zero") }).transform((): TokenSource => ({ kind: "zero" }));
  const model = modelRef.transform((ref): TokenSource => ({ kind: "model", model: ref }));
  return z.unknown().transform((value, ctx): TokenSource => {
    if (value === undefined || value === null) {
      // mergekit accepts a missing source and then fails while merging; say so before.
      return fail(ctx, "is missing: each token needs a source", TOKEN_HINT);
    }
    const kind = isPlain(value) ? value.kind : undefined;
    const schema =
      typeof value === "string"
        ? model
        : kind === "model_token"
          ? modelToken
          : kind === "zero"
            ? zero
            : undefined;
    if (schema === undefined) {
      return fail(
        ctx,
        "is neither a model reference nor `{kind: model_token, ...}` / `{kind: zero}`",
        TOKEN_HINT,
      );
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    const path = issue.path.filter((k): k is string | number => typeof k !== "symbol");
    return fail(ctx, issue.message, TOKEN_HINT, path);
  });
}

const padSchema = z.unknown().transform((value, ctx): number | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 1) return value;
  return fail(
    ctx,
    `is ${JSON.stringify(value)}, not a whole number ≥ 1`,
    "Write the multiple the vocabulary is padded to, e.g. `pad_to_multiple_of: 64`.",
  );
});

/** The `tokenizer:` block, with mergekit's defaults (`source: union`). */
export function tokenizerBlockSchema(modelRef: z.ZodType<ModelRef, unknown>) {
  const setting = z.strictObject({
    source: tokenSourceSchema(modelRef),
    force: z.boolean().default(false),
  });
  return z
    .strictObject({
      source: tokenizerSourceValue(modelRef).default("union"),
      tokens: z.record(z.string().min(1), setting).nullish(),
      pad_to_multiple_of: padSchema.optional(),
    })
    .transform((block): TokenizerBlock => ({
      source: block.source,
      tokens: Object.entries(block.tokens ?? {}),
      ...(block.pad_to_multiple_of != null && { padToMultipleOf: block.pad_to_multiple_of }),
    }));
}
