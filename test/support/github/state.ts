/** Everything the local GitHub holds: repositories, credentials and recorded dispatches. */
import { HubmergeError } from "../../../src/errors.js";
import type { Credentials } from "./credentials.js";
import { RepoState } from "./repo-state.js";

export interface DispatchRecord {
  repo: string;
  event_type: string;
  client_payload: Record<string, unknown>;
  /** Login of the caller. */
  sender: string;
  at: string;
}

/** Seed commits get fixed dates from here on, so seeded shas are the same on every run. */
const SEED_EPOCH_MS = Date.parse("2026-01-01T00:00:00Z");

/** GitHub's timestamp form: ISO 8601 to the second, `Z`. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export class GitHubState {
  private readonly repos = new Map<string, RepoState>();
  readonly dispatches: DispatchRecord[] = [];
  private nextRepoId = 100_000;
  private nextCommentId = 2_000_000;
  private nextPullId = 3_000_000;
  private seedCommits = 0;

  constructor(
    readonly credentials: Credentials,
    readonly clock: () => Date,
  ) {}

  now(): string {
    return isoSeconds(this.clock());
  }

  nextSeedDate(): string {
    return isoSeconds(new Date(SEED_EPOCH_MS + 1000 * this.seedCommits++));
  }

  takeCommentId(): number {
    return this.nextCommentId++;
  }

  takePullId(): number {
    return this.nextPullId++;
  }

  /** Owner and name compare case-insensitively, as on GitHub. */
  repo(fullName: string): RepoState | undefined {
    return this.repos.get(fullName.toLowerCase());
  }

  allRepos(): RepoState[] {
    return [...this.repos.values()];
  }

  createRepo(fullName: string, defaultBranch: string, isPrivate: boolean): RepoState {
    const [owner, name, ...rest] = fullName.split("/");
    if (!owner || !name || rest.length > 0) {
      throw new HubmergeError("E_USAGE", `repository must be "owner/name", got "${fullName}"`);
    }
    const repo = new RepoState(owner, name, this.nextRepoId++, defaultBranch, isPrivate, this.now());
    this.repos.set(fullName.toLowerCase(), repo);
    return repo;
  }
}
