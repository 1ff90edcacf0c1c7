/**
 * Who may do what, as on the Hub: public repos are readable by anyone, private ones only by
 * their owner (the user or a member of the owning org); gated repos serve files only to users who
 * accepted the gate; writes need a write token of the owner.
 */
import type { Identity } from "./auth.js";
import { HubError } from "./hub-error.js";
import type { RepoRecord } from "./types.js";

export function ownsNamespace(identity: Identity, namespace: string): boolean {
  return identity.kind === "user" && (identity.user === namespace || identity.orgs.includes(namespace));
}

function namespaceOf(repoId: string): string {
  return repoId.split("/")[0] ?? "";
}

/** The repo if the caller may see it; else RepoNotFound (401 for anonymous callers, like the Hub). */
export function requireVisible(identity: Identity, repo: RepoRecord | undefined, id: string): RepoRecord {
  if (repo && (!repo.private || ownsNamespace(identity, namespaceOf(repo.id)))) return repo;
  const status = identity.kind === "user" ? 404 : 401;
  return fail(
    status,
    `Repository Not Found for ${id}. If the repo is private, make sure you are authenticated.`,
  );
}

/** Checks the gate before serving file contents. */
export function requireDownloadable(identity: Identity, repo: RepoRecord): void {
  if (repo.gated === false || ownsNamespace(identity, namespaceOf(repo.id))) return;
  if (identity.kind !== "user") {
    throw new HubError(
      401,
      `Access to model ${repo.id} is restricted. You must be authenticated to access it.`,
      "GatedRepo",
    );
  }
  if (!repo.acceptedUsers.includes(identity.user)) {
    throw new HubError(
      403,
      `Access to model ${repo.id} is restricted and you are not in the authorized list. Accept its conditions first.`,
      "GatedRepo",
    );
  }
}

/**
 * Checks that the caller holds a write token at all. Routes whose target is named in the body
 * (create, delete) call it before reading the body, so that nobody can make the server parse
 * megabytes without a token.
 */
export function requireWriteToken(
  identity: Identity,
): asserts identity is Extract<Identity, { kind: "user" }> {
  if (identity.kind !== "user")
    throw new HubError(401, "You must be authenticated to write; pass an access token.");
  if (identity.role !== "write") throw new HubError(403, "This token is read-only; use a write token.");
}

/** Checks that the caller may write to the namespace (create repos there, commit, upload). */
export function requireNamespaceWrite(identity: Identity, namespace: string): void {
  requireWriteToken(identity);
  if (!ownsNamespace(identity, namespace)) {
    throw new HubError(403, `You don't have the rights to write in ${namespace}.`);
  }
}

export function requireWritable(identity: Identity, repo: RepoRecord): void {
  requireNamespaceWrite(identity, namespaceOf(repo.id));
}

function fail(status: number, message: string): never {
  throw new HubError(status, message, "RepoNotFound");
}
