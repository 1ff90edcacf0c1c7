import { readFile } from "node:fs/promises";
import { z } from "zod";
import { HubmergeError } from "../errors.js";
import { writeFileAtomic } from "../fs-atomic.js";

/** The lockfile sits at the repo root beside the manifests it pins. */
export const LOCKFILE_NAME = "hubmerge.lock.json";

const sha40 = z.string().regex(/^[0-9a-f]{40}$/, "a 40-hex commit sha");
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a 64-hex sha256");

const entrySchema = z.strictObject({
  manifestSha256: sha256,
  seed: z.string().regex(/^\d+$/),
  tool: z.string().min(1),
  /** Source reference → the commit it was merged at (null for local folders). */
  sources: z.record(z.string(), sha40.nullable()),
  output: z
    .strictObject({
      repo: z.string().min(1),
      commit: sha40,
      files: z.record(z.string(), sha256),
    })
    .nullable(),
  /** A mergekit-multi file's named merges: where each was published (null: a temporary folder). */
  intermediates: z
    .record(
      z.string(),
      z.strictObject({
        repo: z.string().min(1).nullable(),
        commit: sha40.nullable(),
        files: z.record(z.string(), sha256),
      }),
    )
    .optional(),
});

const lockSchema = z.strictObject({
  version: z.literal(1),
  manifests: z.record(z.string(), entrySchema),
});

export type LockEntry = z.infer<typeof entrySchema>;
export type Lockfile = z.infer<typeof lockSchema>;

export function emptyLockfile(): Lockfile {
  return { version: 1, manifests: {} };
}

export function parseLockfile(text: string, file = LOCKFILE_NAME): Lockfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HubmergeError("E_MANIFEST", `${file} is not valid JSON: ${(error as Error).message}`, {
      where: { file },
      hint: "fix the merge conflict or delete the file: the next run re-merges and writes it anew",
    });
  }
  const parsed = lockSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HubmergeError("E_MANIFEST", `${file}: ${issue.path.join(".") || "(top)"}: ${issue.message}`, {
      where: { file },
      hint: "the lockfile is written by hubmerge; restore it from git or delete it to re-merge everything",
    });
  }
  return parsed.data;
}

export async function readLockfile(path: string): Promise<Lockfile> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  return text === undefined ? emptyLockfile() : parseLockfile(text, path);
}

/** Stable text: keys sorted at every level, two-space indent, final newline; diffs stay small. */
export function serializeLockfile(lock: Lockfile): string {
  return JSON.stringify(sortKeys(lock), null, 2) + "\n";
}

export async function writeLockfile(path: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(path, serializeLockfile(lock));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}
