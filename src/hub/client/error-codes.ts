/**
 * `@huggingface/hub` turns a failed answer into a `HubApiError` that keeps the status, URL and
 * request id but drops the Hub's `X-Error-Code` header — the only way to tell a missing repo from
 * a missing revision or file, or a gated repo from a bad token. A fetch wrapped here remembers
 * the code of each failed answer so that the error mapper can look it up afterwards.
 */

const REMEMBERED = 256;

export class HubErrorCodes {
  private readonly codes = new Map<string, string>();

  /** A fetch that records `X-Error-Code` of every failed answer, by request id and by URL. */
  wrap(inner: typeof fetch = globalThis.fetch): typeof fetch {
    const recording = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const response = await inner(input, init);
      const code = response.ok ? null : response.headers.get("X-Error-Code");
      if (code) {
        const requestId = response.headers.get("X-Request-Id");
        if (requestId) this.remember(`id:${requestId}`, code);
        if (response.url) this.remember(`url:${response.url}`, code);
      }
      return response;
    };
    return recording as typeof fetch;
  }

  /** The code of the answer an error came from (a HubApiError has `requestId` and `url`). */
  codeOf(error: { requestId?: string; url?: string }): string | undefined {
    return (
      (error.requestId && this.codes.get(`id:${error.requestId}`)) ||
      (error.url && this.codes.get(`url:${error.url}`)) ||
      undefined
    );
  }

  private remember(key: string, code: string): void {
    this.codes.delete(key);
    this.codes.set(key, code);
    if (this.codes.size > REMEMBERED) this.codes.delete(this.codes.keys().next().value!);
  }
}
