/**
 * Streaming readers: a SafetensorsFile reads one file's header up front and any tensor on
 * demand; a SafetensorsModel does the same across a model's shards. Opening reads headers only.
 */
import { readInto, type ByteSource } from "../source/byte-source.js";
import type { ModelSource } from "../source/model-source.js";
import { decodeToF32, isDecodableDType } from "./dtype.js";
import { readHeader } from "./header.js";
import type { HeaderLimits, SafetensorsHeader, TensorInfo } from "./header.js";
import { safetensorsError } from "./safetensors-error.js";
import { SHARD_INDEX_FILE, readShardIndex } from "./shard-index.js";

const SINGLE_FILE = "model.safetensors";
/** Shards whose headers are read at the same time (range requests in flight, for Hub sources). */
const OPEN_CONCURRENCY = 8;
const CONVERT_HINT =
  "convert the checkpoint to safetensors, e.g. with transformers' save_pretrained(safe_serialization=True)";

export class SafetensorsFile {
  private constructor(
    readonly source: ByteSource,
    readonly header: SafetensorsHeader,
  ) {}

  static async open(source: ByteSource, limits?: Partial<HeaderLimits>): Promise<SafetensorsFile> {
    return new SafetensorsFile(source, await readHeader(source, limits));
  }

  tensor(name: string): TensorInfo {
    const info = this.header.byName.get(name);
    if (!info) {
      throw safetensorsError(
        `${this.source.name} has no tensor "${name}"`,
        "check the tensor name against the file's header",
      );
    }
    return info;
  }

  async readTensorBytes(name: string): Promise<Uint8Array> {
    const info = this.tensor(name);
    return this.source.read(this.header.dataOffset + info.begin, info.end - info.begin);
  }

  /**
   * `target.byteLength` bytes of a tensor, from `byteOffset` into its data, straight into `target`
   * (a reused or shared buffer: no allocation of its own).
   */
  async readTensorInto(name: string, target: Uint8Array, byteOffset = 0): Promise<void> {
    const info = this.tensor(name);
    this.checkSpan(name, info, byteOffset, target.byteLength);
    await readInto(this.source, this.header.dataOffset + info.begin + byteOffset, target);
  }

  private checkSpan(name: string, info: TensorInfo, byteOffset: number, length: number): void {
    const inside = Number.isSafeInteger(byteOffset) && Number.isSafeInteger(length);
    if (!inside || byteOffset < 0 || length < 0 || byteOffset + length > info.end - info.begin) {
      throw safetensorsError(
        `${this.source.name}: bytes ${byteOffset}+${length} lie outside tensor "${name}" (${info.end - info.begin} bytes)`,
        "read within the tensor's size",
      );
    }
  }

  /** `length` bytes of a tensor from `byteOffset` into its data (a sample, or a chunk). */
  async readTensorRange(name: string, byteOffset: number, length: number): Promise<Uint8Array> {
    const info = this.tensor(name);
    this.checkSpan(name, info, byteOffset, length);
    return this.source.read(this.header.dataOffset + info.begin + byteOffset, length);
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }
}

export interface ModelTensor extends TensorInfo {
  /** The shard's path inside the model. */
  file: string;
}

export class SafetensorsModel {
  private constructor(
    readonly ref: string,
    /** Shard paths inside the model, in the order tensorNames() follows. */
    readonly files: string[],
    private readonly shards: Map<string, SafetensorsFile>,
    private readonly tensors: Map<string, ModelTensor>,
  ) {}

  /**
   * Opens a model's safetensors: the shards named by model.safetensors.index.json, else
   * model.safetensors, else every *.safetensors file at the root. Reads headers only.
   */
  static async open(model: ModelSource, limits?: Partial<HeaderLimits>): Promise<SafetensorsModel> {
    const listed = await model.listFiles();
    const weightMap = listed.includes(SHARD_INDEX_FILE) ? await readShardIndex(model) : undefined;
    const files = weightMap
      ? shardsOfIndex(weightMap, listed, model.ref)
      : safetensorsFiles(listed, model.ref);
    const shards = await openShards(model, files, limits);
    try {
      const tensors = weightMap
        ? tensorsByIndex(shards, weightMap, model.ref)
        : tensorsByFile(shards, model.ref);
      return new SafetensorsModel(model.ref, files, shards, tensors);
    } catch (error) {
      await closeAll([...shards.values()]);
      throw error;
    }
  }

  /** Every tensor name, in file order then offset order. */
  tensorNames(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): ModelTensor {
    const info = this.tensors.get(name);
    if (!info) {
      throw safetensorsError(
        `model ${this.ref} has no tensor "${name}" (looked in ${this.files.join(", ")})`,
        "check that the models share an architecture and tensor names",
      );
    }
    return info;
  }

  async readTensorBytes(name: string): Promise<Uint8Array> {
    const info = this.info(name);
    return this.shards.get(info.file)!.readTensorBytes(name);
  }

  /** `target.byteLength` bytes of a tensor from `byteOffset` straight into `target` (see SafetensorsFile). */
  async readTensorInto(name: string, target: Uint8Array, byteOffset = 0): Promise<void> {
    const info = this.info(name);
    return this.shards.get(info.file)!.readTensorInto(name, target, byteOffset);
  }

