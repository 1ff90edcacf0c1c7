/**
 * The memory layout shared with the JavaScript side (src/merge/kernels/wasm/abi.ts mirrors it;
 * a test compares the two through the constants this module exports).
 *
 * A task descriptor is a run of u32 words: a header, then one record per model. The task family's
 * kernels read every word; NearSwap's and SCE's read the header's dtypes and pointers, their own
 * header words, and each model's pointer and dtype (SCE also its weight).
 */

export const DTYPE_F32: i32 = 0;
export const DTYPE_F16: i32 = 1;
export const DTYPE_BF16: i32 = 2;

/** Header words. */
export const H_MODELS: i32 = 0;
export const H_FLAGS: i32 = 1;
export const H_BASE_DTYPE: i32 = 2;
export const H_OUT_DTYPE: i32 = 3;
export const H_BASE_PTR: i32 = 4;
export const H_OUT_PTR: i32 = 5;
export const H_LAMBDA: i32 = 6;
export const H_PLAIN_DIVISOR: i32 = 7;
/** SCE: the variance cut, as an order key and how many elements equal to it are kept. */
export const H_SELECT_KEY: i32 = 8;
export const H_SELECT_TAKE: i32 = 9;
/** NearSwap: f32(t). */
export const H_NEARSWAP_T: i32 = 10;
/** NearSwap: the distance floor; SCE: the divisor floor (f32). */
export const H_FLOOR: i32 = 11;
export const HEADER_WORDS: i32 = 12;

/** Header flags. */
export const FLAG_HAS_BASE: u32 = 1;
export const FLAG_CONSENSUS: u32 = 2;
export const FLAG_NORMALIZE: u32 = 4;
/** SCE: positions outside the variance cut are zeroed in every task vector. */
export const FLAG_SELECT: u32 = 8;

/** Per-model record words. */
export const M_PTR: i32 = 0;
export const M_DTYPE: i32 = 1;
export const M_MODE: i32 = 2;
export const M_WEIGHT: i32 = 3;
export const M_THRESHOLD: i32 = 4;
export const M_RESCALE: i32 = 5;
export const M_DIVISOR: i32 = 6;
export const M_KEY0: i32 = 7;
export const M_KEY1: i32 = 8;
export const M_STREAM0: i32 = 9;
export const M_STREAM1: i32 = 10;
export const M_UPPER_KEY: i32 = 11;
export const M_UPPER_TAKE: i32 = 12;
export const M_LOWER_KEY: i32 = 13;
export const M_LOWER_TAKE: i32 = 14;
export const MODEL_WORDS: i32 = 16;

/** Sparsification modes. */
export const MODE_DENSE: u32 = 0;
export const MODE_DARE: u32 = 1;
export const MODE_MAGNITUDE: u32 = 2;

/** Elements per inner block (a multiple of 16); scratch arrays hold one block each. */
export const BLOCK: i32 = 1024;
/** Scratch arrays before the per-model ones: base, model, uniforms, mixed. */
export const FIXED_SCRATCH_ARRAYS: i32 = 4;

/** Magnitude histograms: 2^15 buckets of the high key bits, 2^16 slots of the low bits. */
export const HIGH_BUCKETS: i32 = 32768;
export const LOW_SLOTS: i32 = 65536;
