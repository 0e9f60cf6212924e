import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { call } from "./call";

// SPEC section 3: scope is judged on what the origin will serve (ORIGIN_URL's base path +
// the client's path), and a path that climbs above the root under any reading is refused
// with 400 before any origin sees it. Each case runs in the three ways the gate can be
// deployed: ORIGIN_URL without a base path, ORIGIN_URL with one, and route mode.
beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(livePolicy()));
});

interface Echo {
  url: string;
  headers: Record<string, string>;
}

const MODES = [
  { mode: "ORIGIN_URL without a base path", ORIGIN_URL: "http://origin.test", base: "http://origin.test" },
  {
    mode: "ORIGIN_URL with a base path",
    ORIGIN_URL: "http://origin.test/api",
    base: "http://origin.test/api",
  },
  // Route mode: the gate fetches the request's own URL, which the outbound service answers.
  { mode: "route mode", ORIGIN_URL: undefined, base: "https://gate.test" },
] as const;

async function gate(path: string, country: string, overrides: Record<string, unknown>) {
  const res = await call(path, {
    cf: { country },
    env: { EXPOSURE_LEDGER: "off", ...overrides },
    wait: true,
  });
  return res;
}

/** Paths that climb above the root under at least one reading an origin applies. */
const CLIMBING = [
  "/..%2Fapi%2Fv1%2Fchat", // the reported one: /api/../api/v1/chat for a %2F-decoding origin
  "/..%2fv1/chat",
  "/%2e%2e%2Fv1/chat",
  "/.%2e%2fv1/chat",
  "/%2E%2E%2F%2E%2E%2Fv1",
  "/%252e%252e%252fv1/chat", // decoded twice
  "/..%5Cv1/chat", // backslash read as a slash
  "/%5C..%5Cv1/chat",
  "/..;/v1/chat", // Tomcat/Jetty: `..;` is `..`
  "/x/..;/..;/v1/chat",
  "/v1/..%2F..%2Fadmin", // starts in scope, climbs out of it
  "/public/..%2F..%2Fv1/chat", // starts out of scope
  "/v1/health/..%2F..%2F..%2Fv1/chat", // starts excluded
  "/..%2F__region-gate/policy", // towards the admin prefix
];

describe.each(MODES)("$mode", ({ ORIGIN_URL, base }) => {
  it.each(CLIMBING)("answers %s with 400 invalid_request_path, from JP and CN alike", async (path) => {
    for (const country of ["JP", "CN"]) {
      const res = await gate(path, country, { ORIGIN_URL });
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/json");
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({
        type: "invalid_request_error",
        param: null,
        code: "invalid_request_path",
      });
      expect(body.error.message).toContain("climbs above the root");
    }
  });

  it.each(["/v1/chat", "/x/..%2Fv1%2Fchat", "/v1%2Fchat", "//v1/chat", "/V1/chat", "/x/%2e%2e/v1/chat"])(
    "blocks CN on %s, whose served path is under /v1/",
    async (path) => {
      const res = await gate(path, "CN", { ORIGIN_URL });
      await res.body?.cancel();
      expect(res.status).toBe(403);
    },
  );

  it.each([
    ["/public/v1/chat", "/public/v1/chat"],
    ["/v1/health", "/v1/health"],
    ["/v1/../status", "/status"],
    ["/a/..%2Fstatus", "/a/..%2Fstatus"],
  ])("lets CN reach %s out of scope; the origin gets %s after the base path", async (path, served) => {
    const res = await gate(path, "CN", { ORIGIN_URL });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Echo;
    expect(seen.url).toBe(`${base}${served}`);
    expect(seen.headers["x-region-gate-decision"]).toBe("out_of_scope");
  });

  it("passes JP's in-scope request to the path under the base path, encoded as sent", async () => {
    const res = await gate("/v1/files/a%2Fb", "JP", { ORIGIN_URL });
    const seen = (await res.json()) as Echo;
    expect(seen.url).toBe(`${base}/v1/files/a%2Fb`);
  });
});

describe("the admin prefix", () => {
  it.each(["/__region-gate/..%2F..%2Fv1/chat", "/__region-gate/..%2Fpolicy", "/__region-gate/x/..;/policy"])(
    "is never proxied: %s is answered by the admin API",
    async (path) => {
      const res = await gate(path, "JP", { ORIGIN_URL: "http://origin.test/api" });
      const body = (await res.json()) as { error?: { code: string }; url?: string };
      expect(body.url).toBeUndefined();
      expect([401, 404]).toContain(res.status);
    },
  );
});

// A `%` not followed by two hex digits is not a URI (RFC 3986 section 2.1). The runtime's
// fetch refuses such a URL ("Invalid URL string"), which used to surface as 502
// origin_unreachable; it is the client's request that is wrong, so it gets a 400 (path and query).
describe.each(MODES)("malformed percent-encoding, $mode", ({ ORIGIN_URL }) => {
  it.each(["/%chat", "/v1/%zz", "/v1/chat%", "/v1/%2", "/public/%g0", "/v1/chat?q=100%", "/public?%zz"])(
    "answers %s with 400 invalid_request_path, from JP and CN alike",
    async (path) => {
      for (const country of ["JP", "CN"]) {
        const res = await gate(path, country, { ORIGIN_URL });
        expect(res.status).toBe(400);
        const body = (await res.json()) as { error: Record<string, unknown> };
        expect(body.error).toMatchObject({ type: "invalid_request_error", code: "invalid_request_path" });
        expect(body.error.message).toContain("percent");
      }
    },
  );

  it("still passes well-formed escapes, %25 included", async () => {
    const res = await gate("/v1/files/100%25%20done?q=100%25", "JP", { ORIGIN_URL });
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });
});
