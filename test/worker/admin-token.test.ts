/**
 * The admin token is not guessable (SPEC sections 1 and 7, issue 22 item 5): shorter than
 * 32 characters, every admin route answers 503 admin_misconfigured and the log says why,
 * while API traffic is untouched; failed authentications are rationed per client address
 * (429 + Retry-After for that address only).
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ADMIN_TOKEN_MIN_LENGTH,
  AUTH_FAILURES_PER_MINUTE,
  resetAuthFailures,
} from "../../src/control/admin/auth";
import { livePolicy } from "../fixtures/policies";
import { PROTECTED_ROUTES } from "./admin-auth-cases";
import { adminFetch, call, captureLogs, dash, json, TOKEN } from "./call";

const SHORT = "x".repeat(ADMIN_TOKEN_MIN_LENGTH - 1);
const EXACT = "y".repeat(ADMIN_TOKEN_MIN_LENGTH);

beforeAll(async () => {
  const res = await adminFetch("/policy", { method: "PUT", body: livePolicy({ version: "token.1" }) });
  expect(res.status).toBe(200);
});
beforeEach(() => resetAuthFailures());

describe("an ADMIN_TOKEN shorter than 32 characters", () => {
  it.each(PROTECTED_ROUTES)("$method $path: 503 admin_misconfigured even with that token", async (route) => {
    const logs = captureLogs();
    const res = await adminFetch(route.path, {
      method: route.method,
      body: route.body,
      token: SHORT,
      env: { ADMIN_TOKEN: SHORT },
    });
    expect(res.status).toBe(503);
    expect((await json(res)).error).toMatchObject({ code: "admin_misconfigured", type: "server_error" });
    const events = logs.events().filter((e) => e.event === "admin_misconfigured");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ level: "error" });
    expect(String(events[0]?.error)).toContain(`${ADMIN_TOKEN_MIN_LENGTH - 1} characters`);
    for (const line of logs.lines) expect(line).not.toContain(SHORT);
  });

  it("closes the dashboard too, sign-in included", async () => {
    for (const [path, form] of [
      ["", undefined],
      ["/signin", undefined],
      ["/signin", { token: SHORT }],
    ] as const) {
      const res = await dash(path, { form, env: { ADMIN_TOKEN: SHORT } });
      expect(res.status, path).toBe(503);
      expect(res.headers.get("set-cookie")).toBeNull();
    }
  });

  it("leaves API traffic, healthz and the self-check untouched", async () => {
    const env = { ADMIN_TOKEN: SHORT };
    const jp = await call("/v1/models", { cf: { country: "JP" }, env });
    expect(jp.status).toBe(200);
    expect(jp.headers.get("x-origin")).toBe("echo");
    const cn = await call("/v1/models", { cf: { country: "CN" }, env });
    expect(cn.status).toBe(403);
    expect((await adminFetch("/healthz", { token: null, env })).status).toBe(200);
    expect((await call("/__region-gate/check?format=json", { cf: { country: "JP" }, env })).status).toBe(200);
  });

  it("accepts a token of exactly 32 characters", async () => {
    const res = await adminFetch("/policy", { token: EXACT, env: { ADMIN_TOKEN: EXACT } });
    expect(res.status).toBe(200);
  });
});

describe("failed admin authentications are rationed per client address", () => {
  const from = (ip: string, token: string | null = TOKEN) =>
    adminFetch("/policy/history", { token, headers: { "cf-connecting-ip": ip } });

  it("the address over its ration gets 429 with Retry-After; another address is not affected", async () => {
    const attacker = "203.0.113.7";
    const operator = "198.51.100.20";
    for (let i = 0; i < AUTH_FAILURES_PER_MINUTE; i++) {
      expect((await from(attacker, `guess-${i}`)).status).toBe(401);
    }
    const over = await from(attacker, "one-more-guess");
    expect(over.status).toBe(429);
    expect((await json(over)).error).toMatchObject({ code: "rate_limited" });
    const retry = Number(over.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    // The throttle is checked before the token: even the right one learns nothing.
    expect((await from(attacker)).status).toBe(429);
    // Another caller: its wrong token is a 401, its right token works.
    expect((await from(operator, "typo")).status).toBe(401);
    expect((await from(operator)).status).toBe(200);
    // The same /64 is the same caller for IPv6.
    for (let i = 0; i < AUTH_FAILURES_PER_MINUTE; i++) {
      await from(`2001:db8:1:2::${(i + 1).toString(16)}`, `guess-${i}`);
    }
    expect((await from("2001:db8:1:2:ffff::1")).status).toBe(429);
    expect((await from("2001:db8:1:3::1")).status).toBe(200);
  });

  it("dashboard sign-in failures count too", async () => {
    const ip = "203.0.113.8";
    const signin = (token: string) =>
      dash("/signin", { form: { token }, headers: { "cf-connecting-ip": ip } });
    for (let i = 0; i < AUTH_FAILURES_PER_MINUTE; i++) expect((await signin(`g${i}`)).status).toBe(401);
    const over = await signin(TOKEN);
    expect(over.status).toBe(429);
    expect(over.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(over.headers.get("set-cookie")).toBeNull();
    expect((await from(ip)).status).toBe(429);
  });

  it("a missing token is not a guess and is not counted", async () => {
    for (let i = 0; i < AUTH_FAILURES_PER_MINUTE + 5; i++) {
      expect((await from("203.0.113.9", null)).status).toBe(401);
    }
    expect((await from("203.0.113.9")).status).toBe(200);
  });
});
