import { describe, expect, it } from "vitest";
import { defineTaskFamilyMethod, isEmbeddingTensor } from "../../../src/merge/methods/task-family.js";
import { taskArithmeticMethod } from "../../../src/merge/methods/task-arithmetic.js";
import { tiesMethod } from "../../../src/merge/methods/ties.js";
import { dellaMethod } from "../../../src/merge/methods/della.js";
import { f32s, taskContext } from "./task-context.js";

const f32 = Math.fround;

describe("the task-arithmetic family", () => {
  it("declares mergekit's parameters", () => {
    const names = (specs: { name: string }[]) => specs.map((spec) => spec.name);
    expect(names(taskArithmeticMethod.globalParams)).toEqual(["int8_mask", "normalize", "rescale", "lambda"]);
    expect(names(taskArithmeticMethod.perModelParams)).toEqual(["weight", "density"]);
    expect(taskArithmeticMethod.perModelParams[0]).toMatchObject({ required: true });
    expect(taskArithmeticMethod.perModelParams[1]).toMatchObject({ default: 1 });
    expect(taskArithmeticMethod).toMatchObject({ base: "required", minModels: 1 });
  });

  it("returns a copy of the base when no model can contribute", () => {
    const ctx = taskContext({
      base: { data: [1, 2, 3, 4], shape: [2, 2] },
      models: [{ model: "org/odd", data: [1, 2, 3, 4, 5, 6], shape: [2, 3], params: { weight: 1 } }],
    });
    const out = taskArithmeticMethod.merge(ctx);
    expect(out).toEqual(f32s([1, 2, 3, 4]));
    expect(out).not.toBe(ctx.base!.data);
    expect(ctx.warnings).toEqual([
      "org/odd: model.layers.0.mlp.up_proj.weight is [2, 3] vs the base's [2, 2]; skipping this model for this tensor",
    ]);
  });

  it("skips a model whose non-embedding tensor has another shape, keeping the others", () => {
    const ctx = taskContext({
      base: [1, 1],
      models: [
        { model: "org/odd", data: [5, 5, 5], params: { weight: 1 } },
        { model: "org/ok", data: [2, 0.5], params: { weight: 1 } },
      ],
    });
    expect(taskArithmeticMethod.merge(ctx)).toEqual(f32s([2, 0.5]));
    expect(ctx.warnings).toHaveLength(1);
    expect(ctx.warnings[0]).toContain("org/odd");
  });

  it("cuts a larger embedding to the base's rows and columns, with a warning", () => {
    const ctx = taskContext({
      tensorName: "model.embed_tokens.weight",
      base: { data: [0, 0, 0, 0, 0, 0], shape: [3, 2] },
      models: [
        {
          model: "org/big-vocab",
          data: [1, 2, 9, 3, 4, 9, 5, 6, 9, 7, 8, 9],
          shape: [4, 3],
          params: { weight: 0.5 },
        },
      ],
    });
    expect(taskArithmeticMethod.merge(ctx)).toEqual(f32s([0.5, 1, 1.5, 2, 2.5, 3]));
    expect(ctx.warnings).toEqual([
      "org/big-vocab: model.embed_tokens.weight is [4, 3] vs the base's [3, 2]; using its leading rows and columns",
    ]);
    expect(
      [
        "lm_head.weight",
        "transformer.wte.weight",
        "bert.embeddings.word_embeddings.weight",
        "gpt_neox.embed_out.weight",
      ].every(isEmbeddingTensor),
    ).toBe(true);
    expect(isEmbeddingTensor("model.norm.weight")).toBe(false);
  });

  it("skips a smaller embedding (it cannot be cut to the base's shape)", () => {
    const ctx = taskContext({
      tensorName: "lm_head.weight",
      base: { data: [0, 0, 0, 0], shape: [2, 2] },
      models: [{ model: "org/small", data: [1, 2], shape: [1, 2], params: { weight: 1 } }],
    });
    expect(taskArithmeticMethod.merge(ctx)).toEqual(f32s([0, 0, 0, 0]));
    expect(ctx.warnings[0]).toContain("skipping");
  });

  it("normalises by Σw, using 1 when the weights cancel", () => {
    const models = [
      { model: "a", data: [1.5, 2], params: { weight: 1 } },
      { model: "b", data: [1, 3], params: { weight: -1 } },
    ];
    const ctx = taskContext({ base: [1, 1], models, global: { normalize: true } });
    expect(taskArithmeticMethod.merge(ctx)).toEqual(f32s([1.5, 0]));
    const weighted = taskContext({
      base: [1, 1],
      models: [models[0]!, { ...models[1]!, params: { weight: 2 } }],
      global: { normalize: true },
    });
    expect(taskArithmeticMethod.merge(weighted)).toEqual(f32s([f32(1 + f32(0.5 / 3)), f32(1 + f32(5 / 3))]));
  });

  it("uses a per-element divisor of 1 where no model agrees (TIES with zero deltas)", () => {
    const ctx = taskContext({
      base: [1, 1],
      models: [
        { model: "a", data: [1, 3], params: { weight: 0 } },
        { model: "b", data: [1, 2], params: { weight: 0 } },
      ],
    });
    expect(tiesMethod.merge(ctx)).toEqual(f32s([1, 1]));
  });

  it("validates parameters per model and tensor", () => {
    const merge = (params: Record<string, number | boolean | string>, global = {}) =>
      dellaMethod.merge(
        taskContext({ base: [0, 0], models: [{ model: "org/m", data: [1, 2], params }], global }),
      );
    const expectError = (run: () => unknown, text: string) => {
      try {
        run();
        expect.unreachable();
      } catch (error) {
        expect(error).toMatchObject({
          code: "E_MERGE",
          where: { tensor: "model.layers.0.mlp.up_proj.weight" },
        });
        expect((error as Error).message).toContain(text);
      }
    };
    expectError(() => merge({ density: 0.5 }), "weight is required");
    expectError(() => merge({ weight: 1, density: 1.5 }), "density 1.5");
    expectError(() => merge({ weight: "x" }), "finite number");
    expectError(() => merge({ weight: 1, density: 0.1, epsilon: 0.15 }), "epsilon");
    expectError(() => merge({ weight: 1 }, { normalize: "yes" }), "true or false");
    expectError(() => merge({ weight: 1 }, { lambda: Number.NaN }), "lambda");
    expect(() => merge({ weight: 1, density: 0.1, epsilon: 0.15 })).toThrow(
      expect.objectContaining({ where: expect.objectContaining({ model: "org/m" }) }),
    );
  });

  it("requires a base", () => {
    const ctx = { ...taskContext({ base: [0], models: [] }), base: undefined };
    expect(() => taskArithmeticMethod.merge(ctx)).toThrow(expect.objectContaining({ code: "E_MERGE" }));
  });

  it("builds methods from a definition", () => {
    const custom = defineTaskFamilyMethod({
      name: "x",
      prettyName: "X",
      reference: "https://example.org",
      summary: "x",
      sparsification: "magnitude",
      consensus: "count",
      defaultNormalize: true,
      defaultRescale: false,
    });
    const ctx = taskContext({
      base: [0, 0],
      models: [
        { model: "a", data: [1, 1], params: { weight: 1 } },
        { model: "b", data: [1, -5], params: { weight: 1 } },
        { model: "c", data: [-9, -1], params: { weight: 1 } },
      ],
    });
    // count: element 0 has two positives (+1), element 1 two negatives (−1).
    expect(custom.merge(ctx)).toEqual(f32s([1, -3]));
  });
});
