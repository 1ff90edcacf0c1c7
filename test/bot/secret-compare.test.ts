import { describe, expect, it } from "vitest";
import { secretMatches } from "../../src/bot/secret-compare.js";

describe("secretMatches", () => {
  it("accepts only the exact secret", () => {
    const secret = "0123456789abcdef-secret";
    expect(secretMatches(secret, secret)).toBe(true);
    for (const given of [
      undefined,
      "",
      `${secret} `,
      secret.slice(0, -1),
      secret.toUpperCase(),
      "x".repeat(5000),
    ]) {
      expect(secretMatches(given, secret)).toBe(false);
    }
  });

  it("never matches when no secret is configured", () => {
    expect(secretMatches("", "")).toBe(false);
    expect(secretMatches(undefined, "")).toBe(false);
  });
});
