/**
 * Checks whole cached objects against the hash the Hub lists for them (the LFS sha256, or the
 * git blob sha1 of a regular file). Blocks arrive in any order; they are hashed in file order,
 * a block that arrives early waits on disk (with its record) until the ones before it are in,
 * so memory holds one hash state per object. An object that matches is marked in the ledger;
 * one that does not is dropped from the cache with everything recorded about it.
 */
import { createHash, type Hash } from "node:crypto";
import { debuglog } from "node:util";
import type { CacheLedger } from "./cache-ledger.js";

const debug = debuglog("hubmerge");

export interface VerifierHost {
  readonly blockBytes: number;
  readonly ledger: CacheLedger;
  /** A block already in the cache whose bytes match their record; undefined when it is not. */
  recordedBlock(key: string, index: number, length: number): Promise<Uint8Array | undefined>;
  /** Removes an object's blocks, ranges and records. */
  drop(key: string): Promise<void>;
}

interface Progress {
  /** The next block to hash, in file order. */
  next: number;
  hash: Hash;
  /** Blocks seen past `next`, waiting in the cache. */
  waiting: Set<number>;
  /** The object's steps run one after another. */
  chain: Promise<void>;
}

/** `sha256-<hex>` or `git-<sha1>`: the hash to compute and what it must equal. */
function startHash(key: string, size: number): { hash: Hash; expected: string } {
  const [kind, expected = ""] = key.split("-", 2) as [string, string];
  if (kind === "git") return { hash: createHash("sha1").update(`blob ${size}\0`), expected };
  return { hash: createHash("sha256"), expected };
}

export class ObjectVerifier {
  private readonly progress = new Map<string, Progress & { expected: string }>();
  /** Objects verified now or in an earlier run (read from the ledger once per object). */
  private readonly verified = new Map<string, Promise<boolean>>();

  constructor(private readonly host: VerifierHost) {}

  /** Block `index` of object `key` (of `size` bytes) was fetched or read back intact. */
  blockSeen(key: string, size: number, index: number, bytes: Uint8Array): Promise<void> {
    let state = this.progress.get(key);
    if (state === undefined) {
      state = { next: 0, waiting: new Set(), chain: Promise.resolve(), ...startHash(key, size) };
      this.progress.set(key, state);
    }
    const progress = state;
    progress.chain = progress.chain
      .then(async () => {
        if (await this.alreadyVerified(key)) {
          this.progress.delete(key);
          return;
        }
        await this.advance(key, size, index, bytes, progress);
      })
      .catch((error: unknown) => debug("verifying cached %s failed: %s", key, String(error)));
    return progress.chain;
  }

  private alreadyVerified(key: string): Promise<boolean> {
    let known = this.verified.get(key);
    if (known === undefined) {
      known = this.host.ledger.objectVerified(key);
      this.verified.set(key, known);
    }
    return known;
  }

  private async advance(
    key: string,
    size: number,
    index: number,
    bytes: Uint8Array,
    state: Progress & { expected: string },
  ): Promise<void> {
    if (index !== state.next) {
      if (index > state.next) state.waiting.add(index);
      return;
    }
    state.hash.update(bytes);
    state.next++;
    const blockBytes = this.host.blockBytes;
    const count = Math.max(1, Math.ceil(size / blockBytes));
    while (state.next < count && state.waiting.has(state.next)) {
      const start = state.next * blockBytes;
      const block = await this.host.recordedBlock(key, state.next, Math.min(blockBytes, size - start));
      if (block === undefined) break; // gone meanwhile: hashing resumes when it is fetched again
      state.waiting.delete(state.next);
      state.hash.update(block);
      state.next++;
    }
    if (state.next < count) return;
    this.progress.delete(key);
    await this.finish(key, state.hash.digest("hex"), state.expected);
  }

  private async finish(key: string, actual: string, expected: string): Promise<void> {
    if (actual === expected) {
      await this.host.ledger.markObject(key);
      this.verified.set(key, Promise.resolve(true));
      return;
    }
    debug("cached %s hashes to %s, not to its Hub hash: dropped from the cache", key, actual);
    await this.host.drop(key);
  }
}
