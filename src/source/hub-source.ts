/**
 * A Hub model repository pinned to one commit. `resolve` turns the reference's branch, tag or
 * sha into a commit sha once and lists the files once; from then on every read names that sha,
 * so a commit landing on the branch mid-merge changes nothing. Small files are read whole,
 * shards through range requests (see hub-byte-source.ts); nothing is downloaded up front.
 */
import { listFiles, modelInfo } from "@huggingface/hub";
import { parseCardData } from "./card-data.js";
import { HubmergeError } from "../errors.js";
import type { HubConfig } from "../hub/client/config.js";
import { HubErrorCodes } from "../hub/client/error-codes.js";
import { hubFailureError, toHubmergeError, type HubErrorContext } from "../hub/client/errors.js";
import { createRetryingFetch, type RetryOptions } from "../hub/client/retrying-fetch.js";
import type { ModelRef } from "../model-ref.js";
import { readInto, type ByteSource } from "./byte-source.js";
import { ConnectionBudget } from "./connection-budget.js";
import { DEFAULT_MAX_RANGE_BYTES, hubByteSource, type HubFileRef } from "./hub-byte-source.js";
import { HubCache } from "./hub-cache.js";
import { HubFileLocation, type FileLocationDeps } from "./hub-file-location.js";
import type { RangeReadDeps } from "./hub-range-read.js";
import type { ModelSource } from "./model-source.js";

export interface HubSourceOptions {
  hub: HubConfig;
  /** The fetch underneath the retries (default: the global one). */
  fetch?: typeof fetch;
  /** Keep file listings and byte blocks here between runs. */
  cacheDir?: string;
  /** Retry policy (tests pass a fast `sleep`). */
  retry?: RetryOptions;
  /** Largest single range request (default 64 MiB). */
  maxRangeBytes?: number;
  /** Cache block size (default 16 MiB). */
  cacheBlockBytes?: number;
  /**
   * Range requests in flight: a budget shared with the run's other sources, or a number for a
   * budget of this source's own (default 16).
   */
  connections?: ConnectionBudget | number;
  /** Smallest part a read is split into (default 1 MiB; tests use small ones). */
  minPartBytes?: number;
  signal?: AbortSignal;
}

/** Small files are read whole; anything larger must go through open(). */
const MAX_SMALL_FILE_BYTES = 256 * 1024 * 1024;
/** A hostile or broken server must not make the listing unbounded. */
const MAX_FILES = 100_000;
const SHA = /^[0-9a-f]{40}$/;

interface Plumbing {
  hub: HubConfig;
  apiFetch: typeof fetch;
  codes: HubErrorCodes;
  range: Omit<RangeReadDeps, "failure">;
  location: FileLocationDeps;
  connections: ConnectionBudget;
  minPartBytes: number | undefined;
  cache: HubCache | undefined;
  maxRangeBytes: number;
  signal: AbortSignal | undefined;
}

export class HubSource implements ModelSource {
  private readonly inFlight = new Map<string, Promise<Uint8Array>>();
  /** Per file, where its bytes are: kept across opens so a signed CDN URL is reused. */
  private readonly locations = new Map<string, HubFileLocation>();
  private card: Promise<Record<string, unknown> | undefined> | undefined;

  private constructor(
    readonly ref: string,
    readonly repo: string,
    /** The pinned commit sha. */
    readonly revision: string,
    /** What the reference asked for (`main`, a tag, a sha), undefined for the default branch. */
    readonly requestedRevision: string | undefined,
    private readonly files: Map<string, HubFileRef>,
    private readonly io: Plumbing,
  ) {}

  static async resolve(ref: ModelRef, options: HubSourceOptions): Promise<HubSource> {
    if (ref.kind !== "hub" || ref.repo === undefined) {
      throw new HubmergeError("E_INTERNAL", `${ref.raw} is not a Hub reference`, {
        where: { model: ref.raw },
      });
    }
    const io = plumbing(options);
    const ctx = (action: string, revision = ref.revision): HubErrorContext => ({
      action,
      repo: ref.repo!,
      model: ref.raw,
      revision,
      hubUrl: io.hub.hubUrl,
      token: io.hub.token,
    });
    const sha = await resolveSha(ref.repo, ref.revision, io, ctx("resolving the revision"));
    const files = await listAt(ref.repo, sha, io, ctx("listing files", sha));
    return new HubSource(ref.raw, ref.repo, sha, ref.revision, files, io);
  }

