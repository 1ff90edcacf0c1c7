/**
 * The verify rows of `npm run bench`: the bench's models merged once (DARE-TIES, four shards), then
 * `hubmerge verify` on the output in sample mode (2%, a fixed draw) and in full mode. A row's
 * bytes are those verify read (published files and sources); it writes nothing.
 */
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { runMerge, verifyMerge, type VerifyReport } from "../src/pipeline/index.js";
import type { Row } from "./report.js";

export const VERIFY_SAMPLE_LABEL = "verify --sample 2% (dare_ties output, 4 shards)";
export const VERIFY_FULL_LABEL = "verify --full (dare_ties output, 4 shards)";

export async function measureVerify(folders: string[], threads: number): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), "hubmerge-bench-verify-"));
  try {
    const [base, ...fineTunes] = folders;
    // Local model paths must be relative to the manifest (absolute ones are refused).
    const at = (folder: string) => relative(dir, folder);
    const manifest = join(dir, "merge.yaml");
    await writeFile(
      manifest,
      [
        "merge_method: dare_ties",
        `base_model: ${at(base!)}`,
        "models:",
        ...fineTunes.map((ft) => `  - {model: ${at(ft)}, parameters: {weight: 0.5, density: 0.3}}`),
        "dtype: bfloat16",
        "hubmerge: {seed: 1}",
        "",
      ].join("\n"),
    );
    const out = join(dir, "out");
    // The output is as large as the bf16 base: a quarter of it per shard makes four shards.
    const maxShardBytes = Math.ceil((await folderBytes(base!)) / 4);
    await runMerge({ manifestPath: manifest, out, threads, maxShardBytes });
    const sample = await verifyMerge({ target: out, fraction: 0.02, seedDraw: 1, threads });
    const full = await verifyMerge({ target: out, full: true, threads });
    return [row(VERIFY_SAMPLE_LABEL, sample), row(VERIFY_FULL_LABEL, full)];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function folderBytes(folder: string): Promise<number> {
  const names = (await readdir(folder)).filter((name) => name.endsWith(".safetensors"));
  const sizes = await Promise.all(names.map(async (name) => (await stat(join(folder, name))).size));
  return sizes.reduce((a, b) => a + b, 0);
}

function row(label: string, report: VerifyReport): Row {
  if (!report.ok) throw new Error(`${label}: verify found a mismatch in a fresh merge`);
  return {
    label,
    method: "verify",
    seconds: report.seconds,
    elements: report.tensors.bytes / 2, // bf16
    bytesRead: report.bytesRead.published + report.bytesRead.sources,
    bytesWritten: 0,
    outputHash: "",
  };
}
