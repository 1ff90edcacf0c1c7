/**
 * A ModelSource that counts the bytes read through it, so that verify can say exactly how many
 * bytes it read (and tests can hold it to that against what the Hub served).
 */
import type { ByteSource } from "../source/byte-source.js";
import type { ModelSource } from "../source/model-source.js";

export interface ByteCounter {
  bytes: number;
}

export function countingSource(source: ModelSource, counter: ByteCounter): ModelSource {
  return {
    ref: source.ref,
    revision: source.revision,
    repo: source.repo,
    listFiles: () => source.listFiles(),
    async readFile(path) {
      const bytes = await source.readFile(path);
      counter.bytes += bytes?.byteLength ?? 0;
      return bytes;
    },
    async open(path) {
      return countingByteSource(await source.open(path), counter);
    },
  };
}

function countingByteSource(source: ByteSource, counter: ByteCounter): ByteSource {
  const counted: ByteSource = {
    name: source.name,
    size: source.size,
    async read(offset, length) {
      const bytes = await source.read(offset, length);
      counter.bytes += bytes.byteLength;
      return bytes;
    },
  };
  if (source.readInto) {
    const readInto = source.readInto.bind(source);
    counted.readInto = async (offset, target) => {
      await readInto(offset, target);
      counter.bytes += target.byteLength;
    };
  }
  if (source.close) counted.close = source.close.bind(source);
  return counted;
}
