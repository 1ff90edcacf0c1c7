/**
 * Shards uploaded while the merge goes on: the writer hands over each shard the moment its last
 * byte is on disk (with the sha256 it computed while writing, so nothing is hashed twice), and the
 * upload runs in the background while later shards merge. The file is opened before the writer
 * continues, so the rename that finish() does later cannot pull it away from under the upload.
 */
import { open, type FileHandle } from "node:fs/promises";
import { uploadLfsObject, type LfsTarget } from "./upload-lfs.js";

/** A file the commit will reference as an LFS object. */
export interface UploadedFile {
  path: string;
  size: number;
  sha256: string;
}

export interface UploadStats {
  /** Objects sent. */
  uploaded: number;
  /** Objects the Hub already had (a re-run after a failure, or the same bytes as before). */
  present: number;
}

/** Shard uploads in flight at once; each sends its parts in parallel too. */
const DEFAULT_CONCURRENCY = 2;

export class ShardUploads {
  private readonly done: UploadedFile[] = [];
  private readonly pending: Promise<void>[] = [];
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private failure: unknown;
  readonly stats: UploadStats = { uploaded: 0, present: 0 };

  constructor(
    private readonly target: LfsTarget,
    private readonly concurrency = DEFAULT_CONCURRENCY,
  ) {}

  /** Opens `localPath` now and uploads it as `file.path` in the background. */
  async add(file: UploadedFile, localPath: string): Promise<void> {
    this.throwIfFailed();
    const handle = await open(localPath, "r");
    const task = this.run(file, handle).catch((error: unknown) => {
      this.failure ??= error;
    });
    this.pending.push(task);
  }

  /** Waits for every upload; the first failure is thrown (the others are left to finish). */
  async settle(): Promise<UploadedFile[]> {
    await Promise.all(this.pending);
    this.throwIfFailed();
    return [...this.done].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private async run(file: UploadedFile, handle: FileHandle): Promise<void> {
    try {
      await this.slot();
      if (this.failure !== undefined) return; // one failed: the run fails, send no more
      const read = async (offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> => {
        const bytes = Buffer.alloc(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
          if (bytesRead === 0)
            throw new Error(`${file.path} ended at ${offset + done} of ${file.size} bytes`);
          done += bytesRead;
        }
        return bytes;
      };
      const outcome = await uploadLfsObject(
        this.target,
        { oid: file.sha256, size: file.size },
        read,
        file.path,
      );
      this.stats[outcome] += 1;
      this.done.push(file);
    } finally {
      this.release();
      await handle.close();
    }
  }

  private async slot(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}