  /** Only the commit sha a reference points at now: one request (none for a pinned sha). */
  static async resolveRevision(ref: ModelRef, options: HubSourceOptions): Promise<string> {
    if (ref.kind !== "hub" || ref.repo === undefined) {
      throw new HubmergeError("E_INTERNAL", `${ref.raw} is not a Hub reference`, {
        where: { model: ref.raw },
      });
    }
    const io = plumbing(options);
    return resolveSha(ref.repo, ref.revision, io, {
      action: "resolving the revision",
      repo: ref.repo,
      model: ref.raw,
      revision: ref.revision,
      hubUrl: io.hub.hubUrl,
      token: io.hub.token,
    });
  }

  async listFiles(): Promise<string[]> {
    return [...this.files.keys()].sort();
  }

  /** The listing entry of a file (size, hashes), if the commit has it. */
  file(path: string): HubFileRef | undefined {
    return this.files.get(path);
  }

  async readFile(path: string): Promise<Uint8Array | null> {
    const file = this.files.get(path);
    if (!file) return null;
    if (file.size > MAX_SMALL_FILE_BYTES) {
      throw new HubmergeError("E_IO", `${path} is ${file.size} bytes, too large to read whole`, {
        where: { model: this.ref },
      });
    }
    return this.byteSource(file).read(0, file.size);
  }

  async open(path: string): Promise<ByteSource> {
    const file = this.files.get(path);
    if (!file) {
      throw new HubmergeError("E_HUB_NOT_FOUND", `${path} is not in ${this.repo} at ${this.revision}`, {
        where: { model: this.ref },
        hint: "check the file name (an index may name a shard the repo lacks), or pin another revision",
      });
    }
    return this.byteSource(file);
  }

  /** README front matter: license, pipeline_tag, base_model (lineage); undefined without one. */
  cardData(): Promise<Record<string, unknown> | undefined> {
    this.card ??= this.readFile("README.md").then((bytes) =>
      bytes ? parseCardData(new TextDecoder().decode(bytes)) : undefined,
    );
    return this.card;
  }

  /** Reads go through the Hub cache, whose every byte is checked against its signed record. */
  get readsVerifiedCache(): boolean {
    return this.io.cache !== undefined;
  }

  /** `{hub}/{repo}/resolve/{sha}/{path}`, each path segment encoded. */
  resolveUrl(path: string): string {
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    return `${this.io.hub.hubUrl}/${this.repo}/resolve/${this.revision}/${encoded}`;
  }

  private locationOf(path: string): HubFileLocation {
    let location = this.locations.get(path);
    if (!location)
      this.locations.set(path, (location = new HubFileLocation(this.resolveUrl(path), this.io.location)));
    return location;
  }

  private byteSource(file: HubFileRef): ByteSource {
    const ctx: HubErrorContext = {
      action: `reading ${file.path}`,
      repo: this.repo,
      model: this.ref,
      revision: this.revision,
      path: file.path,
      hubUrl: this.io.hub.hubUrl,
      token: this.io.hub.token,
    };
    const source = hubByteSource(file, {
      ...this.io.range,
      failure: (response) => responseError(response, ctx),
      location: this.locationOf(file.path),
      name: `${this.repo}@${this.revision.slice(0, 12)}/${file.path}`,
      maxRangeBytes: this.io.maxRangeBytes,
      minPartBytes: this.io.minPartBytes,
      connections: this.io.connections,
      cache: this.io.cache,
      inFlight: this.inFlight,
    });
    return {
      name: source.name,
      size: source.size,
      read: (offset, length) => withHubErrors(() => source.read(offset, length), ctx),
      readInto: (offset, target) => withHubErrors(() => readInto(source, offset, target), ctx),
    };
  }
}

/** Runs a read, turning what fails (except a bad range) into a HubmergeError that names the file. */
async function withHubErrors<T>(read: () => Promise<T>, ctx: HubErrorContext): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof RangeError) throw error;
    throw toHubmergeError(error, ctx);
  }
}

