/**
 * The WGSL compute kernels over one chunk of a tensor. One invocation handles a quad of four
 * consecutive elements (one Philox block), a workgroup 64 quads (256 elements). The order of
 * operations is task-family.ts's and linear.ts's, operand for operand (NaN choice included):
 *
 *   δ = θᵢ − θ₀ → DARE keep/÷density or magnitude cut → δ·wᵢ → Σ (sign consensus: Σ agreeing,
 *   Σ agreeing wᵢ, 0 → 1) → ÷ divisor → θ₀ + λ·M → encode.
 *
 * Bindings: 0 descriptor (descriptor.ts), 1 packed inputs of the chunk, 2 chunk uniform,
 * 3 output words, 4 atomic counters (histograms, equal counts).
 */
import {
  FLAG_CONSENSUS,
  FLAG_HAS_BASE,
  FLAG_NORMALIZE,
  HEADER,
  HEADER_WORDS,
  HIGH_BUCKETS,
  LOW_SLOTS,
  MODE_DARE,
  MODE_MAGNITUDE,
  MODEL,
  MODEL_WORDS,
  NONE,
} from "../descriptor.js";
import { CODEC_WGSL } from "./codec.js";
import { PHILOX_WGSL } from "./philox.js";
import { SOFTFLOAT_WGSL } from "./softfloat.js";

