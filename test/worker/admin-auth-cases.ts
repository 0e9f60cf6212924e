/**
 * The auth cases every protected admin route must pass (like unkey's `runCommonRouteTests`),
 * and the list of those routes.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { resetAuthFailures } from "../../src/control/admin/auth";
import { adminFetch, BASE, type Call, captureLogs, json, TOKEN } from "./call";

/** Every protected admin route, with a body it would accept. */
export const PROTECTED_ROUTES: Array<{ method: string; path: string; body?: unknown }> = [
  { method: "GET", path: "/policy" },
  { method: "GET", path: "/status" },
  { method: "PUT", path: "/policy", body: { schema: 1, version: "auth-probe", supported: ["DE"] } },
  { method: "POST", path: "/policy/validate", body: { schema: 1, version: "x", supported: ["DE"] } },
  { method: "GET", path: "/policy/history" },
  { method: "POST", path: "/policy/rollback", body: { version: "auth-probe" } },
  { method: "GET", path: "/explain?country=CN" },
  { method: "GET", path: "/exposure?from=2024-07-01&to=2024-07-09" },
  { method: "GET", path: "/exposure/notices?from=2024-07-01&to=2024-07-09" },
];

/**
 * Runs the auth cases against every protected route: missing, wrong, shorter, longer
 * and non-Bearer credentials get 401; a token in the query string gets 400; an unset
 * ADMIN_TOKEN makes every route 404. None of them may change the stored policy.
 */
export function runAdminAuthCases(): void {
  const cases: Array<{ name: string; call: Call; status: number; code: string }> = [
    { name: "no Authorization header", call: { token: null }, status: 401, code: "missing_token" },
    {
      name: "a wrong token of the same length",
      call: { token: TOKEN.replace(/.$/, "X") },
      status: 401,
      code: "invalid_token",
    },
    {
      name: "a prefix of the token",
      call: { token: TOKEN.slice(0, -1) },
      status: 401,
      code: "invalid_token",
    },
    { name: "the token plus a suffix", call: { token: `${TOKEN}0` }, status: 401, code: "invalid_token" },
    {
      name: "the token with the Basic scheme",
      call: { token: null, headers: { authorization: `Basic ${btoa(`admin:${TOKEN}`)}` } },
      status: 401,
      code: "missing_token",
    },
    {
      name: "an unset ADMIN_TOKEN",
      call: { env: { ADMIN_TOKEN: undefined } },
      status: 404,
      code: "not_found",
    },
    {
      name: "an empty ADMIN_TOKEN",
      call: { env: { ADMIN_TOKEN: "" }, token: "" },
      status: 404,
      code: "not_found",
    },
  ];
  // Every case comes from one client address: forget its failed attempts (rationed per address).
  beforeEach(() => resetAuthFailures());
  describe.each(PROTECTED_ROUTES)("$method $path", (route) => {
    it.each(cases)("refuses $name", async ({ call, status, code }) => {
      const before = await env.POLICY.get("policy");
      const logs = captureLogs();
      const res = await adminFetch(route.path, { ...call, method: route.method, body: route.body });
      expect(res.status).toBe(status);
      const body = await json(res);
      expect(body.error).toMatchObject({ code });
      if (status === 401) expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(await env.POLICY.get("policy")).toBe(before);
      // A wrong token is logged (with the path, for wrangler tail), and never the token itself.
      if (code === "invalid_token") {
        const path = new URL(`${BASE}${route.path}`).pathname;
        expect(logs.events()).toEqual([{ level: "warn", event: "admin_auth_failed", path }]);
      }
      for (const line of logs.lines) {
        expect(line).not.toContain(TOKEN.slice(0, 12));
        if (call.token) expect(line).not.toContain(call.token);
      }
    });

    it("refuses a token in the query string even with a valid header", async () => {
      const sep = route.path.includes("?") ? "&" : "?";
      const res = await adminFetch(`${route.path}${sep}token=${TOKEN}`, {
        method: route.method,
        body: route.body,
      });
      expect(res.status).toBe(400);
      expect((await json(res)).error).toMatchObject({ code: "token_in_query", param: "token" });
    });

    it("accepts the right token", async () => {
      const res = await adminFetch(route.path, { method: route.method, body: route.body });
      expect([200, 404]).toContain(res.status);
      if (res.status === 404) {
        // Only "nothing stored yet" may be a 404 with the right token.
        expect((await json(res)).error).toMatchObject({
          code: expect.stringMatching(/^(policy_absent|version_not_found)$/),
        });
      }
    });
  });
}
