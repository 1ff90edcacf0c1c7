/**
 * A Hub file as a ByteSource: `read(offset, length)` becomes range requests at the pinned
 * commit, spread over several connections at once (parts of 1 MiB up to `maxRangeBytes`, each
 * holding one connection of the run's budget while it runs). With a cache, large reads go through fixed-size blocks
 * keyed by the file's content hash: cached blocks are read from disk, missing ones fetched whole
 * and stored; concurrent reads of one missing block share one request. Small reads (headers,
 * small tensors) are cached by their exact span, so planning never downloads a whole block.
 */
import { checkRange, type ByteSource } from "./byte-source.js";
import type { ConnectionBudget } from "./connection-budget.js";
import type { HubCache } from "./hub-cache.js";
import type { HubFileLocation } from "./hub-file-location.js";
import { readRange, type RangeReadDeps } from "./hub-range-read.js";

export const DEFAULT_MAX_RANGE_BYTES = 64 * 1024 * 1024;
/**
 * Smallest part a read is split into: at 10 MB/s a part of 1 MiB takes ~100 ms, five times a
 * CDN's first-byte latency, so splitting finer would spend more time waiting than moving.
 */
export const MIN_PART_BYTES = 1024 * 1024;
/** Cache blocks fetched at once by one read (each is itself split across connections). */
const BLOCKS_IN_FLIGHT = 4;

export interface HubFileRef {
  path: string;
  size: number;
  /** Git blob sha1 of what git stores. */
  oid?: string;
  /** sha256 of the real content, for LFS files. */
  lfsOid?: string;
}

export interface HubByteSourceDeps extends RangeReadDeps {
  location: HubFileLocation;
  name: string;
  maxRangeBytes: number;
  /** Smallest part of a split read (default MIN_PART_BYTES; tests use small ones). */
  minPartBytes?: number;
  /** Range requests in flight, shared by the whole run. */
  connections: ConnectionBudget;
  cache?: HubCache;
  /** Blocks being fetched, shared by every byte source of one HubSource. */
  inFlight: Map<string, Promise<Uint8Array>>;
}

export function hubByteSource(file: HubFileRef, deps: HubByteSourceDeps): ByteSource {
  const key = deps.cache?.keyFor(file);
  const fetchSpan = (start: number, end: number, into: Uint8Array, at: number) =>
    readSpan({ location: deps.location, name: deps.name, fileSize: file.size, start, end }, into, at, deps);
  const readInto = async (offset: number, target: Uint8Array): Promise<void> => {
    checkRange(deps.name, file.size, offset, target.byteLength);
    if (target.byteLength === 0) return;
    if (deps.cache && key)
      await readThroughCache(deps.cache, key, file.size, offset, target, deps, fetchSpan);
    else await fetchSpan(offset, offset + target.byteLength, target, 0);
  };
  return {
    name: deps.name,
    size: file.size,
    async read(offset, length) {
      checkRange(deps.name, file.size, offset, length);
      const bytes = new Uint8Array(length);
      await readInto(offset, bytes);
      return bytes;
    },
    readInto,
  };
}

/**
 * Splits a span into parts read at the same time, one connection each: as many parts as there
 * are connections, each at least `minPartBytes` and at most `maxRangeBytes`. Each part resumes
 * and retries on its own (hub-range-read.ts), so a cut stream costs only its own bytes.
 */
async function readSpan(
  target: { location: HubFileLocation; name: string; fileSize: number; start: number; end: number },
  into: Uint8Array,
  at: number,
  deps: HubByteSourceDeps,
): Promise<void> {
  const length = target.end - target.start;
  const even = Math.ceil(length / deps.connections.size);
  const part = Math.min(deps.maxRangeBytes, Math.max(deps.minPartBytes ?? MIN_PART_BYTES, even));
  const reads: Promise<void>[] = [];
  for (let start = target.start; start < target.end; start += part) {
    const end = Math.min(target.end, start + part);
    const read = () => readRange({ ...target, start, end }, into, at + (start - target.start), deps);
    reads.push(deps.connections.run(read));
  }
  await allSettledOrThrow(reads);
}

/**
 * Waits for every part, then throws the first failure: a part still running must not write into
 * the caller's buffer after the read has been reported failed.
 */
async function allSettledOrThrow(work: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
}

type FetchSpan = (start: number, end: number, into: Uint8Array, at: number) => Promise<void>;

async function readThroughCache(
  cache: HubCache,
  key: string,
  fileSize: number,
  offset: number,
  into: Uint8Array,
  deps: HubByteSourceDeps,
  fetchSpan: FetchSpan,
): Promise<void> {
  if (into.byteLength <= cache.smallReadBytes) {
    if (await fillFromCachedBlocks(cache, key, fileSize, offset, into)) return;
    const cached = await cache.getRange(key, offset, into.byteLength);
    if (cached) return into.set(cached);
    await fetchSpan(offset, offset + into.byteLength, into, 0);
    await cache.putRange(key, offset, into).catch(() => undefined);
    return;
  }
  const blockBytes = cache.blockBytes;
  const end = offset + into.byteLength;
  const copyBlock = async (index: number) => {
    const blockStart = index * blockBytes;
    const blockLength = Math.min(blockBytes, fileSize - blockStart);
    const block = await cachedBlock(cache, key, index, blockLength, deps.inFlight, async () => {
      const bytes = new Uint8Array(blockLength);
      await fetchSpan(blockStart, blockStart + blockLength, bytes, 0);
      return bytes;
    });
    const from = Math.max(offset, blockStart);
    const to = Math.min(end, blockStart + blockLength);
    into.set(block.subarray(from - blockStart, to - blockStart), from - offset);
  };
  // A few blocks at a time: enough to keep the connections busy, few enough to bound memory.
  const first = Math.floor(offset / blockBytes);
  const last = Math.ceil(end / blockBytes);
  for (let index = first; index < last; index += BLOCKS_IN_FLIGHT) {
    const batch: Promise<void>[] = [];
    for (let i = index; i < Math.min(last, index + BLOCKS_IN_FLIGHT); i++) batch.push(copyBlock(i));
    await allSettledOrThrow(batch);
  }
}

/** Serves a read from blocks already on disk; false (nothing fetched) when one is missing. */
async function fillFromCachedBlocks(
  cache: HubCache,
  key: string,
  fileSize: number,
  offset: number,
  into: Uint8Array,
): Promise<boolean> {
  const end = offset + into.byteLength;
  for (let index = Math.floor(offset / cache.blockBytes); index * cache.blockBytes < end; index++) {
    const blockStart = index * cache.blockBytes;
    const block = await cache.getBlock(key, index, Math.min(cache.blockBytes, fileSize - blockStart));
    if (!block) return false;
    const from = Math.max(offset, blockStart);
    const to = Math.min(end, blockStart + block.byteLength);
    into.set(block.subarray(from - blockStart, to - blockStart), from - offset);
  }
  return true;
}

async function cachedBlock(
  cache: HubCache,
  key: string,
  index: number,
  length: number,
  inFlight: Map<string, Promise<Uint8Array>>,
  download: () => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const cached = await cache.getBlock(key, index, length);
  if (cached) return cached;
  const id = `${key}/${index}`;
  let pending = inFlight.get(id);
  if (!pending) {
    pending = (async () => {
      const bytes = await download();
      // The cache is an optimisation: a full disk must not fail the merge.
      await cache.putBlock(key, index, bytes).catch(() => undefined);
      return bytes;
    })().finally(() => inFlight.delete(id));
    inFlight.set(id, pending);
  }
  return pending;
}
