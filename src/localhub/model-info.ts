/** The model info document (`GET /api/models/{repo}[/revision/{rev}]`) for one commit. */
import { readFile } from "node:fs/promises";
import type { BlobStore } from "./blob-store.js";
import { parseCardData } from "../source/card-data.js";
import { own } from "./own.js";
import type { CommitRecord, RepoRecord, Snapshot } from "./types.js";

/** README.md and config.json larger than this are not parsed. */
const MAX_PARSED_FILE_BYTES = 1024 * 1024;

export async function describeModel(
  blobs: BlobStore,
  repo: RepoRecord,
  commit: CommitRecord,
  opts: { blobs: boolean },
): Promise<Record<string, unknown>> {
  const cardData = parseCardData((await readSmallText(blobs, commit.files, "README.md")) ?? "");
  const config = parseJsonObject(await readSmallText(blobs, commit.files, "config.json"));
  const paths = Object.keys(commit.files).sort();
  return {
    _id: repo.uid,
    id: repo.id,
    modelId: repo.id,
    author: repo.id.split("/")[0],
    sha: commit.id,
    lastModified: commit.date,
    createdAt: repo.createdAt,
    private: repo.private,
    gated: repo.gated,
    disabled: false,
    downloads: 0,
    likes: 0,
    library_name: typeof cardData?.library_name === "string" ? cardData.library_name : undefined,
    pipeline_tag: typeof cardData?.pipeline_tag === "string" ? cardData.pipeline_tag : undefined,
    tags: tagsOf(cardData, paths),
    cardData,
    config,
    siblings: paths.map((path) => sibling(commit.files, path, opts.blobs)),
    spaces: [],
    usedStorage: paths.reduce((total, path) => total + (commit.files[path]?.size ?? 0), 0),
  };
}

/** The document restricted to `_id`, `id` and the requested keys, as the Hub does for `expand`. */
export function pickExpanded(info: Record<string, unknown>, expand: string[]): Record<string, unknown> {
  if (expand.length === 0) return info;
  const picked: Record<string, unknown> = { _id: info._id, id: info.id };
  for (const key of expand) if (Object.hasOwn(info, key)) picked[key] = info[key];
  return picked;
}

function sibling(files: Snapshot, path: string, withBlobs: boolean): Record<string, unknown> {
  const entry = files[path];
  if (!withBlobs || !entry) return { rfilename: path };
  return {
    rfilename: path,
    size: entry.size,
    blobId: entry.oid,
    ...(entry.lfs && {
      lfs: { sha256: entry.lfs.oid, size: entry.lfs.size, pointerSize: entry.lfs.pointerSize },
    }),
  };
}

function tagsOf(cardData: Record<string, unknown> | undefined, paths: string[]): string[] {
  const tags = new Set<string>();
  if (typeof cardData?.library_name === "string") tags.add(cardData.library_name);
  if (paths.some((path) => path.endsWith(".safetensors"))) tags.add("safetensors");
  const cardTags = cardData?.tags;
  if (Array.isArray(cardTags)) for (const tag of cardTags) if (typeof tag === "string") tags.add(tag);
  if (typeof cardData?.license === "string") tags.add(`license:${cardData.license}`);
  if (cardData?.base_model_relation === "merge") tags.add("merge");
  return [...tags];
}

async function readSmallText(blobs: BlobStore, files: Snapshot, path: string): Promise<string | undefined> {
  const entry = own(files, path);
  if (!entry || entry.size > MAX_PARSED_FILE_BYTES) return undefined;
  return readFile(blobs.contentPath(entry), "utf8");
}

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
