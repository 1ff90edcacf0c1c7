/** The hashes the Hub exposes: git blob sha1s, LFS sha256s, LFS pointer text, commit ids. */
import { createHash } from "node:crypto";
import type { Snapshot } from "./types.js";

export const SHA1_HEX = /^[0-9a-f]{40}$/;
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Git's blob object id: sha1 of `blob <size>\0<content>`. */
export function gitBlobSha1(content: Uint8Array): string {
  return createHash("sha1").update(`blob ${content.byteLength}\0`).update(content).digest("hex");
}

export function sha256Hex(content: Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

/** What git stores in place of an LFS file (the git-lfs spec v1 pointer). */
export function lfsPointerText(oid: string, size: number): string {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${size}\n`;
}

/**
 * A 40-hex commit id. Not git's object format (there are no tree objects here) but stable for
 * the same content, parents, message, author and date, like git's.
 */
export function commitId(fields: {
  parents: string[];
  title: string;
  message: string;
  author: string;
  date: string;
  files: Snapshot;
}): string {
  const files = Object.keys(fields.files)
    .sort()
    .map((path) => `${path}\0${fields.files[path]?.oid}`);
  const canonical = JSON.stringify([
    fields.parents,
    fields.title,
    fields.message,
    fields.author,
    fields.date,
    files,
  ]);
  return createHash("sha1").update(`commit\0${canonical}`).digest("hex");
}
