/**
 * GitHub App JWTs: RS256 tokens whose `iss` is the app id, valid for at most ten minutes.
 * The server verifies them with the app's public key; tests can mint them without @octokit/app.
 */
import { createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";

/** GitHub refuses an `exp` more than ten minutes ahead; allow a little clock drift on top. */
const MAX_LIFETIME_SECONDS = 600;
const DRIFT_SECONDS = 60;

export type JwtCheck = { ok: true } | { ok: false; reason: string };

export function looksLikeJwt(credential: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(credential);
}

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}

export function verifyAppJwt(token: string, appId: number, key: KeyObject, nowSeconds: number): JwtCheck {
  const [head = "", body = "", signature = ""] = token.split(".");
  const header = decodePart(head);
  const claims = decodePart(body);
  if (!looksLikeJwt(token) || header === undefined || claims === undefined) {
    return { ok: false, reason: "A JSON web token could not be decoded" };
  }
  if (header.alg !== "RS256")
    return { ok: false, reason: `JWT algorithm must be RS256, got ${String(header.alg)}` };
  const signed = verify(
    "RSA-SHA256",
    Buffer.from(`${head}.${body}`),
    key,
    Buffer.from(signature, "base64url"),
  );
  if (!signed) return { ok: false, reason: "A JSON web token could not be decoded (signature mismatch)" };
  if (String(claims.iss) !== String(appId)) {
    return {
      ok: false,
      reason: `'Issuer' claim ('iss') must be the app id ${appId}, got ${String(claims.iss)}`,
    };
  }
  const { iat, exp } = claims;
  if (typeof iat !== "number" || typeof exp !== "number") {
    return { ok: false, reason: "'Issued at' ('iat') and 'Expiration time' ('exp') claims must be numbers" };
  }
  if (iat > nowSeconds + DRIFT_SECONDS)
    return { ok: false, reason: "'Issued at' claim ('iat') is in the future" };
  if (exp <= nowSeconds) return { ok: false, reason: "'Expiration time' claim ('exp') is in the past" };
  if (exp > nowSeconds + MAX_LIFETIME_SECONDS + DRIFT_SECONDS) {
    return { ok: false, reason: "'Expiration time' claim ('exp') is too far in the future" };
  }
  return { ok: true };
}

/** An RS256 app JWT as @octokit/app makes one (iat 30 s back, ten minutes' life). */
export function signAppJwt(
  appId: number,
  privateKeyPem: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const iat = nowSeconds - 30;
  const unsigned = `${encode({ alg: "RS256", typ: "JWT" })}.${encode({ iat, exp: iat + 600, iss: appId })}`;
  const signature = sign("RSA-SHA256", Buffer.from(unsigned), privateKeyPem).toString("base64url");
  return `${unsigned}.${signature}`;
}

/**
 * A fresh RSA key pair in the PEM forms GitHub hands out (PKCS#1 private, SPKI public).
 * GitHub's keys are 2048-bit; tests may ask for 1024 bits, which generate ten times faster.
 */
export function createAppKeyPair(modulusLength = 2048): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
