/**
 * Where one Hub file's bytes come from. The Hub answers `resolve` of an LFS file with a 302 to a
 * CDN and a signed, expiring URL. The redirect is followed here, not by fetch, so that:
 * - `Authorization` goes only to the Hub's own origin, never to the CDN (a signed URL needs no
 *   token, and a token must not leak to another host);
 * - the signed URL is kept for the file's later ranges, sparing the Hub a round trip per range,
 *   until the CDN refuses it (403/410: expired) — then the file is resolved again (a few times
 *   at most in a row, so a CDN that refuses everything ends the read instead of looping).
 * Concurrent first reads of a file wait for one resolve rather than each asking the Hub.
 */
import { HubmergeError } from "../errors.js";

export interface FileLocationDeps {
  /** A retrying fetch; called with `redirect: "manual"`. */
  fetch: typeof fetch;
  /** Sent to the Hub's origin only (the token). */
  headers: Record<string, string>;
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 5;
/**
 * Signed URLs refused in a row before the refusal is final. A fresh URL can be refused too: it
 * may expire while its request waits out a 503 or a slow connection.
 */
const MAX_REFUSALS = 3;

interface Location {
  url: string;
  headers: Record<string, string>;
}

export class HubFileLocation {
  private signed: Location | undefined;
  /** Settles once the first resolve knows whether the file redirects. */
  private locating: Promise<void> | undefined;

  constructor(
    private readonly resolveUrl: string,
    private readonly deps: FileLocationDeps,
  ) {}

  /** The URL later ranges go to (the signed one, once known); for tests and diagnostics. */
  get current(): string {
    return this.signed?.url ?? this.resolveUrl;
  }

  /** A `GET` of `range` (`bytes=a-b`): its answer, or the failed one, redirects already followed. */
  async fetchRange(range: string): Promise<Response> {
    for (let refusals = 0; ; refusals++) {
      await this.locating;
      const via = this.signed;
      const { answer, at } = via ? await this.follow(via, range) : await this.resolve(range);
      const refused = answer.status === 403 || answer.status === 410;
      // Only a redirect target (a signed URL) is asked again; the Hub's own refusal is final.
      if (!refused || at.url === this.resolveUrl || refusals >= MAX_REFUSALS) return answer;
      // Expired or revoked: forget it (unless a newer one replaced it meanwhile) and resolve again.
      await answer.body?.cancel().catch(() => undefined);
      if (this.signed === via) this.signed = undefined;
    }
  }

  /** Asks the Hub; the first caller's answer tells whether (and where) the file redirects. */
  private async resolve(range: string): Promise<{ answer: Response; at: Location }> {
    const first = this.locating === undefined;
    let done = () => {};
    if (first) this.locating = new Promise<void>((resolve) => (done = resolve));
    try {
      return await this.follow({ url: this.resolveUrl, headers: this.deps.headers }, range, (location) => {
        this.signed = location;
      });
    } finally {
      done();
    }
  }

  /** Sends the request and follows redirects; `Authorization` only to the Hub's origin. */
  private async follow(
    start: Location,
    range: string,
    redirected?: (to: Location) => void,
  ): Promise<{ answer: Response; at: Location }> {
    const hubOrigin = new URL(this.resolveUrl).origin;
    let at = start;
    for (let hops = 0; ; hops++) {
      const answer = await this.deps.fetch(at.url, {
        headers: { ...at.headers, Range: range },
        redirect: "manual",
        signal: this.deps.signal,
      });
      const location = answer.headers.get("Location");
      if (answer.status < 300 || answer.status > 399 || answer.status === 304 || location === null) {
        if (at !== start && answer.ok) redirected?.(at);
        return { answer, at };
      }
      await answer.body?.cancel().catch(() => undefined);
      if (hops >= MAX_REDIRECTS) throw redirectError(this.resolveUrl, `more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, at.url);
      if (next.protocol !== "https:" && next.protocol !== "http:") {
        throw redirectError(this.resolveUrl, `a redirect to a ${next.protocol} URL`);
      }
      at = { url: next.href, headers: next.origin === hubOrigin ? this.deps.headers : {} };
    }
  }
}

function redirectError(resolveUrl: string, what: string): HubmergeError {
  return new HubmergeError("E_NETWORK", `the Hub answered ${what} for ${resolveUrl.split("?")[0]}`, {
    hint: "check --hub-url / HF_ENDPOINT: it does not redirect like a Hugging Face Hub",
  });
}
