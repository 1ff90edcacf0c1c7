/** The safetensors library: dtypes and conversions, header validation, readers and the writer. */
export {
  DTYPE_SIZE,
  bf16BitsToF32,
  decodeToF32,
  encodeFromF32,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  isDType,
  isDecodableDType,
  isFloatDType,
} from "./dtype.js";
export type { DType, FloatDType } from "./dtype.js";
export { DEFAULT_HEADER_LIMITS, byteSize, parseHeader, readHeader } from "./header.js";
export type { HeaderLimits, SafetensorsHeader, TensorInfo } from "./header.js";
export { fileByteSource } from "./file-source.js";
export { SafetensorsFile, SafetensorsModel } from "./reader.js";
export type { ModelTensor } from "./reader.js";
export { MAX_SHARD_INDEX_BYTES, SHARD_INDEX_FILE, parseShardIndex } from "./shard-index.js";
export {
  DEFAULT_MAX_SHARD_BYTES,
  ShardedWriter,
  encodeShardHeader,
  planShards,
  plannedSize,
  shardFileName,
} from "./writer.js";
export type { PlannedShard, PlannedTensor, ShardPlan, ShardedWriterOptions } from "./writer.js";
