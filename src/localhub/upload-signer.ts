/**
 * Upload URLs handed out by the LFS batch API are capabilities: the client PUTs to them without
 * an Authorization header (as with the Hub's storage URLs), so each carries an HMAC of what it
 * allows under a per-process secret.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { HubError } from "./hub-error.js";

export class UploadSigner {
  private readonly secret = randomBytes(32);

  sign(...fields: (string | number)[]): string {
    return createHmac("sha256", this.secret).update(fields.join("\n")).digest("hex");
  }

  /** Throws 403 unless `signature` was made by `sign` with the same fields. */
  verify(signature: string | null, ...fields: (string | number)[]): void {
    const expected = Buffer.from(this.sign(...fields), "hex");
    const given = Buffer.from(signature ?? "", "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HubError(403, "invalid or expired upload URL; request a new one from the LFS batch API");
    }
  }
}
