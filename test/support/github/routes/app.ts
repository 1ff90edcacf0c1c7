/** GitHub App routes: the app itself and its installations (JWT), installation access tokens,
 * and the repositories an installation token can reach. */
import { ApiError, notFound, type Reply, type RouteContext } from "../http.js";
import { repoPattern, type Route } from "../router.js";
import { repoJson, userJson, HTML_URL } from "../shapes.js";
import { isoSeconds } from "../state.js";

const PERMISSIONS = { contents: "write", pull_requests: "write", issues: "write", metadata: "read" };

function requireApp(ctx: RouteContext): { id: number; slug: string } {
  const app = ctx.state.credentials.app;
  if (app === undefined) throw notFound();
  if (ctx.principal?.kind !== "app") throw new ApiError(401, "A JSON web token could not be decoded");
  return app;
}

function installationJson(ctx: RouteContext, id: number) {
  const { app } = ctx.state.credentials;
  const repos = ctx.state.credentials.installations.get(id) ?? [];
  const login = repos[0]?.split("/")[0] ?? "unknown";
  return {
    id,
    account: userJson({ login, id: 7000 + id, type: "User" }),
    app_id: app?.id,
    app_slug: app?.slug,
    target_type: "User",
    repository_selection: "selected",
    permissions: PERMISSIONS,
    events: ["push"],
    access_tokens_url: `${ctx.apiUrl}/app/installations/${id}/access_tokens`,
    repositories_url: `${ctx.apiUrl}/installation/repositories`,
    html_url: `${HTML_URL}/settings/installations/${id}`,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    suspended_at: null,
  };
}

function getApp(ctx: RouteContext): Reply {
  const app = requireApp(ctx);
  return {
    status: 200,
    body: {
      id: app.id,
      slug: app.slug,
      name: app.slug,
      owner: userJson({ login: "hubmerge", id: 6000, type: "User" }),
      html_url: `${HTML_URL}/apps/${app.slug}`,
      permissions: PERMISSIONS,
      events: ["push"],
      installations_count: ctx.state.credentials.installations.size,
    },
  };
}

function listInstallations(ctx: RouteContext): Reply {
  requireApp(ctx);
  const ids = [...ctx.state.credentials.installations.keys()].sort((a, b) => a - b);
  return { status: 200, body: ids.map((id) => installationJson(ctx, id)) };
}

function installationId(ctx: RouteContext): number {
  const id = Number(ctx.params.id);
  if (!ctx.state.credentials.installations.has(id)) throw notFound();
  return id;
}

function getInstallation(ctx: RouteContext): Reply {
  requireApp(ctx);
  return { status: 200, body: installationJson(ctx, installationId(ctx)) };
}

function repoInstallation(ctx: RouteContext): Reply {
  requireApp(ctx);
  const id = ctx.state.credentials.installationForRepo(`${ctx.params.owner}/${ctx.params.repo}`);
  if (id === undefined) throw notFound();
  return { status: 200, body: installationJson(ctx, id) };
}

function createAccessToken(ctx: RouteContext): Reply {
  requireApp(ctx);
  const minted = ctx.state.credentials.mintInstallationToken(installationId(ctx));
  return {
    status: 201,
    body: {
      token: minted.token,
      expires_at: isoSeconds(minted.expiresAt),
      permissions: PERMISSIONS,
      repository_selection: "selected",
    },
  };
}

function installationRepositories(ctx: RouteContext): Reply {
  const { principal } = ctx;
  if (principal?.kind !== "installation")
    throw new ApiError(403, "This endpoint needs an installation access token");
  const names = ctx.state.credentials.installations.get(principal.installationId) ?? [];
  const repos = names.flatMap((name) => ctx.state.repo(name) ?? []);
  return {
    status: 200,
    body: {
      total_count: repos.length,
      repository_selection: "selected",
      repositories: repos.map((repo) => repoJson(ctx.apiUrl, repo)),
    },
  };
}

export const appRoutes: Route[] = [
  { method: "GET", pattern: /^\/app$/, handle: getApp },
  { method: "GET", pattern: /^\/app\/installations$/, handle: listInstallations },
  { method: "GET", pattern: /^\/app\/installations\/(?<id>\d+)$/, handle: getInstallation },
  { method: "POST", pattern: /^\/app\/installations\/(?<id>\d+)\/access_tokens$/, handle: createAccessToken },
  { method: "GET", pattern: repoPattern("/installation"), handle: repoInstallation },
  { method: "GET", pattern: /^\/installation\/repositories$/, handle: installationRepositories },
];
