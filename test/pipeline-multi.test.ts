import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startLocalHub, type LocalHub } from "../src/localhub/index.js";
import { planGraph, readMergeGraph, runGraph, runMerge } from "../src/pipeline/index.js";
import { hubSession } from "../src/session.js";
import { seedFamilyOnHub } from "./support/hub-models.js";
import { writeFamily, writeManifest } from "./support/models.js";
import { useTempDirs } from "./support/tmp.js";

const tempDir = useTempDirs();

const INTER = (prefix: string) => `merge_method: task_arithmetic
base_model: ${prefix}base
models:
  - model: ${prefix}ft1
    parameters: {weight: 0.7}
  - model: ${prefix}ft2
    parameters: {weight: 0.3}
`;
const FINAL = (prefix: string, inter: string) => `merge_method: slerp
base_model: ${prefix}base
models:
  - model: ${prefix}base
  - model: ${inter}
parameters: {t: 0.4}
`;

/** The same two merges as one mergekit-multi file; the final one comes first, as users write them. */
function multiFile(prefix: string, interOutput = "", finalOutput = ""): string {
  return `${FINAL(prefix, "inter")}${finalOutput}---\nname: inter\n${INTER(prefix)}${interOutput}`;
}

const TOKEN = "hf_acme_multi_token_0123456789";
let hub: LocalHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

describe("runGraph", () => {
  it("makes the intermediate first, and the final merge equals running the two manifests by hand", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    await runMerge({
      manifestPath: await writeManifest(dir, INTER("./"), "inter.yaml"),
      out: join(dir, "inter"),
    });
    const byHand = join(dir, "by-hand");
    await runMerge({
      manifestPath: await writeManifest(dir, FINAL("./", "./inter"), "final.yaml"),
      out: byHand,
    });

    const graph = await readMergeGraph(await writeManifest(dir, multiFile("./"), "multi.yaml"));
    const order: string[] = [];
    const kept = join(dir, "intermediates");
    const merged = await runGraph(graph, {
      out: join(dir, "out"),
      intermediateDir: kept,
      onStep: (step) => order.push(step.name ?? "(final)"),
    });
    expect(order).toEqual(["inter", "(final)"]);
    const model = (d: string) => readFile(join(d, "model.safetensors"));
    expect((await model(join(dir, "out"))).equals(await model(byHand))).toBe(true);
    expect((await model(join(kept, "inter"))).equals(await model(join(dir, "inter")))).toBe(true);
    expect(merged[1]!.result.record.sources.map((s) => s.ref)).toEqual(["./base", "inter"]);
  });

  it("removes a temporary intermediate folder after the run", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const graph = await readMergeGraph(await writeManifest(dir, multiFile("./"), "multi.yaml"));
    const merged = await runGraph(graph, { out: join(dir, "out") });
    const interDir = merged[0]!.result.outDir;
    expect(interDir).toContain("hubmerge-multi-");
    await expect(readdir(interDir)).rejects.toThrow(/ENOENT/);
    expect(await readdir(join(dir, "out"))).toContain("model.safetensors");
  });

  it("plans the merges whose inputs exist and places the others in the order", async () => {
    const dir = await tempDir();
    await writeFamily(dir);
    const graph = await readMergeGraph(await writeManifest(dir, multiFile("./"), "multi.yaml"));
    const steps = await planGraph(graph, {});
    expect(steps.map(({ step }) => [step.name ?? null, step.final, step.uses])).toEqual([
      ["inter", false, []],
      [null, true, ["inter"]],
    ]);
    expect(steps[0]!.planned!.plan.method.name).toBe("task_arithmetic");
    expect(steps[1]!.planned).toBeUndefined();
  });

  it("publishes an intermediate with hubmerge.output and reads it from the local Hub at that commit", async () => {
    const dir = await tempDir();
    hub = await startLocalHub({ dir: join(dir, "hub"), tokens: [{ token: TOKEN, user: "acme" }] });
    await seedFamilyOnHub(hub, join(dir, "models"));
    await writeFamily(dir);
    const local = await runGraph(
      await readMergeGraph(await writeManifest(dir, multiFile("./"), "local.yaml")),
      {
        out: join(dir, "local-out"),
      },
    );

    const session = hubSession({ hubUrl: hub.url, token: TOKEN });
    const text = multiFile(
      "acme/",
      "hubmerge: {output: {repo: acme/inter}}\n",
      "hubmerge: {output: {repo: acme/final}}\n",
    );
    const graph = await readMergeGraph(await writeManifest(dir, text, "hub.yaml"));
    const merged = await runGraph(graph, {
      out: join(dir, "hub-out"),
      resolver: session.resolver,
      publish: { hub: session.hub },
    });
    const interSha = hub.admin.head("acme/inter");
    expect(merged[0]!.published!.commitSha).toBe(interSha);
    expect(merged[1]!.published!.commitSha).toBe(hub.admin.head("acme/final"));
    const final = merged[1]!.result;
    expect(final.record.sources.map((s) => [s.ref, s.revision])).toContainEqual([
      `acme/inter@${interSha}`,
      interSha,
    ]);
    const card = await readFile(join(dir, "hub-out", "README.md"), "utf8");
    expect(card).toContain(`/acme/inter/tree/${interSha}`);
    // The same merges of the same models give the same bytes, whether read from folders or the Hub.
    const localBytes = await readFile(join(local[1]!.result.outDir, "model.safetensors"));
    expect((await readFile(join(dir, "hub-out", "model.safetensors"))).equals(localBytes)).toBe(true);
  });
});