const DECLARATIONS = /* wgsl */ `
struct Chunk { start: u32, length: u32, segments: u32, op: u32 }

@group(0) @binding(0) var<storage, read> desc: array<u32>;
@group(0) @binding(1) var<storage, read> inputs: array<u32>;
@group(0) @binding(2) var<uniform> chunk: Chunk;
@group(0) @binding(3) var<storage, read_write> output: array<u32>;
@group(0) @binding(4) var<storage, read_write> counters: array<atomic<u32>>;

const NAN_KEY: u32 = 0x7f800001u;
const ONE_BITS: u32 = 0x3f800000u;

fn header(field: u32) -> u32 { return desc[field]; }
fn model_word(m: u32, field: u32) -> u32 { return desc[${HEADER_WORDS}u + m * ${MODEL_WORDS}u + field]; }

fn load_quad(offset: u32, dtype: u32, q: u32) -> vec4<u32> {
  if (dtype == DT_F32) {
    let w = offset + q * 4u;
    return vec4<u32>(inputs[w], inputs[w + 1u], inputs[w + 2u], inputs[w + 3u]);
  }
  let w = offset + q * 2u;
  return vec4<u32>(widen_pair(inputs[w], dtype), widen_pair(inputs[w + 1u], dtype));
}

fn store_quad(q: u32, v: vec4<u32>, dtype: u32) {
  if (dtype == DT_F32) {
    let w = q * 4u;
    output[w] = v.x;
    output[w + 1u] = v.y;
    output[w + 2u] = v.z;
    output[w + 3u] = v.w;
    return;
  }
  let w = q * 2u;
  output[w] = narrow(v.x, dtype) | (narrow(v.y, dtype) << 16u);
  output[w + 1u] = narrow(v.z, dtype) | (narrow(v.w, dtype) << 16u);
}

fn base_quad(q: u32) -> vec4<u32> {
  return load_quad(header(${HEADER.baseOffset}u), header(${HEADER.baseDtype}u), q);
}

fn has_flag(flag: u32) -> bool { return (header(${HEADER.flags}u) & flag) != 0u; }

/** δ = θ − θ₀ per lane (θ itself without a base). */
fn task_vector(m: u32, q: u32, base: vec4<u32>, has_base: bool) -> vec4<u32> {
  let theta = load_quad(model_word(m, ${MODEL.offset}u), model_word(m, ${MODEL.dtype}u), q);
  if (!has_base) { return theta; }
  return vec4<u32>(
    f32_sub(theta.x, base.x), f32_sub(theta.y, base.y), f32_sub(theta.z, base.z), f32_sub(theta.w, base.w));
}

fn magnitude_key(bits: u32) -> u32 {
  let key = bits & ABS_MASK;
  return select(key, NAN_KEY, key > INF_BITS);
}

/** Whether the element with order key \`key\` at tensor index \`index\` passes a cut end. */
fn passes(key: u32, index: u32, cut_key: u32, bound: u32) -> bool {
  return key > cut_key || (key == cut_key && index < bound);
}

fn sparsify(m: u32, q: u32, delta: vec4<u32>) -> vec4<u32> {
  let mode = model_word(m, ${MODEL.mode}u);
  let first = chunk.start + q * 4u;
  var out = delta;
  if (mode == ${MODE_DARE}u) {
    let u = uniforms24(first >> 2u, 0u, model_word(m, ${MODEL.stream0}u), model_word(m, ${MODEL.stream1}u),
      model_word(m, ${MODEL.key0}u), model_word(m, ${MODEL.key1}u));
    let threshold = model_word(m, ${MODEL.threshold}u);
    let rescale = model_word(m, ${MODEL.rescale}u) != 0u;
    let divisor = model_word(m, ${MODEL.divisor}u);
    for (var lane = 0u; lane < 4u; lane = lane + 1u) {
      if (u[lane] >= threshold) {
        out[lane] = 0u;
      } else if (rescale) {
        out[lane] = f32_div(delta[lane], divisor);
      }
    }
  } else if (mode == ${MODE_MAGNITUDE}u) {
    let upper_key = model_word(m, ${MODEL.upperKey}u);
    let upper_bound = model_word(m, ${MODEL.upperBound}u);
    let lower_key = model_word(m, ${MODEL.lowerKey}u);
    let lower_bound = model_word(m, ${MODEL.lowerBound}u);
    for (var lane = 0u; lane < 4u; lane = lane + 1u) {
      let key = magnitude_key(delta[lane]);
      let index = first + lane;
      if (!passes(key, index, upper_key, upper_bound) || passes(key, index, lower_key, lower_bound)) {
        out[lane] = 0u;
      }
    }
  }
  return out;
}

/** f32(δ̃ · wᵢ), the weighted sparsified task vector of model m. */
fn weighted(m: u32, q: u32, base: vec4<u32>, has_base: bool) -> vec4<u32> {
  let d = sparsify(m, q, task_vector(m, q, base, has_base));
  let w = model_word(m, ${MODEL.weight}u);
  return vec4<u32>(f32_mul(d.x, w), f32_mul(d.y, w), f32_mul(d.z, w), f32_mul(d.w, w));
}

fn add4(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
  return vec4<u32>(f32_add(a.x, b.x), f32_add(a.y, b.y), f32_add(a.z, b.z), f32_add(a.w, b.w));
}

/** s = +1 iff S ≥ 0 (−0 included, NaN excluded). */
fn majority_positive(total: u32) -> bool {
  return !is_nan(total) && ((total & SIGN_BIT) == 0u || (total & ABS_MASK) == 0u);
}

/** sign(x) = s: zeros and NaN never agree. */
fn agrees(x: u32, positive: bool) -> bool {
  return !is_nan(x) && (x & ABS_MASK) != 0u && ((x & SIGN_BIT) == 0u) == positive;
}
`;

