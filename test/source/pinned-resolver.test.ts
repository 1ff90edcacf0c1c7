import { describe, expect, it } from "vitest";
import { HubmergeError } from "../../src/errors.js";
import type { ModelRef } from "../../src/model-ref.js";
import type { ModelSource } from "../../src/source/model-source.js";
import { pinnedResolver, type SourcePin } from "../../src/source/pinned-resolver.js";
import type { SourceResolver } from "../../src/source/resolve.js";

/** A resolver that remembers what it was asked for and opens nothing. */
function recording(fail?: (ref: ModelRef) => unknown): { resolver: SourceResolver; asked: ModelRef[] } {
  const asked: ModelRef[] = [];
  const resolver: SourceResolver = async (ref) => {
    asked.push(ref);
    if (fail) throw fail(ref);
    return { ref: ref.raw } as unknown as ModelSource;
  };
  return { resolver, asked };
}

const SHA = "a".repeat(40);
const hub = (raw: string): ModelRef => ({ raw, kind: "hub", repo: raw.split("@")[0]! });
const local: ModelRef = { raw: "./models/base", kind: "local", path: "/work/models/base" };
const PINS: SourcePin[] = [
  { ref: "org/ft", revision: SHA },
  { ref: "org/unpinned", revision: null },
  { ref: "./models/base", revision: SHA },
];

describe("pinnedResolver", () => {
  it("opens a Hub reference at its pinned commit, keeping the reference as written", async () => {
    const { resolver, asked } = recording();
    await pinnedResolver(resolver, PINS)(hub("org/ft"));
    expect(asked).toEqual([{ raw: "org/ft", kind: "hub", repo: "org/ft", revision: SHA }]);
  });

  it("passes a local folder through unchanged, even when a pin names it", async () => {
    const { resolver, asked } = recording();
    await pinnedResolver(resolver, PINS)(local);
    expect(asked).toEqual([local]);
  });

  it("opens an unpinned Hub reference as written when no failure is given", async () => {
    const { resolver, asked } = recording();
    await pinnedResolver(resolver, PINS)(hub("org/other"));
    await pinnedResolver(resolver, PINS)(hub("org/unpinned"));
    expect(asked).toEqual([hub("org/other"), hub("org/unpinned")]);
  });

  it("throws the caller's error for an unpinned Hub reference (a null revision is no pin), opening nothing", async () => {
    const { resolver, asked } = recording();
    const unpinned = (ref: ModelRef) => new HubmergeError("E_VERIFY", `no pin for ${ref.raw}`);
    const pinned = pinnedResolver(resolver, PINS, { unpinned });
    await expect(pinned(hub("org/other"))).rejects.toThrow("no pin for org/other");
    await expect(pinned(hub("org/unpinned"))).rejects.toThrow("no pin for org/unpinned");
    expect(asked).toEqual([]);
  });

  it("words a failure to open the pinned commit as the caller says", async () => {
    const cause = new HubmergeError("E_HUB_NOT_FOUND", "gone");
    const { resolver } = recording(() => cause);
    const seen: unknown[] = [];
    const pinned = pinnedResolver(resolver, PINS, {
      unreachable: (ref, revision, error) => {
        seen.push(ref.raw, revision, error);
        return new HubmergeError("E_VERIFY", `${ref.raw}@${revision} is gone`);
      },
    });
    await expect(pinned(hub("org/ft"))).rejects.toThrow(`org/ft@${SHA} is gone`);
    expect(seen).toEqual(["org/ft", SHA, cause]);
  });

  it("passes the resolver's error on when no wording is given", async () => {
    const cause = new HubmergeError("E_NETWORK", "reset");
    const { resolver } = recording(() => cause);
    await expect(pinnedResolver(resolver, PINS)(hub("org/ft"))).rejects.toBe(cause);
  });
});
