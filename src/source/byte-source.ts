/**
 * A readable blob of known size that can be read at any offset: a local file, an HTTP resource
 * read with range requests, or bytes in memory. The safetensors reader only ever sees this.
 */
export interface ByteSource {
  /** Human-readable name for errors: a path or a URL. */
  readonly name: string;
  readonly size: number;
  /** Reads exactly `length` bytes at `offset`; rejects if the range is out of bounds or short. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

export function memoryByteSource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > bytes.byteLength) {
        throw new RangeError(`read ${offset}+${length} is outside ${name} (${bytes.byteLength} bytes)`);
      }
      return bytes.subarray(offset, offset + length);
    },
  };
}
