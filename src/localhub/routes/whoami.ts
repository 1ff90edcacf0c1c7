/** `GET /api/whoami-v2`: the token's user, orgs and token details. */
import type { RequestContext } from "../context.js";
import { HubError } from "../hub-error.js";
import { sendJson } from "../http/respond.js";

const TOKEN_CREATED_AT = "2024-01-01T00:00:00.000Z";

export async function whoami(ctx: RequestContext): Promise<void> {
  const identity = ctx.identity;
  if (identity.kind !== "user") throw new HubError(401, "Invalid username or password.");
  await sendJson(ctx, 200, {
    type: "user",
    id: fakeId(identity.user),
    name: identity.user,
    fullname: identity.user,
    email: null,
    emailVerified: false,
    canPay: false,
    isPro: false,
    periodEnd: null,
    avatarUrl: "",
    orgs: identity.orgs.map((org) => ({
      type: "org",
      id: fakeId(org),
      name: org,
      fullname: org,
      roleInOrg: "admin",
    })),
    auth: {
      type: "access_token",
      accessToken: { displayName: identity.tokenName, role: identity.role, createdAt: TOKEN_CREATED_AT },
    },
  });
}

/** A stable 24-hex id for a name (the Hub's ids look like this). */
function fakeId(name: string): string {
  return Buffer.from(name.padEnd(12, "_").slice(0, 12)).toString("hex");
}
