/** Publishing bytes the repo already holds makes no commit; any difference still publishes. */
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CARD_MARKER } from "../../../src/card/render-card.js";
import { publishFolder } from "../../../src/hub/publish/publish.js";
import { ALICE, binaryBytes, startTestHub, type TestHub } from "../../localhub/helpers.js";

let t: TestHub;
let work = "";

beforeAll(async () => {
  t = await startTestHub();
  work = await mkdtemp(join(tmpdir(), "unchanged-test-"));
});
afterAll(async () => {
  await t.stop();
  await rm(work, { recursive: true, force: true });
});

async function outputFolder(seed: number): Promise<string> {
  const dir = await mkdtemp(join(work, "out-"));
  await writeFile(join(dir, "model.safetensors"), binaryBytes(200_000, seed));
  await writeFile(join(dir, "config.json"), '{"model_type":"llama"}\n');
  await writeFile(join(dir, "README.md"), `---\nlibrary_name: transformers\n---\n${CARD_MARKER}\n# Merged\n`);
  await writeFile(join(dir, "hubmerge.json"), JSON.stringify({ files: [{ path: "model.safetensors" }] }));
  return dir;
}

function publish(repo: string, dir: string) {
  return publishFolder({
    hub: { hubUrl: t.hub.url, token: ALICE },
    repo,
    dir,
    private: false,
    overwrite: false,
    commitTitle: "Publish merge",
  });
}

describe("publishing an output the repo already holds", () => {
  it("makes no commit and says so; a changed weight, card or new file publishes", async () => {
    const repo = "alice/unchanged";
    const dir = await outputFolder(1);
    const first = await publish(repo, dir);
    expect(first.unchanged).toBeUndefined();
    const copy = await mkdtemp(join(work, "copy-"));
    await cp(dir, copy, { recursive: true }); // same bytes, another folder (the next run)
    const again = await publish(repo, copy);
    expect(again).toMatchObject({ commitSha: first.commitSha, unchanged: true, created: false });
    expect(t.hub.admin.head(repo)).toBe(first.commitSha);

    // Same size, other bytes (a re-merge after a source moved): hashes, not sizes, decide.
    const weights = await outputFolder(2);
    const changed = await publish(repo, weights);
    expect(changed.unchanged).toBeUndefined();
    expect(changed.commitSha).not.toBe(first.commitSha);

    await writeFile(
      join(weights, "README.md"),
      `---\nlibrary_name: transformers\n---\n${CARD_MARKER}\n# Merged!\n`,
    );
    const card = await publish(repo, weights);
    expect(card.unchanged).toBeUndefined();

    await writeFile(join(weights, "generation_config.json"), "{}\n");
    const added = await publish(repo, weights);
    expect(added.unchanged).toBeUndefined();
    expect(await publish(repo, weights)).toMatchObject({ commitSha: added.commitSha, unchanged: true });
  });
});
