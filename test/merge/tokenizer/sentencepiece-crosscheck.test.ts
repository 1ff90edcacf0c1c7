/**
 * Cross-check against sentencepiece itself, where a Python with the `sentencepiece` module is
 * present (Debian's python3-sentencepiece; not a dependency, so the test is skipped elsewhere):
 * train a small BPE model with byte fallback and a user-defined symbol, then compare every piece,
 * score and type our reader finds with what sentencepiece's processor reports.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import { isHubmergeError } from "../../../src/errors.js";
import { parseSentencePieceModel, PIECE_TYPES } from "../../../src/merge/tokenizer/sentencepiece-model.js";
import { encodeSentencePieceModel, llamaPieces } from "../../support/sentencepiece-models.js";

const PYTHON = ["/usr/bin/python3", "python3"].find(
  (python) => spawnSync(python, ["-c", "import sentencepiece"], { stdio: "ignore" }).status === 0,
);

const TRAIN = `
import json, sys, sentencepiece as spm
out = sys.argv[1]
text = "\\n".join(f"the quick brown fox {i} jumps over the lazy dog number {i * 7}" for i in range(200))
open(out + "/in.txt", "w").write(text)
spm.SentencePieceTrainer.train(input=out + "/in.txt", model_prefix=out + "/m", vocab_size=300,
    model_type="bpe", byte_fallback=True, user_defined_symbols=["<|im_start|>"], minloglevel=2)
sp = spm.SentencePieceProcessor(model_file=out + "/m.model")
kind = lambda i: "unknown" if sp.is_unknown(i) else "control" if sp.is_control(i) else \\
    "unused" if sp.is_unused(i) else "byte" if sp.is_byte(i) else "other"
print(json.dumps([[sp.id_to_piece(i), sp.get_score(i), kind(i)] for i in range(sp.get_piece_size())]))
`;

describe.skipIf(PYTHON === undefined)("tokenizer.model written by sentencepiece's trainer", () => {
  it("reads the pieces, scores and types sentencepiece reports", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hubmerge-spm-real-"));
    try {
      const run = spawnSync(PYTHON!, ["-c", TRAIN, dir], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      const expected = JSON.parse(run.stdout) as [string, number, string][];
      const bytes = new Uint8Array(await readFile(join(dir, "m.model")));
      const { pieces } = parseSentencePieceModel(bytes, "trained");
      expect(pieces.map((p) => [p.piece, p.score])).toEqual(expected.map(([piece, score]) => [piece, score]));
      const types = { unknown: [2], control: [3], unused: [5], byte: [6], other: [1, 4] } as const;
      pieces.forEach((p, id) => expect(types[expected[id]![2] as keyof typeof types]).toContain(p.type));
      expect(pieces.find((p) => p.piece === "<|im_start|>")!.type).toBe(PIECE_TYPES.USER_DEFINED);
      expect(pieces.filter((p) => p.type === PIECE_TYPES.BYTE)).toHaveLength(256);
      // Truncations of a real file (every 61st byte): refused, or read whole.
      for (let cut = 0; cut < bytes.length; cut += 61) {
        try {
          expect(parseSentencePieceModel(bytes.subarray(0, cut), "trained").pieces).toEqual(pieces);
        } catch (error) {
          expect(isHubmergeError(error, "E_IO"), String(error)).toBe(true);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("loads the test fixtures' tokenizer.model, so the merge tests use models sentencepiece accepts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hubmerge-spm-fixture-"));
    try {
      await writeFile(join(dir, "m.model"), encodeSentencePieceModel(llamaPieces(64)));
      const load = `import json, sys, sentencepiece as spm
sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
print(json.dumps([sp.id_to_piece(i) for i in range(sp.get_piece_size())]))`;
      const run = spawnSync(PYTHON!, ["-c", load, join(dir, "m.model")], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      const pieces = llamaPieces(64).map((p) => p.piece);
      expect(JSON.parse(run.stdout)).toEqual(pieces);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
