/**
 * Cloudflare Access in front of the admin surface (SPEC section 9), for real in workerd:
 * the gate fetches the team's key set from https://<team>/cdn-cgi/access/certs, which the
 * echo worker serves (test/fixtures/echo-origin.js) with a public key generated here, and
 * tokens are signed here with jose. Every bad token is refused even with the right admin
 * token; a good one is accepted and its email is the actor in policy history.
 */
import { env } from "cloudflare:test";
import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { FAILED_KEYS_MEMORY_MS } from "../../src/control/admin/access-jwt";
import { livePolicy } from "../fixtures/policies";
import { PROTECTED_ROUTES } from "./admin-auth-cases";
import { adminFetch, captureLogs, csrfOf, dash, json, sessionCookie, TOKEN } from "./call";

const TEAM = "rg-access-test.cloudflareaccess.com";
const AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
const ACCESS = { ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD };
const EMAIL = "alice@example.com";

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;
let key: Keys;
let otherKey: Keys;

/** Publishes a key set for `team` on the echo worker (the test's fetch goes there too). */
async function publish(team: string, keys: Keys[], kids: string[]): Promise<void> {
  const jwks = {
    keys: await Promise.all(
      keys.map(async (k, i) => ({
        ...(await exportJWK(k.publicKey)),
        kid: kids[i],
        alg: "RS256",
        use: "sig",
      })),
    ),
  };
  const res = await fetch(`https://${team}/__test/certs`, { method: "PUT", body: JSON.stringify(jwks) });
  if (res.status !== 204) throw new Error(`could not publish the test key set: ${res.status}`);
}

async function certFetches(team: string): Promise<number> {
  return ((await (await fetch(`https://${team}/__test/certs-fetches`)).json()) as { fetches: number })
    .fetches;
}

interface TokenOptions {
  claims?: JWTPayload;
  kid?: string;
  signWith?: Keys;
  iss?: string;
  aud?: string | string[];
  exp?: string | number | null;
}

/** An Access-shaped token: RS256, kid, iss = team, aud = [AUD], email, 5 minutes of life. */
async function accessToken(o: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({ email: EMAIL, type: "app", ...o.claims })
    .setProtectedHeader({ alg: "RS256", kid: o.kid ?? "key-1" })
    .setIssuer(o.iss ?? `https://${TEAM}`)
    .setAudience(o.aud ?? [AUD])
    .setSubject("7335d417-61da-459d-899c-0a01c76a2f94")
    .setIssuedAt();
  if (o.exp !== null) jwt.setExpirationTime(o.exp ?? "5m");
  return jwt.sign((o.signWith ?? key).privateKey);
}

const b64url = (text: string) => btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const claims = () => ({
  email: EMAIL,
  iss: `https://${TEAM}`,
  aud: [AUD],
  exp: Math.floor(Date.now() / 1000) + 300,
});

/** An admin call with Access configured, the right admin token, and `jwt` (if any). */
function withAccess(path: string, jwt: string | null, call: Parameters<typeof adminFetch>[1] = {}) {
  return adminFetch(path, {
    ...call,
    env: { ...ACCESS, ...call.env },
    headers: { ...call.headers, ...(jwt === null ? {} : { "cf-access-jwt-assertion": jwt }) },
  });
}

