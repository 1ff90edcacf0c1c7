import { HubmergeError } from "../../errors.js";
import { isFloatDType, type DType, type FloatDType } from "../../safetensors/dtype.js";

const FROM_TORCH: Record<string, FloatDType> = { float32: "F32", float16: "F16", bfloat16: "BF16" };
const TO_TORCH: Record<FloatDType, string> = { F32: "float32", F16: "float16", BF16: "bfloat16" };

export function floatDTypeFromName(name: string): FloatDType {
  const dtype = FROM_TORCH[name];
  if (!dtype) {
    throw new HubmergeError("E_MANIFEST", `unsupported output dtype ${JSON.stringify(name)}`, {
      hint: "use float32, float16 or bfloat16",
    });
  }
  return dtype;
}

export function torchDtypeName(dtype: FloatDType): string {
  return TO_TORCH[dtype];
}

/** The output dtype of a float tensor: the manifest's choice, else the source's own. */
export function outputDType(configured: FloatDType | undefined, source: DType): DType {
  if (!isFloatDType(source)) return source;
  return configured ?? source;
}
