/**
 * Who is calling: the bearer token is looked up among the configured tokens. Comparison hashes
 * both sides to equal-length digests and uses timingSafeEqual over every configured token, so
 * neither a token's content nor its position shows in the timing. Tokens are never logged.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { checkTokenSpecs } from "./token-file.js";
import type { TokenSpec } from "./types.js";

export type Identity =
  | { kind: "anonymous" }
  | { kind: "invalid" }
  | { kind: "user"; user: string; orgs: string[]; role: "read" | "write"; tokenName: string };

interface KnownToken {
  digest: Buffer;
  spec: TokenSpec;
  name: string;
}

export class TokenRegistry {
  private readonly known: KnownToken[];

  /** `specs` are checked with the tokens file's strict schema: a bad one is an E_USAGE error. */
  constructor(specs: TokenSpec[]) {
    this.known = checkTokenSpecs(specs, "the tokens option").map((spec, i) => ({
      digest: digest(spec.token),
      spec,
      name: `token-${i + 1}`,
    }));
  }

  /** Identity for an `Authorization` header value (or its absence). */
  identify(authorization: string | undefined): Identity {
    if (authorization === undefined || authorization.trim() === "") return { kind: "anonymous" };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) return { kind: "invalid" };
    const presented = digest(match[1]);
    let found: KnownToken | undefined;
    for (const candidate of this.known) {
      if (timingSafeEqual(candidate.digest, presented) && found === undefined) found = candidate;
    }
    if (!found) return { kind: "invalid" };
    const { user, orgs = [], role = "write" } = found.spec;
    return { kind: "user", user, orgs, role, tokenName: found.name };
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}
