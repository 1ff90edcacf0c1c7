/**
 * The sharded, atomic safetensors writer. The shard layout is planned up front (shard-plan.ts), so
 * each shard's header (shard-header.ts) is written first and tensors are appended as they come:
 * memory holds one tensor, never a shard. Shards grow as hidden `.<file>.partial` files and appear
 * under their names only when finish() has every tensor, so a reader never sees half a model.
 */
import { createHash, type Hash } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { HubmergeError } from "../errors.js";
import { encodeShardHeader, shardMetadata } from "./shard-header.js";
import { encodeShardIndex, SHARD_INDEX_FILE } from "./shard-index.js";
import { checkUniqueNames, plannedSize, type ShardPlan } from "./shard-plan.js";

const WRITE_CHUNK = 256 * 1024 * 1024;

export interface ShardedWriterOptions {
  dir: string;
  plan: ShardPlan;
  /** Written to every shard's `__metadata__`, always with `format: "pt"`. */
  metadata?: Record<string, string>;
  /**
   * Write only these shards (indices into the plan), and no index: one part of a merge split
   * across runners (the assembly writes the index). Default: every shard, and the index.
   */
  only?: ReadonlySet<number>;
  /**
   * Called once per shard as soon as its last byte is on disk, with its hidden partial path
   * (renamed by finish()); the writer waits for it, so a callback that opens the file before
   * returning may read it while later shards are written (an upload that overlaps the merge).
   */
  onShardClosed?: (shard: WrittenShard, partialPath: string) => Promise<void>;
}

interface WriterEntry {
  shard: number;
  name: string;
  size: number;
  lastInShard: boolean;
}

interface OpenShard {
  index: number;
  handle: FileHandle;
  position: number;
  /** SHA-256 of the bytes written so far, in file order. */
  hash: Hash;
  /** SHA-256 of the tensor being written (it may come in parts), and those finished. */
  tensorHash: Hash | undefined;
  tensors: WrittenTensor[];
}

/** A tensor as written: its name and the SHA-256 (hex) of its bytes in the file. */
export interface WrittenTensor {
  name: string;
  sha256: string;
}

/** A finished shard: its name in the output folder, size and SHA-256 (hex), and its tensors' digests in file order. */
export interface WrittenShard {
  file: string;
  size: number;
  sha256: string;
  tensors: WrittenTensor[];
}

export class ShardedWriter {
  private readonly dir: string;
  private readonly plan: ShardPlan;
  private readonly metadata: Record<string, string>;
  /** Plan order, flattened: which shard each tensor goes to and how many bytes it has. */
  private readonly order: WriterEntry[] = [];
  private cursor = 0;
  /** Bytes of the tensor at `cursor` written so far (it may arrive in parts). */
  private partBytes = 0;
  private current: OpenShard | undefined;
  private busy = false;
  private state: "writing" | "finished" | "failed" | "aborted" = "writing";
  /** Shards closed so far, in plan order: hashed as they were written, never read back. */
  private readonly written: WrittenShard[] = [];
  /** Final paths already renamed into place by a finish() that then failed. */
  private readonly placed: string[] = [];
  private readonly only: ReadonlySet<number> | undefined;
  private readonly onShardClosed: ShardedWriterOptions["onShardClosed"];

  constructor(opts: ShardedWriterOptions) {
    this.dir = opts.dir;
    this.plan = opts.plan;
    this.metadata = shardMetadata(opts.metadata);
    this.only = opts.only;
    this.onShardClosed = opts.onShardClosed;
    checkUniqueNames(opts.plan.files.flatMap((shard) => shard.tensors));
    opts.plan.files.forEach((shard, index) => {
      if (!this.writes(index)) return;
      shard.tensors.forEach((tensor, i) =>
        this.order.push({
          shard: index,
          name: tensor.name,
          size: plannedSize(tensor),
          lastInShard: i === shard.tensors.length - 1,
        }),
      );
    });
  }

  /** Appends the next tensor of the plan; tensors must come in plan order. */
  async writeTensor(name: string, bytes: Uint8Array): Promise<void> {
    this.checkWritable("writeTensor");
    const expected = this.expect(name);
    if (this.partBytes !== 0) {
      throw writerError(
        `tensor "${name}" was begun in parts: write the rest from byte ${this.partBytes} with writeTensorPart`,
      );
    }
    if (bytes.byteLength !== expected.size) {
      throw writerError(`tensor "${name}" has ${bytes.byteLength} bytes but the plan says ${expected.size}`);
    }
    await this.append(expected, 0, bytes);
  }

  /**
   * Appends part of the next tensor: its bytes from `byteOffset`, which must continue the parts
   * written so far. The tensor is complete once its planned size has arrived.
   */
  async writeTensorPart(name: string, byteOffset: number, bytes: Uint8Array): Promise<void> {
    this.checkWritable("writeTensorPart");
    const expected = this.expect(name);
    if (byteOffset !== this.partBytes) {
      throw writerError(
        `parts of tensor "${name}" must come in order: expected bytes from ${this.partBytes}, got ${byteOffset}`,
      );
    }
    if (byteOffset + bytes.byteLength > expected.size) {
      throw writerError(
        `tensor "${name}" would get ${byteOffset + bytes.byteLength} bytes but the plan says ${expected.size}`,
      );
    }
    await this.append(expected, byteOffset, bytes);
  }

  private expect(name: string): WriterEntry {
    const expected = this.order[this.cursor];
    if (!expected) throw writerError(`tensor "${name}" is not in the shard plan, or was already written`);
    if (expected.name !== name) {
      throw writerError(
        `tensors must be written in plan order: expected "${expected.name}" next, got "${name}"`,
      );
    }
    return expected;
  }

