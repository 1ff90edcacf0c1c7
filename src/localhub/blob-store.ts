/**
 * Content-addressed bytes on disk: regular files by git blob sha1, LFS objects by sha256.
 * Objects are written to a temporary file and renamed into place, so a reader never sees half
 * an object and a crash leaves at most a stray temporary file.
 */
import { createHash, type Hash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { tempPath, writeFileAtomic } from "../fs-atomic.js";
import { gitBlobSha1, lfsPointerText, sha256Hex } from "./git-hash.js";
import { HubError } from "./hub-error.js";
import type { FileEntry } from "./types.js";

export class BlobStore {
  readonly tmpDir: string;
  private readonly objectsDir: string;

  constructor(root: string) {
    this.objectsDir = join(root, "objects");
    this.tmpDir = join(root, "tmp");
  }

  async init(): Promise<void> {
    // Leftovers from a crash are partial uploads: drop them.
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.objectsDir, { recursive: true });
  }

  regularPath(sha1: string): string {
    return join(this.objectsDir, "git", sha1.slice(0, 2), sha1.slice(2));
  }

  lfsPath(oid: string): string {
    return join(this.objectsDir, "lfs", oid.slice(0, 2), oid.slice(2));
  }

  /** Where a file's real content is: the LFS object for LFS files, else the regular blob. */
  contentPath(entry: FileEntry): string {
    return entry.lfs ? this.lfsPath(entry.lfs.oid) : this.regularPath(entry.oid);
  }

  tempFile(hint: string): string {
    return tempPath(this.tmpDir, hint);
  }

  /** Stores a regular (non-LFS) file's content; returns its entry. */
  async putRegular(content: Uint8Array): Promise<FileEntry> {
    const oid = gitBlobSha1(content);
    const path = this.regularPath(oid);
    if ((await sizeOf(path)) === undefined) await writeFileAtomic(path, content);
    return { oid, size: content.byteLength };
  }

  /** Stores bytes as an LFS object; returns its sha256. */
  async putLfs(content: Uint8Array): Promise<string> {
    const oid = sha256Hex(content);
    const path = this.lfsPath(oid);
    if ((await sizeOf(path)) === undefined) await writeFileAtomic(path, content);
    return oid;
  }

  /** Size of a stored LFS object, or undefined when it is not stored. */
  lfsSize(oid: string): Promise<number | undefined> {
    return sizeOf(this.lfsPath(oid));
  }

  /**
   * Streams an upload into the LFS store, checking that it has exactly `size` bytes and hashes to
   * `oid`; on any mismatch nothing is stored and a 400 is thrown.
   */
  async ingestLfs(source: Readable | AsyncIterable<Uint8Array>, expected: { oid: string; size: number }) {
    const tmp = this.tempFile("lfs");
    const check = new HashingLimit(expected.size);
    try {
      await pipeline(source, check, createWriteStream(tmp));
      if (check.received !== expected.size) {
        throw new HubError(400, `LFS upload has ${check.received} bytes, expected ${expected.size}`);
      }
      const actual = check.digest();
      if (actual !== expected.oid) {
        throw new HubError(400, `LFS upload hashes to sha256 ${actual}, expected ${expected.oid}`);
      }
      await mkdir(join(this.lfsPath(expected.oid), ".."), { recursive: true });
      await rename(tmp, this.lfsPath(expected.oid));
    } finally {
      await rm(tmp, { force: true });
    }
  }
}

/** The entry of an LFS file: git sees the pointer text, readers get `size` real bytes. */
export function lfsEntry(oid: string, size: number): FileEntry {
  const pointer = Buffer.from(lfsPointerText(oid, size));
  return { oid: gitBlobSha1(pointer), size, lfs: { oid, size, pointerSize: pointer.byteLength } };
}

/** Passes bytes through while hashing them; fails as soon as more than `limit` bytes arrive. */
export class HashingLimit extends Transform {
  received = 0;
  private readonly hash: Hash;

  constructor(
    private readonly limit: number,
    algorithm = "sha256",
  ) {
    super();
    this.hash = createHash(algorithm);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    this.received += chunk.byteLength;
    if (this.received > this.limit) {
      done(new HubError(400, `upload is larger than the announced ${this.limit} bytes`));
      return;
    }
    this.hash.update(chunk);
    this.push(chunk);
    done();
  }

  digest(): string {
    return this.hash.digest("hex");
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
