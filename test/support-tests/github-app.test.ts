import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppKeyPair, signAppJwt, startLocalGitHub, type LocalGitHub } from "../support/github/index.js";
import { api, REPO } from "./github-fetch.js";

const APP_ID = 4242;
const keys = createAppKeyPair(1024);
let github: LocalGitHub;

beforeAll(async () => {
  github = await startLocalGitHub({
    app: { id: APP_ID, publicKeyPem: keys.publicKeyPem, slug: "hubmerge-bot" },
    installations: { [REPO]: 77, "acme/other": 77 },
  });
  github.seedRepo(REPO, { files: { "merges/a.yaml": "a: 1\n" } });
  github.seedRepo("acme/elsewhere", { files: { "a.txt": "x" } });
});
afterAll(() => github.close());

describe("GitHub App authentication", () => {
  it("accepts an RS256 JWT from the app, mints an installation token, and that token authorizes writes", async () => {
    const jwt = signAppJwt(APP_ID, keys.privateKeyPem);
    const app = await api(github, "GET", "/app", { token: jwt, scheme: "Bearer" });
    expect(app).toMatchObject({ status: 200, json: { id: APP_ID, slug: "hubmerge-bot" } });

    const installation = await api(github, "GET", `/repos/${REPO}/installation`, {
      token: jwt,
      scheme: "Bearer",
    });
    expect(installation.json).toMatchObject({ id: 77, app_id: APP_ID, account: { login: "acme" } });
    const minted = await api(github, "POST", `/app/installations/77/access_tokens`, {
      token: jwt,
      scheme: "Bearer",
    });
    expect(minted.status).toBe(201);
    expect(minted.json.token).toMatch(/^ghs_/);
    expect(Date.parse(minted.json.expires_at)).toBeGreaterThan(Date.now() + 50 * 60_000);

    const token = minted.json.token as string;
    const dispatch = await api(github, "POST", `/repos/${REPO}/dispatches`, {
      token,
      body: { event_type: "x" },
    });
    expect(dispatch.status).toBe(204);
    expect(github.dispatches.at(-1)?.sender).toBe("hubmerge-bot[bot]");
    const repos = await api(github, "GET", "/installation/repositories", { token });
    expect(repos.json.repositories.map((r: { full_name: string }) => r.full_name)).toEqual([REPO]);
    const elsewhere = await api(github, "POST", `/repos/acme/elsewhere/dispatches`, {
      token,
      body: { event_type: "x" },
    });
    expect(elsewhere).toMatchObject({
      status: 403,
      json: { message: "Resource not accessible by integration" },
    });
  });

  it("refuses JWTs signed by another key, for another app or expired, and app routes without a JWT", async () => {
    const other = createAppKeyPair(1024);
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      signAppJwt(APP_ID, other.privateKeyPem),
      signAppJwt(APP_ID + 1, keys.privateKeyPem),
      signAppJwt(APP_ID, keys.privateKeyPem, now - 3600),
    ];
    for (const jwt of cases) {
      const res = await api(github, "GET", "/app", { token: jwt, scheme: "Bearer" });
      expect(res.status).toBe(401);
      expect(res.json.message).toMatch(/JSON web token|Issuer|Expiration/);
    }
    expect((await api(github, "GET", "/app", { token: null })).status).toBe(401);
    expect(
      (
        await api(github, "GET", `/repos/acme/unknown/installation`, {
          token: signAppJwt(APP_ID, keys.privateKeyPem),
          scheme: "Bearer",
        })
      ).status,
    ).toBe(404);
    const jwtOnRepo = await api(github, "POST", `/repos/${REPO}/dispatches`, {
      token: signAppJwt(APP_ID, keys.privateKeyPem),
      scheme: "Bearer",
      body: { event_type: "x" },
    });
    expect(jwtOnRepo.status).toBe(403);
  });
});
