/** `repository_dispatch`: validated like GitHub (event_type ≤ 100 characters, client_payload an
 * object with at most 10 top-level keys), answered 204 and recorded for assertions. */
import {
  invalidRequest,
  requireString,
  requireUser,
  writableRepo,
  type Reply,
  type RouteContext,
} from "../http.js";
import { repoPattern, type Route } from "../router.js";

const MAX_EVENT_TYPE_LENGTH = 100;
const MAX_PAYLOAD_KEYS = 10;

function createDispatch(ctx: RouteContext): Reply {
  const repo = writableRepo(ctx);
  const eventType = requireString(ctx.body, "event_type");
  if (eventType.length === 0) throw invalidRequest("event_type is too short (minimum is 1 character)");
  if (eventType.length > MAX_EVENT_TYPE_LENGTH) {
    throw invalidRequest(`event_type is too long (maximum is ${MAX_EVENT_TYPE_LENGTH} characters)`);
  }
  const payload = ctx.body.client_payload ?? {};
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw invalidRequest(`Invalid value for "client_payload": must be an object.`);
  }
  const keys = Object.keys(payload).length;
  if (keys > MAX_PAYLOAD_KEYS) {
    throw invalidRequest(`No more than ${MAX_PAYLOAD_KEYS} properties are allowed; ${keys} were supplied.`);
  }
  ctx.state.dispatches.push({
    repo: repo.fullName,
    event_type: eventType,
    client_payload: payload as Record<string, unknown>,
    sender: requireUser(ctx).user.login,
    at: ctx.state.now(),
  });
  return { status: 204 };
}

export const dispatchRoutes: Route[] = [
  { method: "POST", pattern: repoPattern("/dispatches"), handle: createDispatch },
];
