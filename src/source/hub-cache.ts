/**
 * An on-disk cache for Hub reads. Everything in it is immutable by construction:
 * - byte blocks of a file, keyed by the file's content hash (the LFS sha256, or the git blob
 *   sha1 of a regular file) and the block index: `blocks/<key>/<blockBytes>-<index>`;
 * - small reads (safetensors headers, small tensors) by their exact span, so that reading a
 *   header does not download a whole block: `ranges/<key>/<offset>-<length>`;
 * - file listings, keyed by repo and commit sha: `listings/<ns>--<name>/<sha>.json`.
 * Files are written to a temporary name and renamed into place, so a reader sees a whole block
 * or none; a block whose size is not the expected one is ignored (and rewritten).
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../fs-atomic.js";

export const DEFAULT_CACHE_BLOCK_BYTES = 16 * 1024 * 1024;

const CONTENT_KEY = /^(?:sha256-[0-9a-f]{64}|git-[0-9a-f]{40})$/;
const SHA = /^[0-9a-f]{40}$/;

export class HubCache {
  readonly blockBytes: number;

  constructor(
    readonly dir: string,
    blockBytes: number = DEFAULT_CACHE_BLOCK_BYTES,
  ) {
    if (!Number.isSafeInteger(blockBytes) || blockBytes < 1) throw new RangeError("blockBytes must be ≥ 1");
    this.blockBytes = blockBytes;
  }

  /** Reads up to this size are cached by their exact span instead of by whole blocks. */
  get smallReadBytes(): number {
    return Math.floor(this.blockBytes / 16);
  }

  /** The cache key of a file's content, or undefined when the Hub gave no usable hash. */
  static contentKey(file: { oid?: string; lfsOid?: string }): string | undefined {
    const key = file.lfsOid ? `sha256-${file.lfsOid}` : file.oid ? `git-${file.oid}` : undefined;
    return key !== undefined && CONTENT_KEY.test(key) ? key : undefined;
  }

  /** A cached block, when present with exactly the expected length. */
  getBlock(key: string, index: number, expectedLength: number): Promise<Uint8Array | undefined> {
    return readExactly(this.blockPath(key, index), expectedLength);
  }

  async putBlock(key: string, index: number, bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(this.blockPath(key, index), bytes);
  }

  /** A cached exact span, when present with exactly `length` bytes. */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    return readExactly(this.rangePath(key, offset, length), length);
  }

  async putRange(key: string, offset: number, bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(this.rangePath(key, offset, bytes.byteLength), bytes);
  }

  async getListing<T>(repo: string, sha: string): Promise<T | undefined> {
    const path = this.listingPath(repo, sha);
    if (path === undefined) return undefined;
    try {
      return JSON.parse(await readFile(path, "utf8")) as T;
    } catch {
      return undefined;
    }
  }

  async putListing(repo: string, sha: string, listing: unknown): Promise<void> {
    const path = this.listingPath(repo, sha);
    if (path !== undefined) await writeFileAtomic(path, JSON.stringify(listing));
  }

  private blockPath(key: string, index: number): string {
    if (!CONTENT_KEY.test(key) || !Number.isSafeInteger(index) || index < 0) {
      throw new RangeError(`bad cache key ${key}/${index}`);
    }
    return join(this.dir, "blocks", key, `${this.blockBytes}-${index}`);
  }

  private rangePath(key: string, offset: number, length: number): string {
    if (
      !CONTENT_KEY.test(key) ||
      !Number.isSafeInteger(offset) ||
      offset < 0 ||
      !Number.isSafeInteger(length)
    ) {
      throw new RangeError(`bad cache key ${key}@${offset}+${length}`);
    }
    return join(this.dir, "ranges", key, `${offset}-${length}`);
  }

  private listingPath(repo: string, sha: string): string | undefined {
    // Repo ids never contain `--`, so the flattened name is unambiguous.
    if (!SHA.test(sha) || !/^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)?$/.test(repo)) return undefined;
    return join(this.dir, "listings", repo.replace("/", "--"), `${sha}.json`);
  }
}

async function readExactly(path: string, length: number): Promise<Uint8Array | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile() || info.size !== length) return undefined;
  const bytes = await readFile(path).catch(() => undefined);
  return bytes && bytes.byteLength === length ? new Uint8Array(bytes) : undefined;
}