  private async append(expected: WriterEntry, byteOffset: number, bytes: Uint8Array): Promise<void> {
    await this.guard(async () => {
      const shard = await this.shardFor(expected.shard);
      const writing = writeAll(shard.handle, bytes, shard.position);
      shard.hash.update(bytes); // here, while a pool thread copies the bytes to the file
      shard.tensorHash ??= createHash("sha256");
      shard.tensorHash.update(bytes);
      await writing;
      shard.position += bytes.byteLength;
      this.partBytes = byteOffset + bytes.byteLength;
      if (this.partBytes < expected.size) return;
      shard.tensors.push({ name: expected.name, sha256: shard.tensorHash.digest("hex") });
      shard.tensorHash = undefined;
      this.partBytes = 0;
      this.cursor += 1;
      if (expected.lastInShard) await this.closeCurrent();
    });
  }

  /**
   * Renames every shard into place and writes the index (when there are several shards).
   * Returns the written file names, relative to `dir`, index last, and every shard's size and
   * SHA-256 in plan order (hashed as written, so nobody has to read gigabytes back).
   */
  async finish(): Promise<{ files: string[]; shards: WrittenShard[] }> {
    this.checkWritable("finish");
    const next = this.order[this.cursor];
    if (next) throw writerError(`finish() called before every tensor was written: "${next.name}" is next`);
    const files = this.plan.files.filter((_, index) => this.writes(index)).map((shard) => shard.file);
    await this.guard(async () => {
      for (const [index, shard] of this.plan.files.entries()) {
        if (shard.tensors.length === 0 && this.writes(index)) {
          await this.shardFor(index); // a tensor-less shard is just its header
          await this.closeCurrent();
        }
      }
      await syncDirectory(this.dir);
      for (const file of files) {
        await rename(partialPath(this.dir, file), join(this.dir, file));
        this.placed.push(join(this.dir, file));
      }
      if (this.plan.files.length > 1 && this.only === undefined) {
        await this.writeIndex();
        files.push(SHARD_INDEX_FILE);
      }
      await syncDirectory(this.dir);
    });
    this.state = "finished";
    const shards = files
      .filter((file) => file !== SHARD_INDEX_FILE)
      .map((file) => this.written.find((w) => w.file === file)!);
    return { files, shards };
  }

  private writes(index: number): boolean {
    return this.only === undefined || this.only.has(index);
  }

  /** Removes everything this writer wrote; a finished output is left alone. */
  async abort(): Promise<void> {
    if (this.state === "finished" || this.state === "aborted") return;
    this.state = "aborted";
    await this.current?.handle.close().catch(() => undefined);
    this.current = undefined;
    const names = [...this.plan.files.map((shard) => shard.file), SHARD_INDEX_FILE];
    const paths = [...names.map((file) => partialPath(this.dir, file)), ...this.placed];
    await Promise.all(paths.map((path) => rm(path, { force: true })));
  }

  private checkWritable(operation: string): void {
    if (this.state !== "writing") {
      throw writerError(`${operation}() called on a writer that is ${this.state}`);
    }
    if (this.busy)
      throw writerError(`${operation}() called before the previous call finished (await each call)`);
  }

  /** Runs one I/O step; any failure leaves the writer failed (abort() still cleans up). */
  private async guard(step: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await step();
    } catch (error) {
      this.state = "failed";
      if (error instanceof HubmergeError) throw error;
      throw new HubmergeError(
        "E_IO",
        `writing safetensors shards in ${this.dir} failed: ${(error as Error).message}`,
        {
          hint: "check that the output folder exists, is writable and has enough free space",
          cause: error,
        },
      );
    } finally {
      this.busy = false;
    }
  }

  /** The open partial file of shard `index`, created with its header on first use. */
  private async shardFor(index: number): Promise<OpenShard> {
    if (this.current?.index === index) return this.current;
    await this.closeCurrent();
    const shard = this.plan.files[index]!;
    const handle = await open(partialPath(this.dir, shard.file), "w");
    this.current = {
      index,
      handle,
      position: 0,
      hash: createHash("sha256"),
      tensorHash: undefined,
      tensors: [],
    };
    const header = encodeShardHeader(shard.tensors, this.metadata);
    await writeAll(handle, header, 0);
    this.current.hash.update(header);
    this.current.position = header.byteLength;
    return this.current;
  }

  private async closeCurrent(): Promise<void> {
    const shard = this.current;
    if (!shard) return;
    this.current = undefined;
    try {
      await shard.handle.sync();
    } finally {
      await shard.handle.close();
    }
    const file = this.plan.files[shard.index]!.file;
    const written = { file, size: shard.position, sha256: shard.hash.digest("hex"), tensors: shard.tensors };
    this.written.push(written);
    await this.onShardClosed?.(written, partialPath(this.dir, file));
  }

  /** The index, written to a temp file, then renamed. */
  private async writeIndex(): Promise<void> {
    const temp = partialPath(this.dir, SHARD_INDEX_FILE);
    const handle = await open(temp, "w");
    try {
      await writeAll(handle, encodeShardIndex(this.plan), 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const final = join(this.dir, SHARD_INDEX_FILE);
    await rename(temp, final);
    this.placed.push(final);
  }
}

function partialPath(dir: string, file: string): string {
  return join(dir, `.${file}.partial`);
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const length = Math.min(bytes.byteLength - done, WRITE_CHUNK);
    const { bytesWritten } = await handle.write(bytes, done, length, position + done);
    done += bytesWritten;
  }
}

/** Makes renames durable where the platform allows fsync on a directory (not Windows). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: durability of the names, not correctness of the data, is at stake.
  }
}

function writerError(message: string): HubmergeError {
  return new HubmergeError("E_INTERNAL", `safetensors writer: ${message}`);
}
