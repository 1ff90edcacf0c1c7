/**
 * How a tensor is cut into chunks for the GPU: every binding (the packed inputs of a chunk, its
 * output) stays within a portable limit (128 MiB by default, WebGPU's default
 * maxStorageBufferBindingSize), whatever the tensor size. Chunks start at multiples of 256
 * elements (one workgroup), so a quad of four elements is always one Philox block.
 */
import { DTYPE_SIZE, type FloatDType } from "../../../safetensors/dtype.js";
import { WORKGROUP_ELEMENTS, type SectionOffsets } from "./descriptor.js";

export const DEFAULT_BINDING_BYTES = 128 * 1024 * 1024;
export const DEFAULT_CHUNK_ELEMENTS = 4 * 1024 * 1024;
/** One dispatch has at most 65,535 workgroups of 256 elements. */
const MAX_CHUNK_ELEMENTS = 65535 * WORKGROUP_ELEMENTS;

export interface Chunk {
  index: number;
  /** First element (tensor index) and number of elements. */
  start: number;
  length: number;
}

export interface ChunkLayout {
  /** Elements of a full chunk (a multiple of 256). */
  elements: number;
  chunks: Chunk[];
  sections: SectionOffsets;
  /** Words of the packed input buffer and of the output buffer of one chunk. */
  inputWords: number;
  outputWords: number;
  /** Workgroups (256-element segments) per full chunk. */
  segments: number;
}

export interface ChunkLayoutRequest {
  count: number;
  base?: FloatDType;
  models: readonly FloatDType[];
  out: FloatDType;
  bindingBytes?: number;
  /** Upper bound of a chunk, elements (tests use small ones). Rounded down to a multiple of 256. */
  chunkElements?: number;
}

const sectionWords = (elements: number, dtype: FloatDType) => (elements * DTYPE_SIZE[dtype]) / 4;

/** The layout, or undefined when even a 256-element chunk does not fit the binding limit. */
export function planChunks(request: ChunkLayoutRequest): ChunkLayout | undefined {
  const binding = request.bindingBytes ?? DEFAULT_BINDING_BYTES;
  const inputs = [...(request.base ? [request.base] : []), ...request.models];
  const inputBytes = inputs.reduce((sum, dtype) => sum + DTYPE_SIZE[dtype], 0);
  const perElement = Math.max(inputBytes, DTYPE_SIZE[request.out], 4);
  const fitting = Math.floor(binding / perElement);
  const wanted = Math.min(fitting, request.chunkElements ?? DEFAULT_CHUNK_ELEMENTS, MAX_CHUNK_ELEMENTS);
  const needed = Math.ceil(request.count / WORKGROUP_ELEMENTS) * WORKGROUP_ELEMENTS;
  const elements = Math.min(Math.floor(wanted / WORKGROUP_ELEMENTS) * WORKGROUP_ELEMENTS, needed);
  if (elements < WORKGROUP_ELEMENTS || request.count <= 0) return undefined;
  let offset = 0;
  const next = (dtype: FloatDType) => {
    const at = offset;
    offset += sectionWords(elements, dtype);
    return at;
  };
  const sections = { base: request.base ? next(request.base) : undefined, models: request.models.map(next) };
  const chunks: Chunk[] = [];
  for (let start = 0; start < request.count; start += elements) {
    chunks.push({ index: chunks.length, start, length: Math.min(elements, request.count - start) });
  }
  return {
    elements,
    chunks,
    sections,
    inputWords: offset,
    outputWords: (elements * Math.max(DTYPE_SIZE[request.out], 4)) / 4,
    segments: elements / WORKGROUP_ELEMENTS,
  };
}
