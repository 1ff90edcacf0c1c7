import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { HubmergeError } from "../errors.js";
import { checkRange, type ByteSource } from "./byte-source.js";

/** One read call moves at most this much; the OS caps a single read near 2 GiB anyway. */
const MAX_READ_CHUNK = 256 * 1024 * 1024;

/** A local file as a ByteSource: positional reads, looped until every byte has arrived. */
export async function fileByteSource(path: string): Promise<ByteSource> {
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw new HubmergeError("E_IO", `cannot open ${path}: ${(error as Error).message}`, {
      hint: "check that the file exists and is readable",
      cause: error,
    });
  }
  try {
    size = (await handle.stat()).size;
  } catch (error) {
    await handle.close();
    throw error;
  }
  const readInto = async (offset: number, target: Uint8Array): Promise<void> => {
    checkRange(path, size, offset, target.byteLength);
    const length = target.byteLength;
    let done = 0;
    while (done < length) {
      const chunk = Math.min(length - done, MAX_READ_CHUNK);
      const { bytesRead } = await handle.read(target, done, chunk, offset + done);
      if (bytesRead === 0) {
        // E_SAFETENSORS, as the reader's own truncation errors: the file is a model's data file.
        throw new HubmergeError(
          "E_SAFETENSORS",
          `${path} is truncated: wanted ${length} bytes at offset ${offset}, the file ended after ${done}`,
          { hint: "the file changed or shrank while being read: download or copy it again" },
        );
      }
      done += bytesRead;
    }
  };
  return {
    name: path,
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      checkRange(path, size, offset, length);
      const bytes = new Uint8Array(length);
      await readInto(offset, bytes);
      return bytes;
    },
    readInto,
    async close(): Promise<void> {
      await handle.close();
    },
  };
}