const MERGE = /* wgsl */ `
/** Sign consensus: M = Σ agreeing wᵢδᵢ, and the divisor Σ agreeing wᵢ (0 → 1) into \`divisor\`. */
fn consensus_mix(q: u32, base: vec4<u32>, divisor: ptr<function, vec4<u32>>) -> vec4<u32> {
  let models = header(${HEADER.models}u);
  var total = vec4<u32>(0u);
  for (var m = 0u; m < models; m = m + 1u) { total = add4(total, weighted(m, q, base, true)); }
  var mixed = vec4<u32>(0u);
  var weights = vec4<u32>(0u);
  for (var m = 0u; m < models; m = m + 1u) {
    let wd = weighted(m, q, base, true);
    let w = model_word(m, ${MODEL.weight}u);
    for (var lane = 0u; lane < 4u; lane = lane + 1u) {
      if (agrees(wd[lane], majority_positive(total[lane]))) {
        mixed[lane] = f32_add(mixed[lane], wd[lane]);
        weights[lane] = f32_add(weights[lane], w);
      }
    }
  }
  for (var lane = 0u; lane < 4u; lane = lane + 1u) {
    if ((weights[lane] & ABS_MASK) == 0u) { weights[lane] = ONE_BITS; }
  }
  *divisor = weights;
  return mixed;
}

@compute @workgroup_size(64)
fn merge(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  if (q * 4u >= chunk.length) { return; }
  let has_base = has_flag(${FLAG_HAS_BASE}u);
  var base = vec4<u32>(0u);
  if (has_base) { base = base_quad(q); }
  var divisor = vec4<u32>(header(${HEADER.plainDivisor}u));
  var mixed = vec4<u32>(0u);
  if (has_flag(${FLAG_CONSENSUS}u)) {
    mixed = consensus_mix(q, base, &divisor);
  } else {
    let models = header(${HEADER.models}u);
    for (var m = 0u; m < models; m = m + 1u) { mixed = add4(mixed, weighted(m, q, base, has_base)); }
  }
  if (has_flag(${FLAG_NORMALIZE}u)) {
    mixed = vec4<u32>(f32_div(mixed.x, divisor.x), f32_div(mixed.y, divisor.y),
      f32_div(mixed.z, divisor.z), f32_div(mixed.w, divisor.w));
  }
  if (has_base) {
    let lambda = header(${HEADER.lambda}u);
    mixed = vec4<u32>(f32_add(base.x, f32_mul(lambda, mixed.x)), f32_add(base.y, f32_mul(lambda, mixed.y)),
      f32_add(base.z, f32_mul(lambda, mixed.z)), f32_add(base.w, f32_mul(lambda, mixed.w)));
  }
  store_quad(q, mixed, header(${HEADER.outDtype}u));
}
`;

/**
 * NearSwap (methods/nearswap.ts), operand for operand: d = max(|f32(θ₀ − θ₁)|, floor);
 * w = clamp(f32(f32(1 / d) · t), 0, 1) (NaN kept); out = f32(f32(w·θ₁) + f32(f32(1 − w)·θ₀)).
 * The soft-float division is correctly rounded, as the reference's is.
 */
const NEARSWAP = /* wgsl */ `
fn nearswap_one(a: u32, b: u32, t: u32, min_distance: u32) -> u32 {
  let distance = f32_sub(a, b) & ABS_MASK;
  var d = distance;
  if (distance < min_distance) { d = min_distance; } // bits of non-negatives compare as the values; NaN stays
  var w = f32_mul(f32_div(ONE_BITS, d), t);
  if (!is_nan(w) && (w & SIGN_BIT) != 0u && (w & ABS_MASK) != 0u) { w = 0u; }
  if (!is_nan(w) && (w & SIGN_BIT) == 0u && w > ONE_BITS) { w = ONE_BITS; }
  if (is_nan(w)) { return 0x7fc00000u; } // the canonical NaN of nearswap.ts
  return f32_add(f32_mul(w, b), f32_mul(f32_sub(ONE_BITS, w), a));
}

@compute @workgroup_size(64)
fn nearswap(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  if (q * 4u >= chunk.length) { return; }
  let a = base_quad(q);
  let b = load_quad(model_word(0u, ${MODEL.offset}u), model_word(0u, ${MODEL.dtype}u), q);
  let t = header(${HEADER.nearswapT}u);
  let min_distance = header(${HEADER.nearswapFloor}u);
  let out = vec4<u32>(nearswap_one(a.x, b.x, t, min_distance), nearswap_one(a.y, b.y, t, min_distance),
    nearswap_one(a.z, b.z, t, min_distance), nearswap_one(a.w, b.w, t, min_distance));
  store_quad(q, out, header(${HEADER.outDtype}u));
}
`;

