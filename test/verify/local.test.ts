import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { isHubmergeError } from "../../src/errors.js";
import { outputMetadata } from "../../src/merge/output-metadata.js";
import { runMerge, verifyFailure, verifyMerge } from "../../src/pipeline/index.js";
import {
  encodeTensorDigests,
  RUN_RECORD_FILE,
  TENSOR_DIGESTS_FILE,
  type RunRecord,
} from "../../src/run-record.js";
import { encodeShardHeader, shardMetadata } from "../../src/safetensors/shard-header.js";
import type { PlannedTensor } from "../../src/safetensors/shard-plan.js";
import { runCli } from "../support/cli.js";
import { writeFamily, writeManifest } from "../support/models.js";
import { useTempDirs } from "../support/tmp.js";

const tempDir = useTempDirs();

async function freshMerge(): Promise<string> {
  const root = await tempDir();
  const { base, fineTunes } = await writeFamily(root);
  const manifest = `merge_method: dare_ties
base_model: ./${relative(root, base)}
models:
${fineTunes.map((ft) => `  - {model: ./${relative(root, ft)}, parameters: {weight: 0.5, density: 0.4}}`).join("\n")}
dtype: bfloat16
hubmerge: {seed: 9}
`;
  const out = join(root, "out");
  await runMerge({ manifestPath: await writeManifest(root, manifest), out });
  return out;
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/**
 * Rewrites the output as an older hubmerge that made other bytes for `tensor` would have: its
 * version in the header and the record, that tensor's bytes changed, every digest consistent.
 */
async function asIfMadeByAnotherVersion(out: string, tensor: string, version: string): Promise<void> {
  const record = JSON.parse(await readFile(join(out, RUN_RECORD_FILE), "utf8")) as RunRecord;
  const shard = new Uint8Array(await readFile(join(out, "model.safetensors")));
  const length = Number(new DataView(shard.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(shard.subarray(8, 8 + length))) as Record<
    string,
    unknown
  >;
  delete header["__metadata__"];
  const entries = Object.entries(
    header as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>,
  );
  const data = shard.slice(8 + length);
  const info = header[tensor] as { data_offsets: number[] };
  data[info.data_offsets[0]!]! ^= 0x40;
  const planned: PlannedTensor[] = entries.map(([name, e]) => ({
    name,
    dtype: e.dtype as PlannedTensor["dtype"],
    shape: e.shape,
  }));
  const tool = { name: record.tool.name, version };
  const newHeader = encodeShardHeader(planned, shardMetadata(outputMetadata(tool, record.method)));
  const file = new Uint8Array(newHeader.byteLength + data.byteLength);
  file.set(newHeader);
  file.set(data, newHeader.byteLength);
  await writeFile(join(out, "model.safetensors"), file);
  record.tool = tool;
  record.files[0] = { path: "model.safetensors", size: file.byteLength, sha256: sha256(file) };
  const digest = record.tensors!.find((t) => t.name === tensor)!;
  digest.sha256 = sha256(data.subarray(info.data_offsets[0], info.data_offsets[1]));
  await writeFile(join(out, RUN_RECORD_FILE), JSON.stringify(record, null, 2) + "\n");
}

describe("hubmerge verify on an output folder", () => {
  it("names the tensor and suspects the tool version when another version made other bytes", async () => {
    const out = await freshMerge();
    await asIfMadeByAnotherVersion(out, "model.layers.1.mlp.up_proj.weight", "0.0.1-older");
    const report = await verifyMerge({ target: out, full: true });
    expect(report.ok).toBe(false);
    // The published files agree with their record: only re-creating shows the difference.
    expect(report.verdicts.filter((v) => v.check === "published" && !v.ok)).toEqual([]);
    const failed = report.verdicts.filter((v) => !v.ok);
    expect(failed.map((v) => `${v.kind} ${v.subject}`)).toEqual([
      "tensor model.layers.1.mlp.up_proj.weight",
      "shard model.safetensors",
    ]);
    const error = verifyFailure(report);
    expect(error.code).toBe("E_VERIFY");
    expect(error.exitCode).toBe(12);
    expect(error.where.tensor).toBe("model.layers.1.mlp.up_proj.weight");
    expect(error.message).toContain(`expected ${failed[0]!.expected}, got ${failed[0]!.actual}`);
    expect(error.hint).toContain("suspect a different tool version");
    expect(error.hint).toContain("npx hubmerge@0.0.1-older verify");
  });

  it("names the tensor whose recorded digest was changed, with exit 12 from the CLI", async () => {
    const out = await freshMerge();
    const record = JSON.parse(await readFile(join(out, RUN_RECORD_FILE), "utf8")) as RunRecord;
    record.tensors![0]!.sha256 = "0".repeat(64);
    await writeFile(join(out, RUN_RECORD_FILE), JSON.stringify(record));
    const cli = await runCli(["verify", out, "--sample", "5%", "--seed-draw", "1"]);
    expect(cli.code).toBe(12);
    expect(cli.stderr).toContain(
      `[E_VERIFY] tensor ${record.tensors![0]!.name}: the published tensor does not match the record (expected ${"0".repeat(64)}`,
    );
    expect(cli.stdout).toContain("drawn with --seed-draw 1");
  });

  it("reads the digests from hubmerge.tensors.json when the record names it, and only if its sha256 matches", async () => {
    const out = await freshMerge();
    const record = JSON.parse(await readFile(join(out, RUN_RECORD_FILE), "utf8")) as RunRecord;
    const bytes = Buffer.from(encodeTensorDigests(record.tensors!));
    await writeFile(join(out, TENSOR_DIGESTS_FILE), bytes);
    const count = record.tensors!.length;
    delete record.tensors;
    record.tensorsFile = { path: TENSOR_DIGESTS_FILE, size: bytes.byteLength, sha256: sha256(bytes), count };
    await writeFile(join(out, RUN_RECORD_FILE), JSON.stringify(record));
    expect((await verifyMerge({ target: out, full: true })).ok).toBe(true);
    bytes[bytes.length - 3] = 0x20;
    await writeFile(join(out, TENSOR_DIGESTS_FILE), bytes);
    const error = await verifyMerge({ target: out }).catch((e: unknown) => e);
    expect(isHubmergeError(error, "E_VERIFY") && error.message).toContain(
      `${TENSOR_DIGESTS_FILE} has sha256 ${sha256(bytes)}`,
    );
  });

  it("reports a published shard whose header does not parse, rather than failing", async () => {
    const out = await freshMerge();
    const shard = new Uint8Array(await readFile(join(out, "model.safetensors")));
    new DataView(shard.buffer).setBigUint64(0, 2n ** 40n, true);
    await writeFile(join(out, "model.safetensors"), shard);
    const report = await verifyMerge({ target: out, seedDraw: 1 });
    const failed = report.verdicts.filter((v) => !v.ok);
    expect(failed[0]).toMatchObject({
      check: "published",
      subject: "model.safetensors (header)",
      actual: "unreadable",
    });
    expect(verifyFailure(report).hint).toContain("suspect a tampered file");
  });

  it("refuses a folder without a record, and a record from before per-tensor digests", async () => {
    const out = await freshMerge();
    const record = JSON.parse(await readFile(join(out, RUN_RECORD_FILE), "utf8")) as RunRecord;
    delete record.tensors;
    await writeFile(join(out, RUN_RECORD_FILE), JSON.stringify(record));
    const old = await verifyMerge({ target: out }).catch((e: unknown) => e);
    expect(isHubmergeError(old, "E_VERIFY") && old.message).toBe("hubmerge.json has no tensor digests");
    const none = await verifyMerge({ target: join(out, "..") }).catch((e: unknown) => e);
    expect(isHubmergeError(none, "E_VERIFY") && none.message).toContain("has no hubmerge.json");
  });

  it("rejects --full with --sample, and a percentage out of range", async () => {
    const out = await freshMerge();
    expect((await runCli(["verify", out, "--full", "--sample", "2"])).code).toBe(2);
    expect((await runCli(["verify", out, "--sample", "150"])).code).toBe(2);
  });
});
