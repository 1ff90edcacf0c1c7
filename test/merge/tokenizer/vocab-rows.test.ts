import { describe, expect, it } from "vitest";
import {
  buildOutputVocab,
  permutationOf,
  type SourceVocab,
} from "../../../src/merge/tokenizer/output-vocab.js";
import { reindexRows } from "../../../src/merge/tokenizer/reindex-rows.js";
import { planRows, type RowParticipant } from "../../../src/merge/tokenizer/row-plan.js";
import { tokenizerFiles } from "../../../src/merge/tokenizer/tokenizer-files.js";
import { parseVocab } from "../../../src/merge/tokenizer/vocab.js";
import { modelKey, parseModelRef } from "../../../src/model-ref.js";

function bpe(vocab: string[], added: [number, string][] = [], merges: string[] = []) {
  return {
    model: { type: "BPE", vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), merges },
    added_tokens: added.map(([id, content]) => ({ id, content, special: true, normalized: false })),
  };
}
const source = (ref: string, json: unknown, size?: number): SourceVocab => {
  const vocab = parseVocab(json, ref);
  return { ref, vocab, size: size ?? vocab.ids.size };
};

describe("output vocabulary", () => {
  const base = source("base", bpe(["a", "b", "c", "ab", "pad"], [], ["a b"]), 4); // `pad` has no row
  const chat = source("chat", bpe(["a", "b", "c", "ab", "x"], [[5, "<|im_end|>"]]));
  const other = source("other", bpe(["b", "a", "y"], [[3, "<|im_end|>"]]));

  it("base: the base's tokens below its vocab_size; the files drop the rest and its merges", () => {
    const out = buildOutputVocab({ kind: "base" }, base, [chat], []);
    expect([...out.ids]).toEqual([
      ["a", 0],
      ["b", 1],
      ["c", 2],
      ["ab", 3],
    ]);
    const files = tokenizerFiles(out, { model_max_length: 8 }, "base");
    const json = JSON.parse(new TextDecoder().decode(files.files.get("tokenizer.json"))) as {
      model: { vocab: object };
    };
    expect(Object.keys(json.model.vocab)).toEqual(["a", "b", "c", "ab"]);
    expect(files.drop).toEqual(["added_tokens.json"]);
  });

  it("union: other sources' plain tokens first (in source order, by id), then added tokens once", () => {
    const out = buildOutputVocab({ kind: "union" }, base, [chat, other], ["<tok>"]);
    expect([...out.ids].slice(4)).toEqual([
      ["x", 4],
      ["y", 5],
      ["<|im_end|>", 6],
      ["<tok>", 7],
    ]);
    expect(out.appended.map((t) => [t.content, t.special, t.normalized])).toEqual([
      ["x", false, true],
      ["y", false, true],
      ["<|im_end|>", true, false],
      ["<tok>", false, true],
    ]);
    expect([...permutationOf(out, other)]).toEqual([1, 0, -1, -1, -1, 2, 3, -1]);
    expect([...permutationOf(out, base)]).toEqual([0, 1, 2, 3, -1, -1, -1, -1]);
  });
});

describe("row plan and re-indexing", () => {
  const ref = (raw: string) => parseModelRef(raw, "/");
  const part = (raw: string, permutation: number[]): RowParticipant => ({
    ref: raw,
    key: `hub:${raw}@`,
    permutation: Int32Array.from(permutation),
    ids: new Map(),
    tensorRows: 3,
  });
  // Output tokens 0..3: all have 0; only a has 1; b and c have 2; nobody has 3.
  const participants = [
    part("org/a", [0, 1, -1, -1]),
    part("org/b", [0, -1, 1, -1]),
    part("org/c", [0, -1, 2, -1]),
  ];
  const input = { outputIds: new Map(), length: 4, rows: 5, tokens: [], where: () => ({}) };

  it("fills as mergekit: the only holder's row, zeros, the base's row, else the mean", () => {
    const plan = planRows({ participants, ...input });
    expect(plan.fills.get(0)).toBeUndefined();
    expect(plan.fills.get(1)).toEqual({ kind: "row", model: 0, row: 1 });
    expect(plan.fills.get(2)).toEqual({
      kind: "mean",
      from: [
        { model: 1, row: 1 },
        { model: 2, row: 2 },
      ],
    });
    expect(plan.fills.get(3)).toEqual({ kind: "zero" });
    expect(planRows({ participants, ...input, baseKey: modelKey(ref("org/c")) }).fills.get(2)).toEqual({
      kind: "row",
      model: 2,
      row: 2,
    });
  });

  it("writes own rows as bytes, defaults in f32, padding as the mean row", () => {
    const plan = planRows({ participants, ...input });
    const tensor = (values: number[]) => ({
      bytes: new Uint8Array(Float32Array.from(values).buffer),
      dtype: "F32" as const,
      shape: [3, 2],
    });
    const inputs = [tensor([1, 2, 3, 4, 0, 0]), tensor([5, 6, 7, 8, 0, 0]), tensor([9, 10, 0, 0, 11, 13])];
    const out = reindexRows(plan, inputs, (_, bytes) => new Uint8Array(bytes));
    const a = [...new Float32Array(out[0]!.buffer)];
    // rows: own 0; own 1; mean of b's row 1 and c's row 2 = (7+11)/2, (8+13)/2; zeros; padding = column means.
    expect(a).toEqual([1, 2, 3, 4, 9, 10.5, 0, 0, 13 / 4, 16.5 / 4]);
    const b = [...new Float32Array(out[1]!.buffer)];
    expect(b.slice(2, 8)).toEqual([3, 4, 7, 8, 0, 0]); // a's row for token 1, own row for token 2
  });

  it("a configured token: forced rows and model_token by id", () => {
    const tokens = [
      [
        "t",
        { source: { kind: "model_token" as const, model: ref("org/b"), tokenId: 2 }, force: true },
      ] as const,
    ];
    const plan = planRows({ participants, ...input, outputIds: new Map([["t", 0]]), tokens });
    expect(plan.fills.get(0)).toEqual({ kind: "row", model: 1, row: 2 });
    expect(plan.own.map((own) => own[0])).toEqual([-1, -1, -1]);
    const bad = [
      [
        "t",
        { source: { kind: "model_token" as const, model: ref("org/b"), tokenId: 3 }, force: false },
      ] as const,
    ];
    expect(() => planRows({ participants, ...input, outputIds: new Map([["t", 0]]), tokens: bad })).toThrow(
      /past org\/b's 3 embedding rows/,
    );
  });
});
