/** Data model of the local Hub: what is persisted and what the routes exchange. */

/** Where an LFS file's real bytes live: its sha256 and size, and the size of its pointer text. */
export interface LfsInfo {
  oid: string;
  size: number;
  pointerSize: number;
}

/**
 * One file in a commit. `oid` is the git blob sha1 of what git stores (the pointer text for LFS
 * files), `size` the size of the real content.
 */
export interface FileEntry {
  oid: string;
  size: number;
  lfs?: LfsInfo;
}

/** A commit's full file list: path → entry. Commits are snapshots, not diffs. */
export type Snapshot = Record<string, FileEntry>;

export interface CommitRecord {
  /** 40 lowercase hex digits. */
  id: string;
  parents: string[];
  title: string;
  message: string;
  author: string;
  /** ISO 8601. */
  date: string;
  files: Snapshot;
}

/** `false`, or the Hub's two gating modes (both need the user's acceptance here). */
export type GatedMode = false | "auto" | "manual";

export interface RepoRecord {
  /** `namespace/name`. */
  id: string;
  /** 24 hex digits, the Hub's `_id`. */
  uid: string;
  private: boolean;
  gated: GatedMode;
  /** Users who accepted the gate's conditions. */
  acceptedUsers: string[];
  createdAt: string;
  /** Branch or ref name → commit id. `main` always exists. */
  branches: Record<string, string>;
}

/** One change in a commit, already decoded from the wire format. */
export type CommitOperation =
  | { kind: "put"; path: string; content: Uint8Array }
  | { kind: "lfs"; path: string; oid: string; size: number }
  | { kind: "delete"; path: string }
  | { kind: "deleteFolder"; path: string };

/** An access token the server accepts. */
export interface TokenSpec {
  /** Must start with `hf_` (the client library refuses others). */
  token: string;
  user: string;
  orgs?: string[];
  /** `read` tokens cannot write. Default `write`. */
  role?: "read" | "write";
}
