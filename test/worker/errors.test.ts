/**
 * The one error handler of every Hono app (src/control/app.ts): what a handler under the admin
 * prefix throws becomes one envelope, the cause logged and never echoed.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { adminFetch, captureLogs, json } from "./call";

/** A POLICY binding whose every call fails like a KV outage. */
const failingKv = new Proxy(env.POLICY, {
  get: () => () => Promise.reject(new Error("KV outage: secret-internal-detail")),
});

describe("unexpected errors under the admin prefix", () => {
  it("a storage failure in the admin API answers 503 admin_unavailable and logs the cause", async () => {
    const logs = captureLogs();
    const res = await adminFetch("/policy", { env: { POLICY: failingKv } });
    expect(res.status).toBe(503);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await json(res);
    expect(body.error).toMatchObject({ type: "server_error", param: null, code: "admin_unavailable" });
    expect(JSON.stringify(body)).not.toContain("secret-internal-detail");
    expect(logs.events()).toContainEqual(
      expect.objectContaining({ event: "admin_error", error: "KV outage: secret-internal-detail" }),
    );
  });
});
