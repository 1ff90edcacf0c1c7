/**
 * The subjects of a build provenance attestation: each published shard's name and sha256, in the
 * checksum-file format `actions/attest-build-provenance` takes as `subject-checksums` (one
 * `<sha256>  <name>` line per subject, as sha256sum writes), and as JSON for `subject-digest` /
 * `subject-name` steps that attest one subject at a time.
 */
import * as core from "@actions/core";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface AttestationSubject {
  /** `<hub repo>/<file>`, e.g. `acme/merged/model-00001-of-00002.safetensors`. */
  name: string;
  /** `sha256:<hex>`, the form `subject-digest` takes. */
  digest: string;
}

/** Shards of every published merge (from their lock entries' file digests), in a stable order. */
export function attestationSubjects(
  published: readonly { repo: string; files: Record<string, string> }[],
): AttestationSubject[] {
  return published
    .flatMap(({ repo, files }) =>
      Object.entries(files)
        .filter(([path]) => path.endsWith(".safetensors"))
        .map(([path, sha256]) => ({ name: `${repo}/${path}`, digest: `sha256:${sha256}` })),
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** sha256sum's format: what `subject-checksums` reads. */
export function subjectChecksums(subjects: readonly AttestationSubject[]): string {
  return subjects.map((s) => `${s.digest.slice("sha256:".length)}  ${s.name}\n`).join("");
}

/**
 * Sets the `subjects` (JSON) and `subject-checksums` (a file path) outputs; with nothing
 * published, both stay empty so that the workflow's attestation step is skipped.
 */
export async function outputSubjects(subjects: readonly AttestationSubject[], dir: string): Promise<void> {
  if (subjects.length === 0) return;
  const path = join(dir, "hubmerge-subjects.sha256");
  await writeFile(path, subjectChecksums(subjects));
  core.setOutput("subjects", JSON.stringify(subjects));
  core.setOutput("subject-checksums", path);
}

/**
 * Where the card points for provenance: the repo's attestations. Known only when the job may mint
 * an OIDC token (`id-token: write`), which the attestation step needs: no token, no link.
 */
export function attestationsUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { ACTIONS_ID_TOKEN_REQUEST_URL: oidc, GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo } = env;
  return oidc && server && repo ? `${server}/${repo}/attestations` : undefined;
}
