/**
 * Who a request speaks for: a configured token (a user or `github-actions[bot]`), an
 * installation token minted by the app routes, or the app itself (a verified JWT).
 */
import { randomBytes, type KeyObject } from "node:crypto";
import { looksLikeJwt, publicKeyFromPem, verifyAppJwt } from "./app-jwt.js";
import type { UserRecord } from "./repo-state.js";

/**
 * A token alone acts as `github-actions[bot]`, like the workflow's GITHUB_TOKEN. `readOnly` is the
 * token a fork's pull request gets, or `permissions: contents: read`: every write is a 403.
 */
export type TokenSpec = string | { token: string; login?: string; readOnly?: boolean };

export interface AppConfig {
  id: number;
  publicKeyPem: string;
  /** Used in `<slug>[bot]`, the login installation tokens act as (default `hubmerge-local`). */
  slug?: string;
}

export type Principal =
  | { kind: "token"; user: UserRecord; readOnly?: true }
  | { kind: "installation"; installationId: number; user: UserRecord }
  | { kind: "app"; appId: number };

/** No header: anonymous; a bad header: a reason to answer 401 with. */
export type AuthOutcome = { principal: Principal | undefined } | { failure: string };

export interface InstallationToken {
  token: string;
  installationId: number;
  expiresAt: Date;
}

const ACTIONS_BOT: UserRecord = { login: "github-actions[bot]", id: 41898282, type: "Bot" };
const TOKEN_LIFETIME_MS = 60 * 60 * 1000;

export class Credentials {
  private readonly tokens = new Map<string, UserRecord>();
  private readonly readOnly = new Set<string>();
  private readonly installationTokens = new Map<string, InstallationToken>();
  /** Installation id → lower-cased full names of its repositories. */
  readonly installations = new Map<number, string[]>();
  readonly app: (AppConfig & { key: KeyObject; slug: string }) | undefined;
  private nextUserId = 1000;

  constructor(
    tokens: TokenSpec[],
    app: AppConfig | undefined,
    installations: Record<string, number>,
    private readonly clock: () => Date,
  ) {
    for (const spec of tokens) this.addToken(spec);
    this.app = app && { ...app, slug: app.slug ?? "hubmerge-local", key: publicKeyFromPem(app.publicKeyPem) };
    for (const [repo, id] of Object.entries(installations)) {
      this.installations.set(id, [...(this.installations.get(id) ?? []), repo.toLowerCase()]);
    }
  }

  addToken(spec: TokenSpec): UserRecord {
    const { token, login, readOnly } = typeof spec === "string" ? { token: spec, login: undefined } : spec;
    if (readOnly) this.readOnly.add(token);
    const user: UserRecord =
      login === undefined
        ? ACTIONS_BOT
        : { login, id: this.nextUserId++, type: login.endsWith("[bot]") ? "Bot" : "User" };
    this.tokens.set(token, user);
    return user;
  }

  appBot(): UserRecord {
    return { login: `${this.app?.slug ?? "app"}[bot]`, id: 900000 + (this.app?.id ?? 0), type: "Bot" };
  }

  /** Reads `Authorization: token <t>` or `Bearer <t>` (scheme case-insensitive). */
  authenticate(header: string | undefined): AuthOutcome {
    if (header === undefined || header.trim() === "") return { principal: undefined };
    const match = /^(token|bearer)\s+(\S+)\s*$/i.exec(header);
    if (match === null) return { failure: "Bad credentials" };
    const credential = match[2] as string;
    const user = this.tokens.get(credential);
    if (user !== undefined) {
      return { principal: { kind: "token", user, ...(this.readOnly.has(credential) && { readOnly: true }) } };
    }
    const minted = this.installationTokens.get(credential);
    if (minted !== undefined) {
      if (minted.expiresAt.getTime() <= this.clock().getTime()) return { failure: "Bad credentials" };
      return {
        principal: { kind: "installation", installationId: minted.installationId, user: this.appBot() },
      };
    }
    if (this.app !== undefined && looksLikeJwt(credential)) {
      const now = Math.floor(this.clock().getTime() / 1000);
      const check = verifyAppJwt(credential, this.app.id, this.app.key, now);
      return check.ok ? { principal: { kind: "app", appId: this.app.id } } : { failure: check.reason };
    }
    return { failure: "Bad credentials" };
  }

  installationForRepo(fullName: string): number | undefined {
    const wanted = fullName.toLowerCase();
    for (const [id, repos] of this.installations) if (repos.includes(wanted)) return id;
    return undefined;
  }

  mintInstallationToken(installationId: number): InstallationToken {
    const minted: InstallationToken = {
      token: `ghs_${randomBytes(18).toString("hex")}`,
      installationId,
      expiresAt: new Date(this.clock().getTime() + TOKEN_LIFETIME_MS),
    };
    this.installationTokens.set(minted.token, minted);
    return minted;
  }

  /** Whether a principal may write to a repository (installation tokens: only their repos). */
  mayWrite(principal: Principal, fullName: string): boolean {
    if (principal.kind === "token") return principal.readOnly !== true;
    if (principal.kind === "app") return false;
    return this.installations.get(principal.installationId)?.includes(fullName.toLowerCase()) ?? false;
  }
}
