/**
 * Whether a finished output folder already IS the repo's current content: every file present
 * there with the same bytes (LFS files by sha256, regular files by git blob sha1), and nothing to
 * delete. Then publishing would only add an empty-looking commit with a new sha, which makes the
 * output's history and every downstream pin churn; the publisher skips it instead.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { HubFileRef } from "../../source/hub-byte-source.js";
import type { FolderFile } from "./output-files.js";

export async function matchesRemote(
  dir: string,
  files: readonly FolderFile[],
  remote: ReadonlyMap<string, HubFileRef>,
): Promise<boolean> {
  // Sizes first: a changed model almost always shows there, and costs no hashing.
  if (files.some((f) => remote.get(f.path)?.size !== f.size)) return false;
  const known = await recordedHashes(dir);
  for (const file of files) {
    const ref = remote.get(file.path)!;
    const same = ref.lfsOid
      ? (known.get(file.path) ?? (await hashFile(file.absolutePath, "sha256"))) === ref.lfsOid
      : (await hashFile(file.absolutePath, "sha1", `blob ${file.size}\0`)) === ref.oid;
    if (!same) return false;
  }
  return true;
}

/** The shard hashes the run record (written by this merge, in `dir`) already computed. */
async function recordedHashes(dir: string): Promise<Map<string, string>> {
  try {
    const record = JSON.parse(await readFile(join(dir, "hubmerge.json"), "utf8")) as {
      files?: { path?: unknown; sha256?: unknown }[];
    };
    return new Map(
      (record.files ?? []).flatMap((f) =>
        typeof f.path === "string" && typeof f.sha256 === "string" ? [[f.path, f.sha256] as const] : [],
      ),
    );
  } catch {
    return new Map();
  }
}

async function hashFile(path: string, algorithm: "sha256" | "sha1", prefix = ""): Promise<string> {
  const hash = createHash(algorithm).update(prefix);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
