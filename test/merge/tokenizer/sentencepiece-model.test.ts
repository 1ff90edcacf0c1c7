import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../../src/errors.js";
import { parseSentencePieceModel } from "../../../src/merge/tokenizer/sentencepiece-model.js";
import { encodeSentencePieceModel, llamaPieces } from "../../support/sentencepiece-models.js";

const REF = "org/llama-spm";

function parseError(bytes: Uint8Array): Error {
  try {
    parseSentencePieceModel(bytes, REF);
  } catch (error) {
    return error as Error;
  }
  throw new Error("parsed");
}

/** A trainer spec with only `vocab_size`, which makes a model complete. */
function trainerSpec(writer: BinaryWriter): BinaryWriter {
  return writer.tag(2, WireType.LengthDelimited).fork().tag(4, WireType.Varint).int32(1).join();
}

function piece(writer: BinaryWriter, write: (w: BinaryWriter) => void): BinaryWriter {
  writer.tag(1, WireType.LengthDelimited).fork();
  write(writer);
  return writer.join();
}

describe("parseSentencePieceModel", () => {
  it("reads pieces in id order with their scores and types", () => {
    const bytes = encodeSentencePieceModel([
      { piece: "<unk>", score: 0, type: 2 },
      { piece: "<s>", score: 0, type: 3 },
      { piece: "▁the", score: -1.5 },
      { piece: "<0x0A>", score: 0, type: 6 },
      { piece: "<|im_start|>", score: 0, type: 4 },
      { piece: "unused", score: -100.25, type: 5 },
      { piece: "é" },
    ]);
    expect(parseSentencePieceModel(bytes, REF).pieces).toEqual([
      { piece: "<unk>", score: 0, type: 2 },
      { piece: "<s>", score: 0, type: 3 },
      { piece: "▁the", score: -1.5, type: 1 },
      { piece: "<0x0A>", score: 0, type: 6 },
      { piece: "<|im_start|>", score: 0, type: 4 },
      { piece: "unused", score: -100.25, type: 5 },
      { piece: "é", score: 0, type: 1 },
    ]);
  });

  it("skips fields it does not read, of every wire type, in the model and in a piece", () => {
    const writer = new BinaryWriter();
    writer.tag(99, WireType.Varint).uint64(2n ** 63n); // a 10-byte varint
    writer.tag(98, WireType.Bit64).fixed64(7);
    piece(writer, (w) => {
      w.tag(200, WireType.LengthDelimited).string("an extension");
      w.tag(2, WireType.Bit32).float(-2);
      w.tag(201, WireType.Bit32).fixed32(5);
      w.tag(1, WireType.LengthDelimited).string("a");
    });
    trainerSpec(writer);
    writer.tag(3, WireType.LengthDelimited).bytes(new Uint8Array([8, 1, 0x12, 0]));
    writer.tag(5, WireType.LengthDelimited).bytes(new Uint8Array(0));
    // A piece after the trainer spec still counts (protobuf allows any field order).
    piece(writer, (w) => w.tag(1, WireType.LengthDelimited).string("b"));
    expect(parseSentencePieceModel(writer.finish(), REF).pieces).toEqual([
      { piece: "a", score: -2, type: 1 },
      { piece: "b", score: 0, type: 1 },
    ]);
  });

  it("a model truncated at any byte is refused cleanly, or (past the pieces) read whole", () => {
    const pieces = llamaPieces(12);
    const bytes = encodeSentencePieceModel(pieces);
    const whole = parseSentencePieceModel(bytes, REF).pieces;
    let refused = 0;
    for (let cut = 0; cut < bytes.length; cut++) {
      let result: ReturnType<typeof parseSentencePieceModel> | undefined;
      try {
        result = parseSentencePieceModel(bytes.subarray(0, cut), REF);
      } catch (error) {
        expect(isHubmergeError(error, "E_IO"), `cut at ${cut}: ${String(error)}`).toBe(true);
        expect((error as Error).message).toMatch(/^tokenizer\.model is not a readable sentencepiece model: /);
        expect((error as { where: object }).where).toEqual({ model: REF });
        refused++;
        continue;
      }
      // Only a cut after the whole trainer spec (inside the normalizer spec's tail) parses.
      expect(result.pieces).toEqual(whole);
    }
    // Every cut leaves a truncated field or no trainer spec, except the one right before the
    // normalizer spec: a whole model without a normalizer.
    expect(bytes.length - refused).toBe(1);
  });

  it("says what is wrong and where", () => {
    const cases: [string, (w: BinaryWriter) => void, RegExp][] = [
      ["group", (w) => w.tag(7, WireType.StartGroup), /a field has the group wire type 3/],
      ["piece as varint", (w) => w.tag(1, WireType.Varint).int32(1), /a piece has wire type 0, not 2/],
      [
        "score as double",
        (w) =>
          piece(w, (p) => p.tag(1, WireType.LengthDelimited).string("x").tag(2, WireType.Bit64).double(1)),
        /piece 0's score has wire type 1, not 5/,
      ],
      [
        "unknown type",
        (w) =>
          piece(w, (p) => p.tag(1, WireType.LengthDelimited).string("x").tag(3, WireType.Varint).int32(7)),
        /piece 0 has type 7, not one of sentencepiece's 1–6/,
      ],
      ["empty piece", (w) => piece(w, (p) => p.tag(2, WireType.Bit32).float(1)), /piece 0 has no text/],
      [
        "invalid UTF-8",
        (w) => piece(w, (p) => p.tag(1, WireType.LengthDelimited).bytes(new Uint8Array([0xff, 0xfe]))),
        /utf-8 \(in the field at byte 0 of 10\)$/,
      ],
      ["field 0", (w) => w.raw(new Uint8Array([0x00])), /illegal tag: field no 0/],
      ["wire type 7", (w) => w.raw(new Uint8Array([0x0f])), /illegal tag: field no 1 wire type 7/],
      // A length of 2^32 − 1 must be refused, not allocated.
      ["huge length", (w) => w.raw(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), /premature EOF/],
      ["endless varint", (w) => w.raw(new Uint8Array([...new Array(11).fill(0x80), 1])), /invalid varint/],
    ];
    for (const [name, write, message] of cases) {
      const writer = new BinaryWriter();
      write(writer);
      trainerSpec(writer);
      const error = parseError(writer.finish());
      expect(isHubmergeError(error, "E_IO"), name).toBe(true);
      expect(error.message, name).toMatch(message);
      expect((error as { hint?: string }).hint, name).toMatch(/download the model's tokenizer.model again/);
    }
  });

  it("refuses a model without pieces, without a trainer spec, or with a piece twice", () => {
    expect(parseError(trainerSpec(new BinaryWriter()).finish()).message).toMatch(/it has no pieces/);
    const noSpec = piece(new BinaryWriter(), (w) => w.tag(1, WireType.LengthDelimited).string("a")).finish();
    expect(parseError(noSpec).message).toMatch(/it has no trainer_spec \(field 2\): it is truncated/);
    expect(parseError(new Uint8Array(0)).message).toMatch(/no trainer_spec/);
    const twice = encodeSentencePieceModel([{ piece: "a" }, { piece: "b" }, { piece: "a" }]);
    const error = parseError(twice);
    expect(isHubmergeError(error, "E_IO")).toBe(true);
    expect(error.message).toBe('tokenizer.model lists the piece "a" twice, as ids 0 and 2');
  });

  it("caps the piece count", () => {
    const bytes = encodeSentencePieceModel(llamaPieces(4));
    expect(parseSentencePieceModel(bytes, REF, 4).pieces).toHaveLength(4);
    expect(() => parseSentencePieceModel(bytes, REF, 3)).toThrow(
      /^tokenizer.model is not a readable sentencepiece model: it has more than 3 pieces \(in the field at byte \d+ of \d+\)$/,
    );
  });

  it("refuses random bytes cleanly", () => {
    let state = 12345;
    const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
    for (let round = 0; round < 300; round++) {
      const bytes = Uint8Array.from({ length: 1 + (round % 97) }, next);
      try {
        parseSentencePieceModel(bytes, REF);
      } catch (error) {
        expect(isHubmergeError(error, "E_IO"), String(error)).toBe(true);
      }
    }
  });
});