async function dashCall(
  path: string,
  init: { jwt?: string | null; cookie?: string; form?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = init.jwt ? { "cf-access-jwt-assertion": init.jwt } : {};
  return dash(path, { headers, cookie: init.cookie, form: init.form, env: ACCESS });
}

beforeAll(async () => {
  key = await generateKeyPair("RS256", { extractable: true });
  otherKey = await generateKeyPair("RS256", { extractable: true });
  await publish(TEAM, [key], ["key-1"]);
  const res = await adminFetch("/policy", { method: "PUT", body: livePolicy({ version: "access.0" }) });
  if (res.status !== 200) throw new Error(`seed push failed: ${res.status}`);
});

describe("without a valid Cf-Access-Jwt-Assertion, the right admin token is not enough", () => {
  it.each(PROTECTED_ROUTES)("$method $path: 401 missing_access_jwt", async (route) => {
    const before = await env.POLICY.get("policy");
    const res = await withAccess(route.path, null, { method: route.method, body: route.body });
    expect(res.status).toBe(401);
    expect((await json(res)).error).toMatchObject({
      code: "missing_access_jwt",
      type: "authentication_error",
    });
    expect(await env.POLICY.get("policy")).toBe(before);
  });

  it.each([
    ["", "GET"],
    ["/signin", "GET"],
    ["/signin", "POST"],
    ["/history", "GET"],
  ])("dashboard %s (%s): 401 missing_access_jwt", async (path, method) => {
    const res = await dashCall(path, method === "POST" ? { form: { token: TOKEN } } : {});
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect((await json(res)).error).toMatchObject({ code: "missing_access_jwt" });
  });

  const refused: Array<[string, () => Promise<string>]> = [
    ["expired", () => accessToken({ exp: Math.floor(Date.now() / 1000) - 60 })],
    ["without exp", () => accessToken({ exp: null })],
    ["for another application (wrong aud)", () => accessToken({ aud: ["f".repeat(64)] })],
    ["from another team (wrong iss)", () => accessToken({ iss: "https://evil.cloudflareaccess.com" })],
    ["signed by another key under the team's kid", () => accessToken({ signWith: otherKey })],
    ["signed by a key the team does not publish", () => accessToken({ signWith: otherKey, kid: "key-x" })],
    [
      "unsigned (alg none)",
      async () =>
        `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(claims()))}.`,
    ],
    [
      "HS256 with a shared secret",
      () =>
        new SignJWT(claims())
          .setProtectedHeader({ alg: "HS256", kid: "key-1" })
          .sign(new TextEncoder().encode("a-shared-secret-of-at-least-32-bytes!")),
    ],
    [
      "HS256 keyed with the team's public key (algorithm confusion)",
      async () =>
        new SignJWT(claims())
          .setProtectedHeader({ alg: "HS256", kid: "key-1" })
          .sign(new TextEncoder().encode(await exportSPKI(key.publicKey))),
    ],
    ["not a JWT at all", async () => "not-a-jwt"],
  ];

  it.each(refused)("a token %s: 401 invalid_access_jwt, nothing changes", async (_name, make) => {
    const jwt = await make();
    const before = await env.POLICY.get("policy");
    const read = await withAccess("/policy/history", jwt);
    expect(read.status).toBe(401);
    expect((await json(read)).error).toMatchObject({ code: "invalid_access_jwt" });
    const write = await withAccess("/policy", jwt, {
      method: "PUT",
      body: livePolicy({ version: "access.bad" }),
    });
    expect(write.status).toBe(401);
    expect(await env.POLICY.get("policy")).toBe(before);
    const page = await dashCall("/signin", { jwt });
    expect(page.status).toBe(401);
  });

  it("a valid token without the admin token: 401 missing_token (both are required)", async () => {
    const res = await withAccess("/policy/history", await accessToken(), { token: null });
    expect(res.status).toBe(401);
    expect((await json(res)).error).toMatchObject({ code: "missing_token" });
  });

  it("healthz and the self-check page stay outside Access", async () => {
    expect((await withAccess("/healthz", null, { token: null })).status).toBe(200);
    const check = await withAccess("/check", null, { token: null });
    expect(check.status).not.toBe(401);
  });
});

describe("a valid Access token", () => {
  it("is accepted on every protected route, and its email is the actor in history", async () => {
    const jwt = await accessToken();
    for (const route of PROTECTED_ROUTES) {
      const res = await withAccess(route.path, jwt, { method: route.method, body: route.body });
      expect([200, 404], `${route.method} ${route.path}`).toContain(res.status);
    }
    const push = await withAccess("/policy", jwt, {
      method: "PUT",
      body: livePolicy({ version: "access.1" }),
    });
    expect(push.status).toBe(200);
    const history = await json(await adminFetch("/policy/history"));
    const versions = history.versions as Array<{
      version: string;
      activations: Array<{ by: string; via: string }>;
    }>;
    expect(versions.find((v) => v.version === "access.1")?.activations[0]?.by).toBe(EMAIL);
  });

  it("records a service token by its name when it carries no email", async () => {
    const jwt = await accessToken({ claims: { email: undefined, common_name: "ci.access" } });
    const push = await withAccess("/policy", jwt, {
      method: "PUT",
      body: livePolicy({ version: "access.svc" }),
    });
    expect(push.status).toBe(200);
    const history = await json(await adminFetch("/policy/history"));
    const versions = history.versions as Array<{
      version: string;
      activations: Array<{ by: string; via: string }>;
    }>;
    expect(versions.find((v) => v.version === "access.svc")?.activations[0]?.by).toBe(
      "access-service:ci.access",
    );
  });

  it("lets the dashboard sign in and roll back, recording the email", async () => {
    const jwt = await accessToken({ claims: { email: "bob@example.com" } });
    const signin = await dashCall("/signin", {
      jwt,
      form: { token: TOKEN, next: `/__region-gate/dashboard` },
    });
    expect(signin.status).toBe(303);
    const cookie = sessionCookie(signin) ?? "";
    // The session cookie alone is not enough: Access is checked on every request.
    expect((await dashCall("/history", { cookie })).status).toBe(401);
    const page = await dashCall("/history", { jwt, cookie });
    expect(page.status).toBe(200);
    const csrf = csrfOf(await page.text());
    const done = await dashCall("/rollback", {
      jwt,
      cookie,
      form: { csrf, version: "access.0", confirm: "yes" },
    });
    expect(done.status).toBe(303);
    const history = await json(await adminFetch("/policy/history"));
    const versions = history.versions as Array<{
      version: string;
      activations: Array<{ by: string; via: string }>;
    }>;
    const rollback = versions.find((v) => v.version === "access.0")?.activations.at(-1);
    expect(rollback).toMatchObject({ by: "bob@example.com", via: "rollback" });
  });

  it("is checked against keys fetched once and cached, not fetched per request", async () => {
    const team = "rg-access-cache.cloudflareaccess.com";
    await publish(team, [key], ["key-1"]);
    const jwt = await accessToken({ iss: `https://${team}` });
    for (let i = 0; i < 5; i++) {
      const res = await withAccess("/policy/history", jwt, { env: { ACCESS_TEAM_DOMAIN: team } });
      expect(res.status).toBe(200);
    }
    expect(await certFetches(team)).toBe(1);
  });
});

describe("misconfiguration fails closed", () => {
  it("answers 503 access_keys_unavailable when the team's certs cannot be read; the log names the URL", async () => {
    const team = "rg-access-absent.cloudflareaccess.com"; // the fixture has no keys for it
    const jwt = await accessToken({ iss: `https://${team}` });
    const logs = captureLogs();
    const res = await withAccess("/policy/history", jwt, { env: { ACCESS_TEAM_DOMAIN: team } });
    expect(res.status).toBe(503);
    const error = (await json(res)).error as { code: string; message: string };
    expect(error.code).toBe("access_keys_unavailable");
    expect(error.message).not.toContain(team);
    expect(logs.events()).toContainEqual(
      expect.objectContaining({
        event: "access_refused",
        code: "access_keys_unavailable",
        reason: expect.stringContaining(`https://${team}/cdn-cgi/access/certs`),
      }),
    );
  });

  it("remembers a failed fetch of the certs: 20 requests during an outage make 1 fetch (issue 22)", async () => {
    const team = "rg-access-outage.cloudflareaccess.com"; // no keys published: every fetch fails
    const jwt = await accessToken({ iss: `https://${team}` });
    for (let i = 0; i < 20; i++) {
      const res = await withAccess("/policy/history", jwt, { env: { ACCESS_TEAM_DOMAIN: team } });
      expect(res.status).toBe(503);
      expect(JSON.stringify(await json(res))).not.toContain(team);
    }
    expect(await certFetches(team)).toBe(1);
    // Once the outage is over and the memory has passed, the keys are fetched again.
    await publish(team, [key], ["key-1"]);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + FAILED_KEYS_MEMORY_MS + 1000 });
    try {
      const res = await withAccess("/policy/history", await accessToken({ iss: `https://${team}` }), {
        env: { ACCESS_TEAM_DOMAIN: team },
      });
      expect(res.status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
    expect(await certFetches(team)).toBe(2);
  });

  it("no 401 names the team domain", async () => {
    const answers = [
      await withAccess("/policy/history", null),
      await withAccess("/policy/history", await accessToken({ signWith: otherKey })),
      await withAccess("/policy/history", await accessToken({ iss: "https://evil.cloudflareaccess.com" })),
      await withAccess("/policy/history", "not-a-jwt"),
      await dashCall("/signin"),
    ];
    for (const res of answers) {
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(text).not.toContain(TEAM);
      expect(text).not.toContain("rg-access-test");
    }
  });

  it.each([
    [{ ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: "" }, "ACCESS_AUD"],
    [{ ACCESS_TEAM_DOMAIN: "", ACCESS_AUD: AUD }, "ACCESS_TEAM_DOMAIN"],
    [{ ACCESS_TEAM_DOMAIN: `${TEAM}/cdn-cgi`, ACCESS_AUD: AUD }, "not a host name"],
  ])("answers 503 access_misconfigured for %o, even with a valid token", async (vars, hint) => {
    const res = await withAccess("/policy/history", await accessToken(), { env: vars });
    expect(res.status).toBe(503);
    const error = (await json(res)).error as { code: string; message: string };
    expect(error.code).toBe("access_misconfigured");
    expect(error.message).toContain(hint);
  });

  it("takes the team domain with its https:// scheme, as the Zero Trust dashboard shows it", async () => {
    const res = await withAccess("/policy/history", await accessToken(), {
      env: { ACCESS_TEAM_DOMAIN: `https://${TEAM}/` },
    });
    expect(res.status).toBe(200);
  });
});
