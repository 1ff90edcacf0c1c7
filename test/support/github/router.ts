/** A route table matched against the decoded path (so `heads%2Fmain` and `heads/main` agree). */
import type { Reply, RouteContext } from "./http.js";

export interface Route {
  method: "GET" | "POST" | "PATCH" | "DELETE" | "PUT";
  /** Named groups become `ctx.params`. */
  pattern: RegExp;
  handle(ctx: RouteContext): Reply | Promise<Reply>;
}

/** `/repos/{owner}/{repo}` followed by the rest of a pattern. */
export function repoPattern(rest: string): RegExp {
  return new RegExp(`^/repos/(?<owner>[^/]+)/(?<repo>[^/]+)${rest}$`);
}

export function matchRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match !== null) return { route, params: { ...match.groups } };
  }
  return undefined;
}
