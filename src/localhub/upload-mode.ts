/**
 * Which files go through LFS. The Hub's exact rule is not public; this one matches its visible
 * behaviour: large files, binary files (a NUL byte in the first 512 bytes) and the usual weight
 * formats.
 */

export const LFS_SIZE_THRESHOLD = 10 * 1024 * 1024;
const LFS_EXTENSIONS = [".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".onnx", ".h5", ".msgpack"];

export function uploadModeFor(file: { path: string; size: number; sample: Uint8Array }): "lfs" | "regular" {
  if (file.size >= LFS_SIZE_THRESHOLD) return "lfs";
  if (file.sample.includes(0)) return "lfs";
  if (LFS_EXTENSIONS.some((ext) => file.path.toLowerCase().endsWith(ext))) return "lfs";
  return "regular";
}
