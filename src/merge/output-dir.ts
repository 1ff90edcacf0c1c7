import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { HubmergeError } from "../errors.js";
// Written into every output folder, so that a later run knows it may replace the folder.
import { RUN_RECORD_FILE } from "../run-record.js";

/**
 * An output folder built beside its destination and swapped in only when complete, so that a
 * failed or cancelled run leaves the previous output exactly as it was.
 */
export class StagedOutputDir {
  private constructor(
    readonly finalDir: string,
    readonly stagingDir: string,
  ) {}

  static async create(outDir: string, options: { force?: boolean } = {}): Promise<StagedOutputDir> {
    const finalDir = resolve(outDir);
    await assertReplaceable(finalDir, options.force ?? false);
    await mkdir(dirname(finalDir), { recursive: true });
    const stagingDir = join(
      dirname(finalDir),
      `.${basename(finalDir)}.hubmerge-tmp-${randomBytes(4).toString("hex")}`,
    );
    await mkdir(stagingDir);
    return new StagedOutputDir(finalDir, stagingDir);
  }

  /** Swaps the staged folder into place: two renames, the old output removed afterwards. */
  async commit(): Promise<void> {
    const old = `${this.stagingDir}-old`;
    const existed = await stat(this.finalDir).then(
      () => true,
      () => false,
    );
    if (existed) await rename(this.finalDir, old);
    try {
      await rename(this.stagingDir, this.finalDir);
    } catch (error) {
      if (existed) await rename(old, this.finalDir);
      throw error;
    }
    if (existed) await rm(old, { recursive: true, force: true });
  }

  async abort(): Promise<void> {
    await rm(this.stagingDir, { recursive: true, force: true });
  }
}

/** Refuses to replace a folder that holds anything but an earlier hubmerge output. */
async function assertReplaceable(dir: string, force: boolean): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory()) {
    throw new HubmergeError("E_IO", `output ${dir} exists and is not a folder`, {
      hint: "choose another --out path",
    });
  }
  const entries = await readdir(dir);
  if (entries.length === 0 || entries.includes(RUN_RECORD_FILE) || force) return;
  throw new HubmergeError("E_IO", `output folder ${dir} is not empty and was not written by hubmerge`, {
    hint: "choose an empty or new --out folder, or pass --force to replace it",
  });
}
