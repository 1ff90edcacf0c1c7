/**
 * The Hub sends the webhook secret verbatim in `X-Webhook-Secret`. Comparing SHA-256 digests
 * with `timingSafeEqual` takes the same time whatever the input: equal lengths by construction,
 * so not even the secret's length leaks.
 */
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

export function secretMatches(given: string | undefined, expected: string): boolean {
  const same = timingSafeEqual(digest(given ?? ""), digest(expected));
  return same && given !== undefined && expected.length > 0;
}
