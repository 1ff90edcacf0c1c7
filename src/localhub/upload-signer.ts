/**
 * Upload URLs handed out by the LFS batch API are capabilities: the client PUTs to them without
 * an Authorization header (as with the Hub's storage URLs), so each carries an HMAC, under a
 * per-process secret, of what it allows (operation, repo, object, size) and until when. The batch
 * answer's `expires_in` is the same TTL, so a URL stops working when the client was told it would.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { HubError } from "./hub-error.js";

export const DEFAULT_UPLOAD_URL_TTL_SECONDS = 3600;

export class UploadSigner {
  private readonly secret = randomBytes(32);

  constructor(
    /** How long a granted URL stays valid. */
    readonly ttlSeconds = DEFAULT_UPLOAD_URL_TTL_SECONDS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The query parameters (`exp`, `sig`) that allow `fields` until the TTL has passed. */
  grant(...fields: (string | number)[]): URLSearchParams {
    const exp = String(Math.ceil(this.now() + this.ttlSeconds * 1000));
    return new URLSearchParams({ exp, sig: this.sign(exp, fields) });
  }

  /** Throws 403 unless `query` holds an unexpired grant made by `grant` with the same fields. */
  verify(query: URLSearchParams, ...fields: (string | number)[]): void {
    const exp = query.get("exp") ?? "";
    const expected = Buffer.from(this.sign(exp, fields), "hex");
    const given = Buffer.from(query.get("sig") ?? "", "hex");
    const genuine = given.length === expected.length && timingSafeEqual(given, expected);
    if (!genuine || !/^\d+$/.test(exp) || Number(exp) < this.now()) {
      throw new HubError(403, "invalid or expired upload URL; request a new one from the LFS batch API");
    }
  }

  private sign(exp: string, fields: (string | number)[]): string {
    return createHmac("sha256", this.secret)
      .update(JSON.stringify([exp, ...fields]))
      .digest("hex");
  }
}
