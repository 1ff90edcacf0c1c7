/** The workflows the project ships and documents follow the conventions of issue 14. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  "runs-on"?: unknown;
  "timeout-minutes"?: number;
  permissions?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": unknown };
  jobs: Record<string, Job>;
}

function workflows(dir: string): [string, Workflow][] {
  return readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith(".yml"))
    .map((f) => [`${dir}/${f}`, parse(readFileSync(join(ROOT, dir, f), "utf8")) as Workflow]);
}

const ALL = [...workflows(".github/workflows"), ...workflows("docs/workflows")];
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((job) => job.steps ?? []);

describe("workflow conventions", () => {
  it.each(ALL)("%s: checkout keeps no credentials; checkout and setup-node are current", (_, workflow) => {
    for (const step of steps(workflow)) {
      if (step.uses?.startsWith("actions/checkout@")) {
        expect(step.uses).toBe("actions/checkout@v6");
        expect(step.with?.["persist-credentials"]).toBe(false);
      }
      if (step.uses?.startsWith("actions/setup-node@")) expect(step.uses).toBe("actions/setup-node@v6");
    }
    for (const job of Object.values(workflow.jobs)) expect(job["timeout-minutes"]).toBeGreaterThan(0);
  });

  it("the project's own workflows pin third-party actions by commit sha", () => {
    for (const [, workflow] of workflows(".github/workflows")) {
      for (const { uses } of steps(workflow)) {
        if (!uses || uses.startsWith("./") || uses.startsWith("actions/")) continue;
        expect(uses).toMatch(/@[0-9a-f]{40}$/);
      }
    }
  });

  it("apply.yml: read-only by default, contents: write only on the jobs that commit", () => {
    const apply = parse(readFileSync(join(ROOT, "docs/workflows/apply.yml"), "utf8")) as Workflow;
    expect(apply.permissions).toEqual({ contents: "read" });
    const writers = Object.entries(apply.jobs).filter(([, job]) => job.permissions?.contents === "write");
    expect(writers.map(([name]) => name)).toEqual(["merge", "publish"]);
  });

  it("apply.yml: plan → merge (parts upload receipts) → publish (downloads them, mode: publish)", () => {
    const apply = parse(readFileSync(join(ROOT, "docs/workflows/apply.yml"), "utf8")) as Workflow & {
      jobs: Record<string, Job & { needs?: unknown; if?: string }>;
    };
    const merge = apply.jobs["merge"]!;
    expect(merge["runs-on"]).toEqual(["self-hosted", "gpu"]);
    const action = merge.steps!.find((s) => s.uses?.startsWith("hubmerge/"))!;
    expect(action.with).toMatchObject({ part: "${{ matrix.part }}", pins: "${{ matrix.pins }}" });
    const upload = merge.steps!.find((s) => s.uses?.startsWith("actions/upload-artifact@"))!;
    expect(upload.with?.["path"]).toBe("${{ steps.apply.outputs.receipts }}");
    const publish = apply.jobs["publish"]!;
    expect(publish.needs).toEqual(["plan", "merge"]);
    expect(publish.if).toContain('"part"');
    const download = publish.steps!.find((s) => s.uses?.startsWith("actions/download-artifact@"))!;
    expect(download.with).toMatchObject({ pattern: "hubmerge-receipts-*", "merge-multiple": true });
    const publishStep = publish.steps!.find((s) => s.uses?.startsWith("hubmerge/"))!;
    expect(publishStep.with).toMatchObject({ mode: "publish", "parts-dir": download.with!["path"] });
  });

  it("simple.yml: one concurrency group per pull request, cancelled on a new push, never the apply group", () => {
    const simple = parse(readFileSync(join(ROOT, "docs/workflows/simple.yml"), "utf8")) as Workflow;
    expect(simple.concurrency?.group).toContain("github.event.pull_request.number");
    expect(simple.concurrency?.group).toMatch(/hubmerge-plan-.*\|\| 'hubmerge-apply'/);
    expect(simple.concurrency?.["cancel-in-progress"]).toBe("${{ github.event_name == 'pull_request' }}");
  });

  it("actionlint knows the gpu label, and CI runs it on both sets of workflows", () => {
    expect(parse(readFileSync(join(ROOT, ".github/actionlint.yaml"), "utf8"))).toEqual({
      "self-hosted-runner": { labels: ["gpu"] },
    });
    const ci = readFileSync(join(ROOT, ".github/workflows/ci.yml"), "utf8");
    expect(ci).toMatch(/actionlint@v[\d.]+ .*\.github\/workflows\/\*\.yml docs\/workflows\/\*\.yml/);
  });

  it("dist/ is marked generated, and local-action has its env example and script", () => {
    expect(readFileSync(join(ROOT, ".gitattributes"), "utf8")).toMatch(
      /^dist\/\*\* .*linguist-generated=true/m,
    );
    expect(readFileSync(join(ROOT, ".env.example"), "utf8")).toContain("INPUT_HF-TOKEN=");
    const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts;
    expect(scripts["local-action"]).toMatch(
      /^local-action run \. src\/action\/main\.ts \.env --post src\/action\/post\.ts$/,
    );
  });
});
