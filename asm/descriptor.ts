/** Reads task descriptors (layout in abi.ts). */
import { HEADER_WORDS, MODEL_WORDS } from "./abi";

/** Reads word `index` of a descriptor. */
export function word(desc: usize, index: i32): u32 {
  return load<u32>(desc + ((<usize>index) << 2));
}

export function wordF32(desc: usize, index: i32): f32 {
  return load<f32>(desc + ((<usize>index) << 2));
}

/** Word `field` of model `model`'s record. */
export function modelWord(desc: usize, model: i32, field: i32): u32 {
  return word(desc, HEADER_WORDS + model * MODEL_WORDS + field);
}

export function modelWordF32(desc: usize, model: i32, field: i32): f32 {
  return wordF32(desc, HEADER_WORDS + model * MODEL_WORDS + field);
}
