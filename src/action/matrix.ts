import { PINS_FORMAT, partCount, type Pins } from "../pipeline/index.js";
import type { Assessment } from "./assess.js";

/** One job of the apply matrix: a whole manifest, or part `I/N` of one with the pins it reads. */
export interface MatrixEntry {
  manifest: string;
  part?: string;
  /** JSON of the pins (sources at the commits the plan resolved), for the `pins` input. */
  pins?: string;
}

/**
 * The plan's matrix: manifests that need a merge, each split into `hubmerge: {parts}` parts when
 * the plan knows its size (plan mode). Every part reads the commits resolved here, so a source
 * updated during the fan-out cannot mix revisions.
 */
export function applyMatrix(needed: Assessment[]): { include: MatrixEntry[] } {
  return { include: needed.flatMap(entriesOf) };
}

function entriesOf(a: Assessment): MatrixEntry[] {
  const count =
    a.outputBytes !== undefined && a.shardCount !== undefined
      ? partCount(a.manifest?.hubmerge.parts, { outputBytes: a.outputBytes, shards: a.shardCount })
      : 1;
  if (count === 1 || a.manifestSha256 === undefined) return [{ manifest: a.file }];
  const pins: Pins = {
    format: PINS_FORMAT,
    manifest: { file: a.file, sha256: a.manifestSha256 },
    sources: Object.entries(a.sources).map(([ref, revision]) => ({ ref, revision })),
  };
  const text = JSON.stringify(pins);
  return Array.from({ length: count }, (_, i) => ({
    manifest: a.file,
    part: `${i + 1}/${count}`,
    pins: text,
  }));
}
