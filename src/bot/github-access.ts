/**
 * One authenticated client per repository. With a token every repository shares one client;
 * with a GitHub App the repository's installation is looked up once (or taken from the
 * configuration) and its installation client is kept: @octokit/auth-app caches and renews
 * the installation token itself.
 */
import { App } from "@octokit/app";
import { HubmergeError } from "../errors.js";
import type { BotOctokit, BotOctokitClass } from "./octokit.js";
import type { GitHubCredentials } from "./secrets.js";

export interface GitHubAccess {
  readonly kind: GitHubCredentials["kind"];
  clientFor(repo: string): Promise<BotOctokit>;
}

export function splitRepo(fullName: string): { owner: string; repo: string } {
  const [owner = "", repo = ""] = fullName.split("/");
  return { owner, repo };
}

export function createGitHubAccess(credentials: GitHubCredentials, Octokit: BotOctokitClass): GitHubAccess {
  if (credentials.kind === "token") {
    const client = new Octokit({ auth: credentials.token });
    return { kind: "token", clientFor: async () => client };
  }
  return new AppAccess(credentials, Octokit);
}

/** Forgets a failed lookup so that the next call tries again. */
function memo<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let pending = cache.get(key);
  if (pending === undefined) {
    pending = make();
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  return pending;
}

class AppAccess implements GitHubAccess {
  readonly kind = "app" as const;
  private readonly app: App;
  private readonly installationByRepo = new Map<string, Promise<number>>();
  private readonly clientByInstallation = new Map<string, Promise<BotOctokit>>();

  constructor(
    private readonly credentials: Extract<GitHubCredentials, { kind: "app" }>,
    Octokit: BotOctokitClass,
  ) {
    this.app = new App({ appId: credentials.appId, privateKey: credentials.privateKey, Octokit });
  }

  async clientFor(repo: string): Promise<BotOctokit> {
    const id = await this.installationFor(repo);
    return memo(
      this.clientByInstallation,
      String(id),
      async () => (await this.app.getInstallationOctokit(id)) as unknown as BotOctokit,
    );
  }

  private installationFor(repo: string): Promise<number> {
    const fixed = this.credentials.installationId;
    if (fixed !== undefined) return Promise.resolve(fixed);
    return memo(this.installationByRepo, repo.toLowerCase(), async () => {
      try {
        const { data } = await this.app.octokit.request(
          "GET /repos/{owner}/{repo}/installation",
          splitRepo(repo),
        );
        return data.id;
      } catch (error) {
        if ((error as { status?: number }).status !== 404) throw error;
        throw new HubmergeError(
          "E_USAGE",
          `the GitHub App ${this.credentials.appId} is not installed on ${repo}`,
          {
            hint: `install the App on ${repo} (Contents: read and write), or remove the repository from the bot's list`,
            cause: error,
          },
        );
      }
    });
  }
}
