/**
 * An on-disk cache for Hub reads. Everything in it is immutable by construction:
 * - byte blocks of a file, keyed by the file's content hash (the LFS sha256, or the git blob
 *   sha1 of a regular file) and the block index: `blocks/<key>/<blockBytes>-<index>`;
 * - small reads (safetensors headers, small tensors) by their exact span, so that reading a
 *   header does not download a whole block: `ranges/<key>/<offset>-<length>`;
 * - file listings, keyed by repo and commit sha: `listings/<ns>--<name>/<sha>.json`.
 * Files are written to a temporary name and renamed into place, so a reader sees a whole block
 * or none; a block whose size is not the expected one is ignored (and rewritten).
 *
 * Nothing read back is trusted on its length alone (issue 13): every block and range has a
 * record of the sha256 it had when it came from the Hub, HMAC-signed, in `records/` (see
 * cache-ledger.ts). Bytes that do not match their record are not returned, so they are fetched
 * again (NODE_DEBUG=hubmerge says so). Objects whose blocks all pass through are checked
 * whole against their Hub hash, and dropped when they do not match (object-verifier.ts).
 */
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { debuglog } from "node:util";
import { writeFileAtomic } from "../fs-atomic.js";
import { CacheLedger, defaultKeyFile } from "./cache-ledger.js";
import { ObjectVerifier } from "./object-verifier.js";

const debug = debuglog("hubmerge");

const CHECK_TEXT = {
  missing: "no record of it (an older cache, or one written elsewhere)",
  tampered: "its record is not signed with this cache's key",
  changed: "its bytes differ from the sha256 recorded when it was fetched",
} as const;

export interface HubCacheOptions {
  /** Where the key that signs the records lives; default: beside the cache folder, never in it. */
  keyFile?: string;
}

export const DEFAULT_CACHE_BLOCK_BYTES = 16 * 1024 * 1024;

const CONTENT_KEY = /^(?:sha256-[0-9a-f]{64}|git-[0-9a-f]{40})$/;
const SHA = /^[0-9a-f]{40}$/;

export class HubCache {
  readonly blockBytes: number;
  readonly ledger: CacheLedger;
  private readonly verifier: ObjectVerifier;
  /** Object sizes by content key, learnt from keyFor(): whole-object checks need them. */
  private readonly sizes = new Map<string, number>();

  constructor(
    readonly dir: string,
    blockBytes: number = DEFAULT_CACHE_BLOCK_BYTES,
    options: HubCacheOptions = {},
  ) {
    if (!Number.isSafeInteger(blockBytes) || blockBytes < 1) throw new RangeError("blockBytes must be ≥ 1");
    this.blockBytes = blockBytes;
    this.ledger = new CacheLedger(join(dir, "records"), options.keyFile ?? defaultKeyFile(dir));
    this.verifier = new ObjectVerifier({
      blockBytes,
      ledger: this.ledger,
      recordedBlock: (key, index, length) => this.readRecorded(this.blockName(key, index), length),
      drop: (key) => this.drop(key),
    });
  }

  /** The content key of a file (see contentKey), remembering its size for whole-object checks. */
  keyFor(file: { oid?: string; lfsOid?: string; size: number }): string | undefined {
    const key = HubCache.contentKey(file);
    if (key !== undefined) this.sizes.set(key, file.size);
    return key;
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

  /** A cached block, when present with exactly the expected length and the recorded content. */
  async getBlock(key: string, index: number, expectedLength: number): Promise<Uint8Array | undefined> {
    const bytes = await this.readRecorded(this.blockName(key, index), expectedLength);
    if (bytes !== undefined) await this.seen(key, index, bytes);
    return bytes;
  }

  /** Stores a block as fetched from the Hub, with its record. */
  async putBlock(key: string, index: number, bytes: Uint8Array): Promise<void> {
    const name = this.blockName(key, index);
    await writeFileAtomic(this.dataPath(name), bytes);
    await this.ledger.record(name, bytes);
    await this.seen(key, index, bytes);
  }

  /** A cached exact span, when present with exactly `length` bytes and the recorded content. */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    return this.readRecorded(this.rangeName(key, offset, length), length);
  }

  /** Stores a span as fetched from the Hub, with its record; a span that is the whole file is checked whole. */
  async putRange(key: string, offset: number, bytes: Uint8Array): Promise<void> {
    const name = this.rangeName(key, offset, bytes.byteLength);
    await writeFileAtomic(this.dataPath(name), bytes);
    await this.ledger.record(name, bytes);
    const size = this.sizes.get(key);
    if (offset === 0 && size === bytes.byteLength && size <= this.blockBytes) {
      await this.verifier.blockSeen(key, size, 0, bytes);
    }
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

  private async seen(key: string, index: number, bytes: Uint8Array): Promise<void> {
    const size = this.sizes.get(key);
    if (size !== undefined) await this.verifier.blockSeen(key, size, index, bytes);
  }

  /** Data that matches its record, or undefined (and a debug line when it is there but does not). */
  private async readRecorded(name: string, length: number): Promise<Uint8Array | undefined> {
    const bytes = await readExactly(this.dataPath(name), length);
    if (bytes === undefined) return undefined;
    const check = await this.ledger.check(name, bytes);
    if (check === "ok") return bytes;
    debug("cache %s: %s; fetching it again from the Hub", name, CHECK_TEXT[check]);
    return undefined;
  }

  /** Removes every block, range and record of one object. */
  private async drop(key: string): Promise<void> {
    await Promise.all([
      rm(join(this.dir, "blocks", key), { recursive: true, force: true }),
      rm(join(this.dir, "ranges", key), { recursive: true, force: true }),
      this.ledger.forget(key),
    ]);
  }

  private dataPath(name: string): string {
    return join(this.dir, name);
  }

  private blockName(key: string, index: number): string {
    if (!CONTENT_KEY.test(key) || !Number.isSafeInteger(index) || index < 0) {
      throw new RangeError(`bad cache key ${key}/${index}`);
    }
    return `blocks/${key}/${this.blockBytes}-${index}`;
  }

  private rangeName(key: string, offset: number, length: number): string {
    if (
      !CONTENT_KEY.test(key) ||
      !Number.isSafeInteger(offset) ||
      offset < 0 ||
      !Number.isSafeInteger(length)
    ) {
      throw new RangeError(`bad cache key ${key}@${offset}+${length}`);
    }
    return `ranges/${key}/${offset}-${length}`;
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
