import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { invalidatePolicy, policyHealth } from "../../src/store/store";
import { livePolicy } from "../fixtures/policies";
import { adminFetch, call, faultyKv } from "./call";

/** Calls the worker with env overrides (a new env object gets its config parsed afresh). */
function gate(country: string, overrides: Record<string, unknown> = {}) {
  const vars = { EXPOSURE_LEDGER: "off", ...overrides };
  return call("/v1/chat/completions", { cf: { country }, env: vars, wait: true });
}

// The policy store when KV fails or holds something it cannot serve: fail closed (or open
// with FAIL_MODE=open) before any policy was loaded, the last known good policy after.
// The cache itself (TTL, concurrency) is policy-cache.test.ts.

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

// Order matters in this file: the first tests run before any valid policy was ever loaded.
describe("no valid policy ever loaded", () => {
  it("fails closed with 503 region_policy_unavailable", async () => {
    const res = await gate("JP", { POLICY_CACHE_SECONDS: "0" });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: {
        message: "Region policy unavailable; try again later",
        type: "server_error",
        param: null,
        code: "region_policy_unavailable",
      },
    });
  });

  it("fails closed when KV holds an invalid document", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await env.POLICY.put("policy", JSON.stringify({ schema: 1, version: "bad", supported: ["jp"] }));
    const res = await gate("JP", { POLICY_CACHE_SECONDS: "0" });
    expect(res.status).toBe(503);
    expect(errors.mock.calls.flat().join("\n")).toContain("$.supported[0]");
  });

  it("fails open when FAIL_MODE=open: the request reaches the origin", async () => {
    const res = await gate("CN", { POLICY_CACHE_SECONDS: "0", FAIL_MODE: "open" });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers["x-region-gate-decision"]).toBe("fail_open");
  });

  it("healthz reports no policy", async () => {
    expect(policyHealth().policyVersion).toBeNull();
  });
});

describe("with a policy loaded", () => {
  it("loads a valid policy and decides by it", async () => {
    await env.POLICY.put("policy", JSON.stringify(livePolicy({ version: "good.1" })));
    invalidatePolicy();
    expect((await gate("CN")).status).toBe(403);
    expect((await gate("JP")).status).toBe(200);
  });

  it("keeps the last known good policy after an invalid write, and logs why", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await env.POLICY.put("policy", '{"schema":1,"version":"broken","supported":"JP"}');
    invalidatePolicy();
    const res = await gate("CN");
    expect(res.status).toBe(403);
    expect(res.headers.get("x-region-gate-policy")).toBe("good.1");
    expect(errors.mock.calls.flat().join("\n")).toMatch(/invalid policy.*\$\.supported/);
    expect(policyHealth()).toMatchObject({
      lastError: "invalid_policy",
      lastErrorDetail: expect.stringMatching(/invalid policy/),
    });
  });

  it("keeps the last known good policy when KV holds a document with a duplicated key", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const doc = JSON.stringify(livePolicy({ version: "dup" })).replace(
      '"schema":1',
      '"mode":"monitor","mode":"enforce","schema":1',
    );
    await env.POLICY.put("policy", doc);
    invalidatePolicy();
    expect((await gate("CN")).headers.get("x-region-gate-policy")).toBe("good.1");
    expect(errors.mock.calls.flat().join("\n")).toMatch(/\$\.mode: duplicate key/);
  });

  it("keeps the last known good policy when KV is emptied", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    await env.POLICY.delete("policy");
    invalidatePolicy();
    expect((await gate("CN")).headers.get("x-region-gate-policy")).toBe("good.1");
    expect(policyHealth().lastError).toBe("empty");
  });

  it("the public /healthz names only the kind of problem; /status with the token has the detail", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    // The validator quotes a CIDR with host bits set: the old healthz published it.
    const exemptions = [{ cidr: "203.0.113.7/24", note: "partner office" }];
    await env.POLICY.put("policy", JSON.stringify({ ...livePolicy({ version: "leaky" }), exemptions }));
    invalidatePolicy();
    await gate("CN");
    const health = await adminFetch("/healthz", { token: null });
    const text = await health.text();
    expect(JSON.parse(text)).toMatchObject({
      ok: true,
      policyVersion: "good.1",
      lastError: "invalid_policy",
    });
    expect(text).not.toContain("203.0.113");
    expect(text).not.toContain("$.exemptions");
    const status = (await (await adminFetch("/status")).json()) as Record<string, unknown>;
    expect(status).toMatchObject({
      ok: true,
      policyVersion: "good.1",
      lastError: "invalid_policy",
      lastErrorDetail: expect.stringContaining('$.exemptions[0].cidr: "203.0.113.7/24"'),
    });
    expect((await adminFetch("/status", { token: null })).status).toBe(401);
  });

  it("a document that is not JSON is reported as invalid_json", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    await env.POLICY.put("policy", '{"schema":1,');
    invalidatePolicy();
    await gate("CN");
    expect(policyHealth().lastError).toBe("invalid_json");
  });

  it("keeps the last known good policy when a KV read throws", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    invalidatePolicy();
    const res = await gate("CN", { POLICY: faultyKv("throw") });
    expect(res.status).toBe(403);
    expect(policyHealth()).toMatchObject({
      lastError: "kv_error",
      lastErrorDetail: expect.stringContaining("KV GET failed"),
    });
  });

  it("keeps the last known good policy when a KV read hangs, within the KV timeout", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    invalidatePolicy();
    const started = Date.now();
    const res = await gate("CN", { POLICY: faultyKv("hang") });
    expect(res.status).toBe(403);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(policyHealth()).toMatchObject({
      lastError: "kv_timeout",
      lastErrorDetail: expect.stringContaining("timed out"),
    });
  });

  it("picks up a corrected policy on the next read", async () => {
    await env.POLICY.put(
      "policy",
      JSON.stringify(livePolicy({ version: "good.2", supported: ["CN", "JP", "UA"] })),
    );
    invalidatePolicy();
    const res = await gate("CN");
    expect(res.status).toBe(200);
    expect(policyHealth()).toMatchObject({ policyVersion: "good.2", lastError: null });
  });
});
