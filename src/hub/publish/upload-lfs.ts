/**
 * LFS objects uploaded on their own, before (and apart from) the commit that names them: the
 * git-lfs batch API tells which objects the Hub lacks, and each missing one is PUT whole or, when
 * the Hub answers with a `chunk_size`, in parts sent in parallel and then completed. Objects are
 * addressed by their sha256, so an upload is harmless until a commit references it and a second
 * try finds it already stored (no `actions` in the batch answer). `@huggingface/hub` keeps these
 * steps inside `commit()`, which hashes every file again; here the caller brings the sha256.
 */
import { HubmergeError } from "../../errors.js";
import { redactToken } from "../client/errors.js";

/** Where objects go: the repo's LFS endpoint, with a fetch that retries (retrying-fetch.ts). */
export interface LfsTarget {
  hubUrl: string;
  token: string;
  /** `owner/name` of a model repo. */
  repo: string;
  fetch: typeof fetch;
  signal?: AbortSignal;
  /** Parts of one multipart upload in flight at once (default 4). */
  partConcurrency?: number;
}

export interface LfsObject {
  /** sha256, hex. */
  oid: string;
  size: number;
}

/** Reads `length` bytes from `offset` of the object's content. */
export type ReadRange = (offset: number, length: number) => Promise<Uint8Array<ArrayBuffer>>;

interface BatchAnswer {
  oid: string;
  size: number;
  actions?: { upload?: { href: string; header?: Record<string, string> } };
  error?: { code?: number; message?: string };
}

const LFS_JSON = "application/vnd.git-lfs+json";
const DEFAULT_PART_CONCURRENCY = 4;
/** Objects per batch request (the Hub's own clients send 100 at most). */
const BATCH_SIZE = 100;

/** The batch API's answer for each object, in the order given. */
export async function lfsBatch(target: LfsTarget, objects: readonly LfsObject[]): Promise<BatchAnswer[]> {
  const answers: BatchAnswer[] = [];
  for (let i = 0; i < objects.length; i += BATCH_SIZE) {
    const chunk = objects.slice(i, i + BATCH_SIZE);
    const response = await target.fetch(`${target.hubUrl}/${target.repo}.git/info/lfs/objects/batch`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${target.token}`,
        Accept: LFS_JSON,
        "Content-Type": LFS_JSON,
      },
      body: JSON.stringify({
        operation: "upload",
        transfers: ["basic", "multipart"],
        hash_algo: "sha_256",
        ref: { name: "main" },
        objects: chunk.map(({ oid, size }) => ({ oid, size })),
      }),
      signal: target.signal,
    });
    if (!response.ok) throw await httpError(target, "asking which LFS objects the Hub has", response);
    const body = (await response.json()) as { objects?: BatchAnswer[] };
    for (const object of chunk) {
      const answer = body.objects?.find((a) => a.oid === object.oid);
      if (!answer) throw lfsError(target, `the LFS batch answer left out object ${object.oid}`);
      answers.push(answer);
    }
  }
  return answers;
}

/** The objects the Hub does not hold yet (with the given size). */
export async function missingLfsObjects(
  target: LfsTarget,
  objects: readonly LfsObject[],
): Promise<LfsObject[]> {
  const answers = await lfsBatch(target, objects);
  return objects.filter((_, i) => answers[i]!.error !== undefined || answers[i]!.actions?.upload);
}

/** Uploads one object unless the Hub has it; says which happened. */
export async function uploadLfsObject(
  target: LfsTarget,
  object: LfsObject,
  read: ReadRange,
  name = object.oid,
): Promise<"uploaded" | "present"> {
  const [answer] = await lfsBatch(target, [object]);
  if (answer!.error) {
    throw lfsError(
      target,
      `the Hub refused LFS object ${name}: ${answer!.error.message ?? "no reason given"}`,
    );
  }
  const upload = answer!.actions?.upload;
  if (!upload) return "present";
  const chunkSize = Number(upload.header?.["chunk_size"] ?? NaN);
  if (Number.isSafeInteger(chunkSize) && chunkSize > 0) {
    await uploadParts(target, object, read, upload, chunkSize, name);
  } else {
    const response = await target.fetch(upload.href, {
      method: "PUT",
      body: await read(0, object.size),
      signal: target.signal,
    });
    if (!response.ok) throw await httpError(target, `uploading ${name}`, response);
    await response.arrayBuffer();
  }
  return "uploaded";
}

/** The Hub's multipart protocol: one URL per part (`00001`…), each answering an ETag, then completion. */
async function uploadParts(
  target: LfsTarget,
  object: LfsObject,
  read: ReadRange,
  upload: { href: string; header?: Record<string, string> },
  chunkSize: number,
  name: string,
): Promise<void> {
  const count = Math.max(1, Math.ceil(object.size / chunkSize));
  const urls = Array.from({ length: count }, (_, i) => upload.header?.[String(i + 1).padStart(5, "0")]);
  if (urls.some((url) => url === undefined)) {
    throw lfsError(
      target,
      `the Hub's multipart plan for ${name} does not list a URL for each of ${count} parts`,
    );
  }
  const etags: string[] = new Array<string>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const offset = i * chunkSize;
      const body = await read(offset, Math.min(chunkSize, object.size - offset));
      const response = await target.fetch(urls[i]!, { method: "PUT", body, signal: target.signal });
      if (!response.ok)
        throw await httpError(target, `uploading part ${i + 1}/${count} of ${name}`, response);
      await response.arrayBuffer();
      const etag = response.headers.get("ETag");
      if (!etag) throw lfsError(target, `the Hub answered part ${i + 1} of ${name} without an ETag`);
      etags[i] = etag;
    }
  };
  const workers = Math.min(count, target.partConcurrency ?? DEFAULT_PART_CONCURRENCY);
  await Promise.all(Array.from({ length: workers }, worker));
  const response = await target.fetch(upload.href, {
    method: "POST",
    headers: { Accept: LFS_JSON, "Content-Type": LFS_JSON },
    body: JSON.stringify({ oid: object.oid, parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })) }),
    signal: target.signal,
  });
  if (!response.ok) throw await httpError(target, `completing the upload of ${name}`, response);
  await response.arrayBuffer();
}

async function httpError(target: LfsTarget, action: string, response: Response): Promise<HubmergeError> {
  const text = (await response.text().catch(() => "")).slice(0, 300);
  const code = response.status === 401 || response.status === 403 ? "E_HUB_AUTH" : "E_NETWORK";
  return new HubmergeError(
    code,
    redactToken(
      `${action} on ${target.repo} failed: HTTP ${response.status}${text ? ` (${text})` : ""}`,
      target.token,
    ),
    {
      where: { model: target.repo },
      hint:
        code === "E_HUB_AUTH"
          ? "use a token with write access to the output repo"
          : "nothing was committed; re-run: objects already uploaded are kept and not sent again",
    },
  );
}

function lfsError(target: LfsTarget, message: string): HubmergeError {
  return new HubmergeError("E_NETWORK", redactToken(message, target.token), {
    where: { model: target.repo },
    hint: "nothing was committed; re-run, and report it if it persists",
  });
}
