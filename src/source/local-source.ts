import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { HubmergeError } from "../errors.js";
import { fileByteSource } from "./file-byte-source.js";
import type { ByteSource } from "./byte-source.js";
import type { ModelSource } from "./model-source.js";

/** Small files (configs, tokenizers) are read whole; anything larger must go through open(). */
const MAX_SMALL_FILE_BYTES = 256 * 1024 * 1024;

/** A model in a local folder, laid out as on the Hub. */
export class LocalSource implements ModelSource {
  readonly revision = undefined;
  readonly root: string;

  constructor(
    readonly ref: string,
    root: string,
  ) {
    this.root = resolve(root);
  }

  /** Opens a folder, failing clearly when it is missing or not a folder. */
  static async open(ref: string, root: string): Promise<LocalSource> {
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new HubmergeError("E_IO", `model folder ${root} does not exist`, {
        where: { model: ref },
        hint: "check the path in the manifest (local paths are relative to the manifest's folder)",
      });
    }
    return new LocalSource(ref, root);
  }

  async listFiles(): Promise<string[]> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) =>
        join(entry.parentPath, entry.name)
          .slice(this.root.length + 1)
          .split(sep)
          .join("/"),
      )
      .filter((path) => !path.startsWith(".git/"))
      .sort();
  }

  async readFile(path: string): Promise<Uint8Array | null> {
    const full = this.resolvePath(path);
    const info = await stat(full).catch(() => undefined);
    if (!info?.isFile()) return null;
    if (info.size > MAX_SMALL_FILE_BYTES) {
      throw new HubmergeError("E_IO", `${path} is ${info.size} bytes, too large to read whole`, {
        where: { model: this.ref },
      });
    }
    return new Uint8Array(await readFile(full));
  }

  async open(path: string): Promise<ByteSource> {
    return fileByteSource(this.resolvePath(path));
  }

  /** Keeps every read inside the model folder, whatever an index file names. */
  private resolvePath(path: string): string {
    const full = resolve(this.root, path);
    if (full !== this.root && !full.startsWith(this.root + sep)) {
      throw new HubmergeError("E_IO", `path ${JSON.stringify(path)} escapes the model folder`, {
        where: { model: this.ref },
      });
    }
    return full;
  }
}
