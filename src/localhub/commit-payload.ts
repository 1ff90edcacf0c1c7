/**
 * The NDJSON body of `POST /api/models/{repo}/commit/{rev}`: a `header` line (summary,
 * description, parentCommit), then `file` (inline base64), `lfsFile` (an uploaded LFS object),
 * `deletedFile` and `deletedFolder` lines.
 */
import { z } from "zod";
import { SHA1_HEX, SHA256_HEX } from "./git-hash.js";
import { badRequest } from "./hub-error.js";
import { parseJsonText, parseWith } from "./http/body.js";
import type { CommitOperation } from "./types.js";

const Line = z.discriminatedUnion("key", [
  z.object({
    key: z.literal("header"),
    value: z.looseObject({
      summary: z.string().nullish(),
      description: z.string().nullish(),
      parentCommit: z.string().regex(SHA1_HEX, "a 40-hex commit id").nullish(),
    }),
  }),
  z.object({
    key: z.literal("file"),
    value: z.looseObject({
      path: z.string(),
      content: z.string(),
      encoding: z.enum(["base64", "utf-8"]).nullish(),
    }),
  }),
  z.object({
    key: z.literal("lfsFile"),
    value: z.looseObject({
      path: z.string(),
      algo: z.literal("sha256").nullish(),
      oid: z.string().regex(SHA256_HEX, "a 64-hex sha256"),
      size: z.number().int().nonnegative(),
    }),
  }),
  z.object({ key: z.literal("deletedFile"), value: z.looseObject({ path: z.string() }) }),
  z.object({ key: z.literal("deletedFolder"), value: z.looseObject({ path: z.string() }) }),
]);

export interface CommitPayload {
  title: string;
  message: string;
  parentCommit: string | undefined;
  operations: CommitOperation[];
}

export function parseCommitPayload(text: string): CommitPayload {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const payload: CommitPayload = { title: "", message: "", parentCommit: undefined, operations: [] };
  let sawHeader = false;
  for (const [i, raw] of lines.entries()) {
    const line = parseWith(Line, parseJsonText(raw, `commit line ${i + 1}`), `commit line ${i + 1}`);
    if (line.key === "header") {
      if (i !== 0) throw badRequest("the commit header must be the first line");
      sawHeader = true;
      payload.title = line.value.summary ?? "";
      payload.message = line.value.description ?? "";
      payload.parentCommit = line.value.parentCommit ?? undefined;
    } else {
      payload.operations.push(toOperation(line));
    }
  }
  if (!sawHeader) throw badRequest('a commit must start with a {"key":"header"} line');
  if (payload.title.trim() === "") throw badRequest("the commit summary (title) must not be empty");
  return payload;
}

function toOperation(line: Exclude<z.infer<typeof Line>, { key: "header" }>): CommitOperation {
  switch (line.key) {
    case "file":
      return {
        kind: "put",
        path: line.value.path,
        content: Buffer.from(line.value.content, line.value.encoding === "utf-8" ? "utf8" : "base64"),
      };
    case "lfsFile":
      return { kind: "lfs", path: line.value.path, oid: line.value.oid, size: line.value.size };
    case "deletedFile":
      return { kind: "delete", path: line.value.path };
    case "deletedFolder":
      return { kind: "deleteFolder", path: line.value.path };
  }
}
