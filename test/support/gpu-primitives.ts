/**
 * Single kernels on small arrays: the soft-float operations, the Philox uniforms and dtype
 * conversion. The tests compare each with the reference bit for bit; `convertOnGpu` can also
 * serve copies that change dtype.
 */
import { DTYPE_SIZE, type FloatDType } from "../../src/safetensors/dtype.js";
import type { U32Pair } from "../../src/merge/rng/dare-stream.js";
import {
  DTYPE_CODE,
  HEADER,
  HEADER_WORDS,
  MODEL,
  MODEL_WORDS,
  WORKGROUP_ELEMENTS,
} from "../../src/merge/kernels/webgpu/descriptor.js";
import type { GpuContext, KernelBuffers } from "../../src/merge/kernels/webgpu/gpu-context.js";
import { BINARY_OPS, type PrimitiveEntry } from "../../src/merge/kernels/webgpu/wgsl/tensor-kernels.js";

/** Largest array one call takes (one dispatch). */
export const MAX_PRIMITIVE_ELEMENTS = 65535 * 64;

async function runOnce(
  context: GpuContext,
  entry: PrimitiveEntry,
  words: { desc?: Uint32Array; inputs?: Uint32Array; chunk: Uint32Array },
  outputBytes: number,
  workgroups: number,
): Promise<Uint8Array> {
  const created: GPUBuffer[] = [];
  const storage = (data: Uint32Array) => {
    const buffer = context.storage(data.byteLength);
    context.write(buffer, 0, data);
    created.push(buffer);
    return buffer;
  };
  try {
    const buffers: KernelBuffers = {
      0: words.desc && storage(words.desc),
      1: words.inputs && storage(words.inputs),
      2: context.uniform(words.chunk),
      3: context.storage(outputBytes),
    };
    created.push(buffers[2]!, buffers[3]!);
    const pipeline = await context.pipeline(entry);
    const encoder = context.device.createCommandEncoder();
    context.dispatch(encoder, pipeline, entry, buffers, workgroups);
    context.device.queue.submit([encoder.finish()]);
    const bytes = await context.read(buffers[3]!, outputBytes);
    context.check();
    return bytes;
  } finally {
    for (const buffer of created) buffer.destroy();
  }
}

function checkSize(length: number): void {
  if (length > MAX_PRIMITIVE_ELEMENTS)
    throw new RangeError(`at most ${MAX_PRIMITIVE_ELEMENTS} elements per call`);
}

/** f32 `op` on bit patterns, elementwise: out[i] = a[i] op b[i]. */
export async function binaryOnGpu(
  context: GpuContext,
  op: keyof typeof BINARY_OPS,
  a: Uint32Array,
  b: Uint32Array,
): Promise<Uint32Array> {
  checkSize(a.length);
  const inputs = new Uint32Array(a.length * 2 + 1);
  inputs.set(a);
  inputs.set(b, a.length);
  const chunk = new Uint32Array([0, a.length, 0, BINARY_OPS[op]]);
  const bytes = await runOnce(context, "binary", { inputs, chunk }, a.length * 4, Math.ceil(a.length / 64));
  return new Uint32Array(bytes.buffer, bytes.byteOffset, a.length);
}

/** The 24-bit uniforms of elements [start, start + length) of a DARE stream (start a multiple of 4). */
export async function uniformsOnGpu(
  context: GpuContext,
  key: U32Pair,
  stream: U32Pair,
  start: number,
  length: number,
): Promise<Uint32Array> {
  checkSize(length);
  if (start % 4 !== 0) throw new RangeError("uniformsOnGpu: start must be a multiple of 4");
  const desc = new Uint32Array(HEADER_WORDS + MODEL_WORDS);
  desc[HEADER_WORDS + MODEL.key0] = key[0];
  desc[HEADER_WORDS + MODEL.key1] = key[1];
  desc[HEADER_WORDS + MODEL.stream0] = stream[0];
  desc[HEADER_WORDS + MODEL.stream1] = stream[1];
  // The kernel counts blocks from chunk.start / 4 (a u32); the block's high word rides in `op`.
  const block = start / 4;
  const blockLow = block % 2 ** 32;
  if (blockLow + Math.ceil(length / 4) > 2 ** 30) throw new RangeError("uniformsOnGpu: block range too high");
  const chunk = new Uint32Array([blockLow * 4, length, 0, Math.floor(block / 2 ** 32)]);
  const quads = Math.ceil(length / 4);
  const bytes = await runOnce(
    context,
    "uniforms",
    { desc, chunk },
    quads * 16,
    Math.ceil(length / WORKGROUP_ELEMENTS),
  );
  return new Uint32Array(bytes.buffer, bytes.byteOffset, length);
}

/** Decodes `bytes` of dtype `from` and encodes them as `to` (bit-exact with dtype.ts). */
export async function convertOnGpu(
  context: GpuContext,
  bytes: Uint8Array,
  from: FloatDType,
  to: FloatDType,
): Promise<Uint8Array> {
  const count = bytes.byteLength / DTYPE_SIZE[from];
  checkSize(count);
  const quads = Math.ceil(count / 4);
  const inputs = new Uint32Array((quads * 4 * DTYPE_SIZE[from]) / 4 || 1);
  new Uint8Array(inputs.buffer).set(bytes);
  const desc = new Uint32Array(HEADER_WORDS);
  desc[HEADER.baseDtype] = DTYPE_CODE[from];
  desc[HEADER.outDtype] = DTYPE_CODE[to];
  const chunk = new Uint32Array([0, count, 0, 0]);
  const out = await runOnce(
    context,
    "convert",
    { desc, inputs, chunk },
    quads * 4 * DTYPE_SIZE[to],
    Math.ceil(count / WORKGROUP_ELEMENTS),
  );
  return out.slice(0, count * DTYPE_SIZE[to]);
}
