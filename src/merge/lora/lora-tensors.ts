/**
 * A base model's tensors with a LoRA adapter applied as they are read: the same surface as the
 * base's `SafetensorsModel`, so that planning, checking and merging never know an adapter is there.
 * An edited tensor is computed whole (in f32, then stored in the base tensor's dtype, as a model
 * saved after PEFT's merge_and_unload would hold it) and kept for the pieces that follow.
 */
import { HubmergeError } from "../../errors.js";
import { decodeToF32, encodeFromF32, isFloatDType, type FloatDType } from "../../safetensors/dtype.js";
import type { ModelTensor, SafetensorsModel } from "../../safetensors/reader.js";
import type { Adapter, AdapterEdit } from "./adapter.js";
import { applyEmbeddingLora, applyLinearLora } from "./apply.js";

/** The reading surface the engine uses of a model's tensors. */
export type TensorSet = Pick<
  SafetensorsModel,
  | "ref"
  | "files"
  | "tensorNames"
  | "has"
  | "info"
  | "readTensorBytes"
  | "readTensorInto"
  | "readTensorRange"
  | "readTensorF32"
  | "close"
>;

/** Edited tensors kept at once: the one being read in pieces and the one read ahead. */
const KEEP = 2;

export class LoraTensors implements TensorSet {
  readonly ref: string;
  readonly files: string[];
  private readonly kept = new Map<string, Promise<Uint8Array>>();

  constructor(
    private readonly base: SafetensorsModel,
    private readonly adapter: Adapter,
  ) {
    this.ref = `${base.ref}+${adapter.ref}`;
    this.files = base.files;
    for (const [name, edit] of adapter.edits) this.check(name, edit);
  }

  tensorNames(): string[] {
    return this.base.tensorNames();
  }

  has(name: string): boolean {
    return this.base.has(name);
  }

  info(name: string): ModelTensor {
    return this.base.info(name);
  }

  async readTensorBytes(name: string): Promise<Uint8Array> {
    if (!this.adapter.edits.has(name)) return this.base.readTensorBytes(name);
    return (await this.edited(name)).slice();
  }

  async readTensorInto(name: string, target: Uint8Array, byteOffset = 0): Promise<void> {
    if (!this.adapter.edits.has(name)) return this.base.readTensorInto(name, target, byteOffset);
    target.set((await this.edited(name)).subarray(byteOffset, byteOffset + target.byteLength));
  }

  async readTensorRange(name: string, byteOffset: number, length: number): Promise<Uint8Array> {
    if (!this.adapter.edits.has(name)) return this.base.readTensorRange(name, byteOffset, length);
    return (await this.edited(name)).slice(byteOffset, byteOffset + length);
  }

  async readTensorF32(name: string): Promise<Float32Array> {
    const info = this.info(name);
    return decodeToF32(await this.readTensorBytes(name), info.dtype);
  }

  async close(): Promise<void> {
    await Promise.all([this.base.close(), this.adapter.tensors.close()]);
  }

  private edited(name: string): Promise<Uint8Array> {
    let bytes = this.kept.get(name);
    if (bytes === undefined) {
      bytes = this.compute(name, this.adapter.edits.get(name)!);
      this.kept.set(name, bytes);
      if (this.kept.size > KEEP) this.kept.delete(this.kept.keys().next().value!);
    }
    return bytes;
  }

  private async compute(name: string, edit: AdapterEdit): Promise<Uint8Array> {
    const info = this.base.info(name);
    const dtype = info.dtype as FloatDType;
    const lora = this.adapter.tensors;
    if (edit.kind === "replace") {
      if (lora.info(edit.tensor).dtype === dtype) return lora.readTensorBytes(edit.tensor);
      return encodeFromF32(await lora.readTensorF32(edit.tensor), dtype);
    }
    const [w, a, b] = await Promise.all([
      this.base.readTensorF32(name),
      lora.readTensorF32(edit.a),
      lora.readTensorF32(edit.b),
    ]);
    const [rows, cols] = info.shape as [number, number];
    const rank = lora.info(edit.a).shape[0]!;
    const values =
      edit.kind === "linear"
        ? applyLinearLora(w, a, b, { out: rows, in: cols, rank }, edit.scale)
        : applyEmbeddingLora(w, a, b, { rows, dim: cols, rank }, edit.scale);
    return encodeFromF32(values, dtype);
  }

  /** Every edit must fit its base tensor; checked when the model is opened, before any merge. */
  private check(name: string, edit: AdapterEdit): void {
    const fail = (why: string) =>
      new HubmergeError(
        "E_INCOMPATIBLE",
        `adapter ${this.adapter.ref} does not fit ${this.base.ref}: ${why}`,
        {
          where: { model: this.ref, tensor: name },
          hint: "Use the adapter with the base model it was trained on.",
        },
      );
    if (!this.base.has(name)) throw fail(`the base model has no tensor ${name}`);
    const info = this.base.info(name);
    if (!isFloatDType(info.dtype)) throw fail(`${name} is ${info.dtype}, not a float tensor`);
    const lora = this.adapter.tensors;
    const shape = (tensor: string) => lora.info(tensor).shape;
    if (edit.kind === "replace") {
      if (shape(edit.tensor).join() !== info.shape.join())
        throw fail(
          `${edit.tensor} is [${shape(edit.tensor).join(", ")}], ${name} is [${info.shape.join(", ")}]`,
        );
      return;
    }
    const [rows, cols] = info.shape;
    const [r, aCols] = shape(edit.a);
    const [bRows, bRank] = shape(edit.b);
    const fits =
      info.shape.length === 2 &&
      bRank === r &&
      (edit.kind === "linear" ? aCols === cols && bRows === rows : aCols === rows && bRows === cols);
    if (!fits) {
      throw fail(
        `A [${shape(edit.a).join(", ")}] and B [${shape(edit.b).join(", ")}] do not fit ${name} [${info.shape.join(", ")}]`,
      );
    }
  }
}