const CUTS = /* wgsl */ `
fn lanes_in_chunk(q: u32) -> u32 { return min(4u, chunk.length - q * 4u); }

/** High 15 bits of the order keys of every magnitude model's δ. */
@compute @workgroup_size(64)
fn histogram_high(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  if (q * 4u >= chunk.length) { return; }
  let base = base_quad(q);
  let lanes = lanes_in_chunk(q);
  let models = header(${HEADER.models}u);
  for (var m = 0u; m < models; m = m + 1u) {
    if (model_word(m, ${MODEL.histogram}u) == 0u) { continue; }
    let delta = task_vector(m, q, base, true);
    for (var lane = 0u; lane < lanes; lane = lane + 1u) {
      atomicAdd(&counters[m * ${HIGH_BUCKETS}u + (magnitude_key(delta[lane]) >> 16u)], 1u);
    }
  }
}

/** Low 16 bits of the keys in each cut's chosen high bucket. */
@compute @workgroup_size(64)
fn histogram_low(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  if (q * 4u >= chunk.length) { return; }
  let base = base_quad(q);
  let lanes = lanes_in_chunk(q);
  let models = header(${HEADER.models}u);
  for (var m = 0u; m < models; m = m + 1u) {
    let upper = model_word(m, ${MODEL.upperBucket}u);
    let lower = model_word(m, ${MODEL.lowerBucket}u);
    if (upper == ${NONE}u && lower == ${NONE}u) { continue; }
    let delta = task_vector(m, q, base, true);
    for (var lane = 0u; lane < lanes; lane = lane + 1u) {
      let key = magnitude_key(delta[lane]);
      let slot = key & 0xffffu;
      if (key >> 16u == upper) { atomicAdd(&counters[(m * 2u) * ${LOW_SLOTS}u + slot], 1u); }
      if (key >> 16u == lower) { atomicAdd(&counters[(m * 2u + 1u) * ${LOW_SLOTS}u + slot], 1u); }
    }
  }
}

/** Per workgroup (256 elements), how many elements equal each straddled cut key. */
@compute @workgroup_size(64)
fn count_equal(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let q = gid.x;
  if (q * 4u >= chunk.length) { return; }
  let base = base_quad(q);
  let lanes = lanes_in_chunk(q);
  let models = header(${HEADER.models}u);
  for (var m = 0u; m < models; m = m + 1u) {
    for (var end = 0u; end < 2u; end = end + 1u) {
      if (model_word(m, ${MODEL.countUpper}u + end) == 0u) { continue; }
      let cut_key = model_word(m, ${MODEL.upperKey}u + 2u * end);
      let delta = task_vector(m, q, base, true);
      var found = 0u;
      for (var lane = 0u; lane < lanes; lane = lane + 1u) {
        found = found + select(0u, 1u, magnitude_key(delta[lane]) == cut_key);
      }
      if (found > 0u) { atomicAdd(&counters[(m * 2u + end) * chunk.segments + wid.x], found); }
    }
  }
}
`;

const PRIMITIVES = /* wgsl */ `
/** dtype conversion of the base section: decode then encode (a copy that changes dtype). */
@compute @workgroup_size(64)
fn convert(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  if (q * 4u >= chunk.length) { return; }
  store_quad(q, base_quad(q), header(${HEADER.outDtype}u));
}

/** The 24-bit uniforms of model 0's DARE stream for the chunk's elements (tests). */
@compute @workgroup_size(64)
fn uniforms(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  if (q * 4u >= chunk.length) { return; }
  let first = chunk.start + q * 4u;
  let u = uniforms24(first >> 2u, chunk.op, model_word(0u, ${MODEL.stream0}u), model_word(0u, ${MODEL.stream1}u),
    model_word(0u, ${MODEL.key0}u), model_word(0u, ${MODEL.key1}u));
  let w = q * 4u;
  output[w] = u.x;
  output[w + 1u] = u.y;
  output[w + 2u] = u.z;
  output[w + 3u] = u.w;
}

/** One soft-float operation per element: a = inputs[i], b = inputs[length + i] (tests). */
@compute @workgroup_size(64)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= chunk.length) { return; }
  let a = inputs[i];
  let b = inputs[chunk.length + i];
  var r = 0u;
  switch (chunk.op) {
    case 0u: { r = f32_add(a, b); }
    case 1u: { r = f32_sub(a, b); }
    case 2u: { r = f32_mul(a, b); }
    default: { r = f32_div(a, b); }
  }
  output[i] = r;
}
`;

export type KernelEntry =
  "merge" | "nearswap" | "histogram_high" | "histogram_low" | "count_equal" | PrimitiveEntry;
export type PrimitiveEntry = "convert" | "uniforms" | "binary";

export const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3 } as const;

export const TENSOR_KERNELS_WGSL = [
  SOFTFLOAT_WGSL,
  CODEC_WGSL,
  PHILOX_WGSL,
  DECLARATIONS,
  MERGE,
  NEARSWAP,
  CUTS,
  PRIMITIVES,
].join("\n");
