import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../src/errors.js";
import { decideMerge, type CurrentState } from "../../src/lock/changes.js";
import { parseLockfile, serializeLockfile, type LockEntry } from "../../src/lock/lockfile.js";

const A = "a".repeat(40);
const B = "b".repeat(40);
const H = "c".repeat(64);

const entry: LockEntry = {
  manifestSha256: H,
  seed: "42",
  tool: "hubmerge@1.4.0",
  sources: { "org/base": A, "org/ft": A },
  output: { repo: "me/out", commit: B, files: { "model.safetensors": H } },
};
const now: CurrentState = {
  manifestSha256: H,
  sources: { "org/base": A, "org/ft": A },
  toolVersion: "1.9.2",
};

describe("lockfile", () => {
  it("serializes with sorted keys and round-trips", () => {
    const text = serializeLockfile({
      version: 1,
      manifests: { "merges/z.yaml": entry, "merges/a.yaml": entry },
    });
    expect(text.indexOf("merges/a.yaml")).toBeLessThan(text.indexOf("merges/z.yaml"));
    expect(text.indexOf('"manifestSha256"')).toBeLessThan(text.indexOf('"output"'));
    expect(text.endsWith("}\n")).toBe(true);
    expect(serializeLockfile(parseLockfile(text))).toBe(text);
  });

  it("rejects a broken lockfile with a clear error", () => {
    for (const bad of [
      "{",
      '{"version": 2, "manifests": {}}',
      '{"version": 1, "manifests": {"m": {"seed": "x"}}}',
    ]) {
      const error = (() => {
        try {
          parseLockfile(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(isHubmergeError(error, "E_MANIFEST")).toBe(true);
      expect((error as Error).message).toMatch(/hubmerge\.lock\.json/);
    }
  });
});

describe("decideMerge", () => {
  it("does nothing when nothing changed (a minor tool upgrade included)", () => {
    expect(decideMerge(entry, now)).toEqual({ needed: false, reasons: [], sourceChanges: {} });
  });

  it("merges a new manifest, a changed manifest, a moved source, a new major version, or when forced", () => {
    expect(decideMerge(undefined, now).reasons).toEqual(["new manifest (not in the lockfile)"]);
    expect(decideMerge(entry, { ...now, manifestSha256: "d".repeat(64) }).reasons).toEqual([
      "manifest changed",
    ]);
    const moved = decideMerge(entry, { ...now, sources: { "org/base": A, "org/ft": B } });
    expect(moved.reasons).toEqual(["source org/ft: aaaaaaa → bbbbbbb"]);
    expect(moved.sourceChanges).toEqual({ "org/ft": [A, B] });
    expect(decideMerge(entry, { ...now, toolVersion: "2.0.0" }).reasons[0]).toMatch(/major version/);
    expect(decideMerge(entry, now, true)).toMatchObject({ needed: true, reasons: ["forced"] });
  });

  it("treats an added or removed source as a change", () => {
    const added = decideMerge(entry, { ...now, sources: { ...now.sources, "org/new": B } });
    expect(added.sourceChanges).toEqual({ "org/new": [null, B] });
    const removed = decideMerge(entry, { ...now, sources: { "org/base": A } });
    expect(removed.sourceChanges).toEqual({ "org/ft": [A, null] });
  });
});