  async readTensorRange(name: string, byteOffset: number, length: number): Promise<Uint8Array> {
    const info = this.info(name);
    return this.shards.get(info.file)!.readTensorRange(name, byteOffset, length);
  }

  /** The tensor decoded to f32 (a fresh array); only float tensors can be decoded. */
  async readTensorF32(name: string): Promise<Float32Array> {
    const info = this.info(name);
    if (!isDecodableDType(info.dtype)) {
      throw safetensorsError(
        `model ${this.ref}, ${info.file}: tensor "${name}" is ${info.dtype}; merge needs float tensors`,
        "merge only float tensors (F32, F16, BF16, F64); copy others with passthrough",
      );
    }
    return decodeToF32(await this.readTensorBytes(name), info.dtype);
  }

  async close(): Promise<void> {
    await closeAll([...this.shards.values()]);
  }
}

function safetensorsFiles(listed: string[], ref: string): string[] {
  if (listed.includes(SINGLE_FILE)) return [SINGLE_FILE];
  const atRoot = listed.filter((path) => !path.includes("/") && path.endsWith(".safetensors")).sort();
  if (atRoot.length === 0) {
    throw safetensorsError(
      `model ${ref} has no safetensors weights (no *.safetensors file at its root)`,
      CONVERT_HINT,
    );
  }
  return atRoot;
}

function shardsOfIndex(weightMap: Map<string, string>, listed: string[], ref: string): string[] {
  const files = [...new Set(weightMap.values())].sort();
  const present = new Set(listed);
  const missing = files.filter((file) => !present.has(file));
  if (missing.length > 0) {
    throw safetensorsError(
      `model ${ref}: ${SHARD_INDEX_FILE} names shard ${missing[0]}, which the model does not have`,
      "upload the missing shards, or regenerate the index",
    );
  }
  return files;
}

/** Opens the shards a few at a time (headers only); closes the opened ones if any fails. */
async function openShards(
  model: ModelSource,
  files: string[],
  limits: Partial<HeaderLimits> | undefined,
): Promise<Map<string, SafetensorsFile>> {
  const results: PromiseSettledResult<SafetensorsFile>[] = new Array(files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      results[i] = await openShard(model, files[i]!, limits).then(
        (value) => ({ status: "fulfilled", value }),
        (reason: unknown) => ({ status: "rejected", reason }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, files.length) }, worker));
  const failed = results.find((result) => result.status === "rejected");
  if (failed) {
    await closeAll(results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : [])));
    throw failed.reason;
  }
  return new Map(
    files.map((file, i) => [file, (results[i] as PromiseFulfilledResult<SafetensorsFile>).value]),
  );
}

async function openShard(
  model: ModelSource,
  file: string,
  limits: Partial<HeaderLimits> | undefined,
): Promise<SafetensorsFile> {
  const source = await model.open(file);
  try {
    return await SafetensorsFile.open(source, limits);
  } catch (error) {
    await source.close?.();
    throw error;
  }
}

/** With an index: the index and the shards' headers must agree exactly. */
function tensorsByIndex(
  shards: Map<string, SafetensorsFile>,
  weightMap: Map<string, string>,
  ref: string,
): Map<string, ModelTensor> {
  const tensors = new Map<string, ModelTensor>();
  for (const [file, shard] of shards) {
    for (const info of shard.header.tensors) {
      const mapped = weightMap.get(info.name);
      if (mapped !== file) {
        const listedAs = mapped === undefined ? "does not list it" : `maps it to ${mapped}`;
        throw safetensorsError(
          `model ${ref}: shard ${file} contains tensor "${info.name}" but ${SHARD_INDEX_FILE} ${listedAs}`,
          "regenerate the index from the shards (or re-save the model)",
        );
      }
      tensors.set(info.name, { ...info, file });
    }
  }
  for (const [name, file] of weightMap) {
    if (!tensors.has(name)) {
      throw safetensorsError(
        `model ${ref}: ${SHARD_INDEX_FILE} maps tensor "${name}" to ${file}, which does not contain it`,
        "regenerate the index from the shards (or re-save the model)",
      );
    }
  }
  return tensors;
}

/** Without an index: every tensor name must be unique across files. */
function tensorsByFile(shards: Map<string, SafetensorsFile>, ref: string): Map<string, ModelTensor> {
  const tensors = new Map<string, ModelTensor>();
  for (const [file, shard] of shards) {
    for (const info of shard.header.tensors) {
      const earlier = tensors.get(info.name);
      if (earlier) {
        throw safetensorsError(
          `model ${ref}: tensor "${info.name}" is in both ${earlier.file} and ${file}`,
          "keep one copy of each tensor (remove stray .safetensors files from the model)",
        );
      }
      tensors.set(info.name, { ...info, file });
    }
  }
  return tensors;
}

async function closeAll(files: SafetensorsFile[]): Promise<void> {
  await Promise.allSettled(files.map((file) => file.close()));
}
