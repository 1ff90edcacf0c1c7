/** `GET /user`: who a token is. GitHub refuses it to GITHUB_TOKEN and installation tokens. */
import { ApiError, requireUser, type Reply, type RouteContext } from "../http.js";
import type { Route } from "../router.js";
import { userJson } from "../shapes.js";

function authenticatedUser(ctx: RouteContext): Reply {
  const principal = requireUser(ctx);
  if (principal.kind === "installation" || principal.user.login === "github-actions[bot]") {
    throw new ApiError(403, "Resource not accessible by integration");
  }
  return { status: 200, body: userJson(principal.user) };
}

export const userRoutes: Route[] = [{ method: "GET", pattern: /^\/user$/, handle: authenticatedUser }];
