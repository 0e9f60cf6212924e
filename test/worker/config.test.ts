import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { call } from "./call";

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(livePolicy()));
});
afterEach(() => vi.restoreAllMocks());

async function gate(url: string, overrides: Record<string, unknown>) {
  const res = await call(url, {
    cf: { country: "JP" },
    env: { EXPOSURE_LEDGER: "off", ...overrides },
    wait: true,
  });
  return res;
}

describe("deployment modes and vars", () => {
  it("route mode (ORIGIN_URL unset) sends the request on to its own URL", async () => {
    const res = await gate("https://api.example.com/v1/models?q=1", { ORIGIN_URL: undefined });
    const seen = (await res.json()) as { url: string };
    expect(seen.url).toBe("https://api.example.com/v1/models?q=1");
  });

  it("ORIGIN_URL with a base path prefixes the client's path", async () => {
    const res = await gate("https://api.example.com/v1/models?q=1", {
      ORIGIN_URL: "https://internal.test/base/",
    });
    const seen = (await res.json()) as { url: string };
    expect(seen.url).toBe("https://internal.test/base/v1/models?q=1");
  });

  it("sends ORIGIN_AUTH_SECRET to the origin as x-region-gate-auth", async () => {
    const res = await gate("https://gate.test/v1/models", { ORIGIN_AUTH_SECRET: "s3cret" });
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers["x-region-gate-auth"]).toBe("s3cret");
  });

  it.each([
    ["FAIL_MODE", "maybe"],
    ["ORIGIN_URL", "not a url"],
    ["ORIGIN_TIMEOUT_MS", "soon"],
  ])("a malformed %s fails loudly with a 500 naming the var", async (name, value) => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await gate("https://gate.test/v1/models", { [name]: value });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("region_gate_error");
    expect(errors.mock.calls.flat().join("\n")).toContain(name);
  });
});
