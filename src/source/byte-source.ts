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
  /**
   * Reads exactly `target.byteLength` bytes at `offset` straight into `target` (which may be a
   * view of a SharedArrayBuffer): no buffer of its own, so reused buffers stay reused.
   */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
  close?(): Promise<void>;
}

/** `source.readInto` where the source has it, else a read and one copy. */
export async function readInto(source: ByteSource, offset: number, target: Uint8Array): Promise<void> {
  if (source.readInto) return source.readInto(offset, target);
  target.set(await source.read(offset, target.byteLength));
}

/** The RangeError every ByteSource throws for a range it cannot serve. */
export function checkRange(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`read ${offset}+${length} is not a valid range of ${name}`);
  }
  if (offset + length > size) {
    throw new RangeError(`read ${offset}+${length} is outside ${name} (${size} bytes)`);
  }
}

export function memoryByteSource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    async read(offset, length) {
      checkRange(name, bytes.byteLength, offset, length);
      return bytes.subarray(offset, offset + length);
    },
    async readInto(offset, target) {
      checkRange(name, bytes.byteLength, offset, target.byteLength);
      target.set(bytes.subarray(offset, offset + target.byteLength));
    },
  };
}
