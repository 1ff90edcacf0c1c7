import { describe, expect, it } from "vitest";
import type { Assessment } from "../../src/action/assess.js";
import { renderReport } from "../../src/action/report.js";
import { decideMerge } from "../../src/lock/changes.js";

const NOW = "a".repeat(40);
const OLD = "b".repeat(40);

function assessment(locked: Record<string, string | null> | undefined): Assessment {
  const sources = { "acme/ft1": NOW };
  const entry = locked && {
    manifestSha256: "c".repeat(64),
    seed: "1",
    tool: "hubmerge@0.1.0",
    sources: locked,
    output: null,
  };
  return {
    file: "merges/demo.yaml",
    sources,
    manifestSha256: "c".repeat(64),
    ...(locked && { lockedSources: locked }),
    decision: decideMerge(entry, { manifestSha256: "c".repeat(64), sources, toolVersion: "0.1.0" }),
  };
}

describe("the report's locked column", () => {
  it("shows no sha for a manifest that was never locked", () => {
    const report = renderReport("plan", [assessment(undefined)]);
    expect(report).toContain("| `acme/ft1` | — (not locked yet) | `aaaaaaaaaaaa` |");
    expect(report).not.toMatch(/\| `acme\/ft1` \| `aaaaaaaaaaaa` \|/);
  });

  it("shows the locked sha when the lock has one", () => {
    const report = renderReport("plan", [assessment({ "acme/ft1": OLD })]);
    expect(report).toContain("| `acme/ft1` | `bbbbbbbbbbbb` | `aaaaaaaaaaaa` |");
  });

  it("says which kernels merged and when the Hub already held the bytes", () => {
    const report = renderReport(
      "apply",
      [assessment({ "acme/ft1": OLD })],
      [
        {
          manifest: "merges/demo.yaml",
          status: "published",
          repo: "acme/merged",
          commit: NOW,
          kernels: "webgpu (llvmpipe, software) + wasm (2 threads)",
          unchanged: true,
        },
      ],
    );
    expect(report).toContain("✅ unchanged (no commit)");
    expect(report).toContain("Merged on webgpu (llvmpipe, software) + wasm (2 threads).");
    expect(report).toContain("no Hub commit was made");
  });
});
