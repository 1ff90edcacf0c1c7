import { describe, expect, it } from "vitest";
import { createPathMatcher } from "../../src/bot/glob.js";

describe("createPathMatcher", () => {
  it("matches the default manifest glob at any folder depth, zero included", () => {
    const matches = createPathMatcher(["merges/**/*.yaml"]);
    expect(matches("merges/a.yaml")).toBe(true);
    expect(matches("merges/x/y/b.yaml")).toBe(true);
    expect(matches("merges/a.yml")).toBe(false);
    expect(matches("other/merges/a.yaml")).toBe(false);
    expect(matches("merges.yaml")).toBe(false);
  });

  it("keeps * and ? within a segment, expands braces, honours ! excludes and a ./ prefix", () => {
    const matches = createPathMatcher(["./m/*.{yaml,yml}", "!m/draft-?.yaml"]);
    expect(matches("m/a.yaml")).toBe(true);
    expect(matches("m/a.yml")).toBe(true);
    expect(matches("m/sub/a.yaml")).toBe(false);
    expect(matches("m/draft-1.yaml")).toBe(false);
    expect(matches("m/draft-10.yaml")).toBe(true);
  });

  it("treats regular-expression characters literally", () => {
    const matches = createPathMatcher(["a+b/(x).yaml"]);
    expect(matches("a+b/(x).yaml")).toBe(true);
    expect(matches("aab/x.yaml")).toBe(false);
  });
});