function plumbing(options: HubSourceOptions): Plumbing {
  const codes = new HubErrorCodes();
  const retry = options.retry ?? {};
  const rangeFetch = createRetryingFetch({ ...retry, bufferLimit: 0, fetch: options.fetch });
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const base = retry.baseDelayMs ?? 500;
  return {
    hub: options.hub,
    codes,
    apiFetch: createRetryingFetch({ ...retry, fetch: codes.wrap(options.fetch) }),
    location: {
      fetch: rangeFetch,
      headers: options.hub.token ? { Authorization: `Bearer ${options.hub.token}` } : {},
      signal: options.signal,
    },
    connections:
      options.connections instanceof ConnectionBudget
        ? options.connections
        : new ConnectionBudget(options.connections),
    minPartBytes: options.minPartBytes,
    range: {
      maxStalls: retry.retries ?? 6,
      backoff: (stall) =>
        sleep(Math.min(base * 2 ** (stall - 1), retry.maxDelayMs ?? 20_000), options.signal),
      signal: options.signal,
    },
    cache: options.cacheDir ? new HubCache(options.cacheDir, options.cacheBlockBytes) : undefined,
    maxRangeBytes: options.maxRangeBytes ?? DEFAULT_MAX_RANGE_BYTES,
    signal: options.signal,
  };
}

function credentials(io: Plumbing) {
  return { hubUrl: io.hub.hubUrl, accessToken: io.hub.token, fetch: io.apiFetch };
}

async function resolveSha(
  repo: string,
  revision: string | undefined,
  io: Plumbing,
  ctx: HubErrorContext,
): Promise<string> {
  let sha: unknown;
  try {
    const info = await modelInfo({ ...credentials(io), name: repo, revision, additionalFields: ["sha"] });
    sha = (info as { sha?: unknown }).sha;
  } catch (error) {
    throw toHubmergeError(error, ctx, io.codes);
  }
  if (typeof sha !== "string" || !SHA.test(sha)) {
    throw new HubmergeError("E_NETWORK", `the Hub gave no commit sha for ${repo}@${revision ?? "HEAD"}`, {
      where: { model: ctx.model },
      hint: "check --hub-url / HF_ENDPOINT: it does not look like a Hugging Face Hub",
    });
  }
  return sha;
}

interface CachedListing {
  files: HubFileRef[];
}

async function listAt(
  repo: string,
  sha: string,
  io: Plumbing,
  ctx: HubErrorContext,
): Promise<Map<string, HubFileRef>> {
  const cached = await io.cache?.getListing<CachedListing>(repo, sha);
  if (cached && Array.isArray(cached.files) && cached.files.every(isFileRef)) {
    return new Map(cached.files.map((f) => [f.path, f]));
  }
  const files = new Map<string, HubFileRef>();
  try {
    const entries = listFiles({
      ...credentials(io),
      repo: { type: "model", name: repo },
      revision: sha,
      recursive: true,
    });
    for await (const entry of entries) {
      if (entry.type !== "file") continue;
      const file: HubFileRef = {
        path: entry.path,
        size: entry.lfs?.size ?? entry.size,
        oid: entry.oid,
        lfsOid: entry.lfs?.oid,
      };
      if (!isFileRef(file))
        throw new HubmergeError(
          "E_NETWORK",
          `the Hub listed a malformed entry ${JSON.stringify(entry.path)} in ${repo}`,
          { where: { model: ctx.model } },
        );
      files.set(file.path, file);
      if (files.size > MAX_FILES)
        throw new HubmergeError("E_NETWORK", `${repo} lists more than ${MAX_FILES} files`, {
          where: { model: ctx.model },
        });
    }
  } catch (error) {
    throw toHubmergeError(error, ctx, io.codes);
  }
  await io.cache
    ?.putListing(repo, sha, { files: [...files.values()] } satisfies CachedListing)
    .catch(() => undefined);
  return files;
}

function isFileRef(value: unknown): value is HubFileRef {
  const f = value as HubFileRef;
  return (
    typeof f === "object" &&
    f !== null &&
    typeof f.path === "string" &&
    f.path.length > 0 &&
    !f.path.split("/").some((part) => part === "" || part === "." || part === "..") &&
    Number.isSafeInteger(f.size) &&
    f.size >= 0 &&
    (f.oid === undefined || typeof f.oid === "string") &&
    (f.lfsOid === undefined || typeof f.lfsOid === "string")
  );
}

/** A failed resolve answer: the status, `X-Error-Code` and the server's message, briefly read. */
async function responseError(response: Response, ctx: HubErrorContext): Promise<Error> {
  let serverMessage: string | undefined;
  try {
    const text = (await response.text()).slice(0, 2000);
    const json = JSON.parse(text) as { error?: unknown; message?: unknown };
    const said = json.error ?? json.message;
    serverMessage = typeof said === "string" ? said : undefined;
  } catch {
    serverMessage = response.headers.get("X-Error-Message") ?? undefined;
  }
  const errorCode = response.headers.get("X-Error-Code") ?? undefined;
  return hubFailureError({ status: response.status, errorCode, serverMessage }, ctx);
}
