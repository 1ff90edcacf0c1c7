/**
 * The pieces of a sentencepiece `tokenizer.model`: a serialized `ModelProto` whose field 1 is the
 * repeated `SentencePiece {1: piece, 2: score, 3: type}`, a piece's id being its position. Only
 * the pieces are decoded; the trainer, normalizer and any other field are skipped by wire type.
 * The file is untrusted: every length is bounds-checked by the wire reader, groups (which no
 * sentencepiece field uses, and which nest) are refused, and any failure becomes one E_IO error
 * naming the model, the file and the byte offset.
 */
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { HubmergeError } from "../../errors.js";

/** The sentencepiece `SentencePiece.Type` values (sentencepiece_model.proto). */
export const PIECE_TYPES = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

export type PieceType = (typeof PIECE_TYPES)[keyof typeof PIECE_TYPES];

export interface SentencePiece {
  piece: string;
  score: number;
  type: PieceType;
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
}

/** Gemma's 256k pieces are the largest real vocabulary; 16× that is not a tokenizer. */
export const MAX_PIECES = 1 << 22;

const MODEL_FILE = "tokenizer.model";
const PIECES_FIELD = 1;
/** TrainerSpec: every trained model has one, and it is serialized after the pieces. */
const TRAINER_SPEC_FIELD = 2;

/** Thrown inside the parser; `parseSentencePieceModel` turns it into a HubmergeError. */
class Malformed extends Error {}

export function parseSentencePieceModel(
  bytes: Uint8Array,
  ref: string,
  maxPieces = MAX_PIECES,
): SentencePieceModel {
  const reader = new BinaryReader(bytes);
  const pieces: SentencePiece[] = [];
  let trainerSpec = false;
  let at = 0;
  try {
    while (reader.pos < reader.len) {
      at = reader.pos;
      const [field, wireType] = reader.tag();
      if (field === PIECES_FIELD) {
        expectWireType(wireType, WireType.LengthDelimited, "a piece");
        if (pieces.length === maxPieces) throw new Malformed(`it has more than ${maxPieces} pieces`);
        pieces.push(parsePiece(reader.bytes(), pieces.length));
        continue;
      }
      if (field === TRAINER_SPEC_FIELD) trainerSpec = true;
      skipField(reader, wireType);
    }
  } catch (error) {
    throw malformed(ref, `${detail(error)} (in the field at byte ${at} of ${bytes.length})`);
  }
  // A model cut short at a piece boundary is still valid protobuf; its missing trainer spec
  // (written after the pieces) is what tells a truncated download from a whole model.
  if (!trainerSpec) throw malformed(ref, "it has no trainer_spec (field 2): it is truncated");
  if (pieces.length === 0) throw malformed(ref, "it has no pieces");
  assertUniquePieces(pieces, ref);
  return { pieces };
}

function parsePiece(bytes: Uint8Array, id: number): SentencePiece {
  const reader = new BinaryReader(bytes);
  let piece: string | undefined;
  let score = 0;
  let type: PieceType = PIECE_TYPES.NORMAL;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.LengthDelimited, `piece ${id}'s text`);
      piece = reader.string(true);
    } else if (field === 2) {
      expectWireType(wireType, WireType.Bit32, `piece ${id}'s score`);
      score = reader.float();
    } else if (field === 3) {
      expectWireType(wireType, WireType.Varint, `piece ${id}'s type`);
      type = pieceType(reader.int32(), id);
    } else {
      skipField(reader, wireType);
    }
  }
  // sentencepiece itself refuses a model with an empty piece.
  if (!piece) throw new Malformed(`piece ${id} has no text`);
  return { piece, score, type };
}

function pieceType(value: number, id: number): PieceType {
  if (value >= PIECE_TYPES.NORMAL && value <= PIECE_TYPES.BYTE) return value as PieceType;
  throw new Malformed(`piece ${id} has type ${value}, not one of sentencepiece's 1–6`);
}

function expectWireType(actual: number, expected: WireType, what: string): void {
  if (actual !== expected) throw new Malformed(`${what} has wire type ${actual}, not ${expected}`);
}

/** Skips one field; groups are refused rather than recursed into (no sentencepiece field is one). */
function skipField(reader: BinaryReader, wireType: number): void {
  if (wireType === WireType.StartGroup || wireType === WireType.EndGroup) {
    throw new Malformed(`a field has the group wire type ${wireType}`);
  }
  reader.skip(wireType as WireType);
}

function assertUniquePieces(pieces: readonly SentencePiece[], ref: string): void {
  const seen = new Map<string, number>();
  pieces.forEach(({ piece }, id) => {
    const first = seen.get(piece);
    if (first !== undefined) {
      throw new HubmergeError(
        "E_IO",
        `${MODEL_FILE} lists the piece ${JSON.stringify(piece)} twice, as ids ${first} and ${id}`,
        {
          where: { model: ref },
          hint: "sentencepiece refuses such a model too; fix the model's tokenizer.model",
        },
      );
    }
    seen.set(piece, id);
  });
}

function detail(error: unknown): string {
  if (error instanceof Malformed) return error.message;
  // The wire reader's own errors (premature EOF, bad varint, invalid UTF-8) say what broke.
  return error instanceof Error ? error.message : String(error);
}

function malformed(ref: string, message: string): HubmergeError {
  return new HubmergeError("E_IO", `${MODEL_FILE} is not a readable sentencepiece model: ${message}`, {
    where: { model: ref },
    hint: "the file is damaged or not a sentencepiece ModelProto; download the model's tokenizer.model again",
  });
}
