/**
 * The local GitHub: a node:http server on 127.0.0.1 speaking enough of the REST API for
 * unmodified octokit clients (with `baseUrl` pointed at it) to read contents, write commits
 * through the Git Data API, open pull requests, keep a sticky comment, send repository
 * dispatches and authenticate as a GitHub App. State lives in memory and is open to tests.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { LocalGitHubAdmin } from "./admin.js";
import { Credentials, type AppConfig, type TokenSpec } from "./credentials.js";
import { GitHubFaults, type RequestRecord } from "./faults.js";
import { createRequestHandler } from "./handler.js";
import { GitHubState } from "./state.js";

export interface LocalGitHubOptions {
  /** Tokens accepted in `Authorization: token|Bearer <t>`; a bare string acts as github-actions[bot]. */
  tokens?: TokenSpec[];
  /** A GitHub App whose RS256 JWTs (iss = id) are verified with this public key. */
  app?: AppConfig;
  /** `"owner/repo"` → installation id of the app. */
  installations?: Record<string, number>;
  /** Time for tokens, JWT checks and timestamps (default: the real clock). */
  clock?: () => Date;
  /** One line per request (method, path, status); tokens never appear. */
  log?: (line: string) => void;
}

export interface LocalGitHub extends LocalGitHubAdmin {
  /** `http://127.0.0.1:<port>`, no trailing slash: pass it as octokit's `baseUrl`. */
  readonly url: string;
  readonly port: number;
  readonly faults: GitHubFaults;
  /** Every request so far, oldest first. */
  readonly requests: readonly RequestRecord[];
  clearRequests(): void;
  close(): Promise<void>;
}

export async function startLocalGitHub(opts: LocalGitHubOptions = {}): Promise<LocalGitHub> {
  const clock = opts.clock ?? (() => new Date());
  const credentials = new Credentials(opts.tokens ?? [], opts.app, opts.installations ?? {}, clock);
  const state = new GitHubState(credentials, clock);
  const faults = new GitHubFaults();
  const requests: RequestRecord[] = [];
  let apiUrl = "";

  const server = createServer(
    createRequestHandler({ state, faults, requests, apiUrl: () => apiUrl, log: opts.log }),
  );

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  apiUrl = `http://127.0.0.1:${port}`;
  const admin = new LocalGitHubAdmin(state);

  return Object.assign(admin, {
    url: apiUrl,
    port,
    faults,
    requests: requests as readonly RequestRecord[],
    clearRequests: () => void requests.splice(0),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  });
}
