/**
 * One byte range of a Hub file, read with `Range: bytes=a-b` into a caller's buffer. The answer
 * must be 206 with a matching `Content-Range` (or a 200 when the whole file was asked for). When
 * the connection dies in the middle of the body, the read resumes from the byte it reached with
 * a new range request for the rest; attempts that reach no new byte count against a budget.
 */
import { HubmergeError } from "../errors.js";
import type { HubFileLocation } from "./hub-file-location.js";

export interface RangeReadDeps {
  /** Turns a non-2xx answer into the error to throw. */
  failure: (response: Response) => Promise<Error>;
  /** Consecutive attempts without progress allowed before giving up. */
  maxStalls: number;
  /** Waits before the n-th consecutive stalled attempt (1-based). */
  backoff: (stall: number) => Promise<void>;
  signal?: AbortSignal;
}

export interface RangeTarget {
  /** Where the file's bytes are (its resolve URL, or the signed URL it redirects to). */
  location: HubFileLocation;
  /** What to call the file in errors. */
  name: string;
  fileSize: number;
  /** First byte, inclusive. */
  start: number;
  /** Last byte, exclusive. */
  end: number;
}

/** Fills `into[at .. at + (end - start))` with the bytes `start..end` of the file. */
export async function readRange(
  target: RangeTarget,
  into: Uint8Array,
  at: number,
  deps: RangeReadDeps,
): Promise<void> {
  let position = target.start;
  let stalls = 0;
  let lastProblem = "";
  while (position < target.end) {
    const before = position;
    const response = await target.location.fetchRange(`bytes=${position}-${target.end - 1}`);
    if (!response.ok) throw await deps.failure(response);
    checkRangeAnswer(response, target, position);
    try {
      await pump(response, into, at + (position - target.start), target.end - position, (n) => {
        position += n;
      });
    } catch (error) {
      if (deps.signal?.aborted) throw error;
      if (error instanceof HubmergeError) throw error;
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    if (position >= target.end) return;
    stalls = position === before ? stalls + 1 : 0;
    if (stalls > deps.maxStalls) {
      throw new HubmergeError(
        "E_NETWORK",
        `reading ${target.name} kept failing at byte ${position} of ${target.fileSize}: ${lastProblem || "the body ended early"}`,
        {
          hint: "the connection to the Hub is unstable: try again, or use --cache-dir to keep what was read",
        },
      );
    }
    if (stalls > 0) await deps.backoff(stalls);
  }
}

/**
 * Checks that the answer carries the asked bytes. A server that ignores `Range` sends the whole
 * file with 200: usable only when the read starts at byte 0 (the rest is not read).
 */
function checkRangeAnswer(response: Response, target: RangeTarget, position: number): void {
  const last = target.end - 1;
  if (response.status === 206) {
    const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get("Content-Range") ?? "");
    const [, first, final, total] = match ?? [];
    if (
      Number(first) === position &&
      Number(final) === last &&
      (total === "*" || Number(total) === target.fileSize)
    ) {
      return;
    }
    throw protocolError(
      target,
      `answered Content-Range ${JSON.stringify(response.headers.get("Content-Range"))} for bytes ${position}-${last}/${target.fileSize}`,
    );
  }
  if (response.status === 200 && position === 0) {
    const length = response.headers.get("Content-Length");
    if (length === null || Number(length) === target.fileSize) return;
  }
  throw protocolError(target, `answered ${response.status} to a range request for bytes ${position}-${last}`);
}

function protocolError(target: RangeTarget, what: string): HubmergeError {
  return new HubmergeError("E_NETWORK", `the Hub ${what} of ${target.name}`, {
    hint: "the server does not serve byte ranges correctly: check --hub-url / HF_ENDPOINT",
  });
}

/** Copies the body into place chunk by chunk, reporting progress as it goes. */
async function pump(
  response: Response,
  into: Uint8Array,
  at: number,
  want: number,
  advanced: (bytes: number) => void,
): Promise<void> {
  if (response.body === null) return;
  const reader = response.body.getReader();
  let got = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      // A 200 for the whole file may carry more than this range wants; stop at what is needed.
      const take = Math.min(value.byteLength, want - got);
      into.set(value.subarray(0, take), at + got);
      got += take;
      advanced(take);
      if (got >= want) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
