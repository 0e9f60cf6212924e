import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { type Call, call, type EdgeFacts } from "./call";

const policy = livePolicy({
  exemptions: [{ cidr: "203.0.113.0/24", note: "probes" }],
  identity: { headers: ["openai-organization"] },
});

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(policy));
});

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  bodySha256: string;
  bodyLength: number;
}

const gate = (path: string, cf: EdgeFacts, init: Call = {}) => call(path, { ...init, cf });

const BLOCK_BODY =
  '{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}';

describe("what the client sees", () => {
  it("blocks CN after blockFrom with the exact 403 body and headers", async () => {
    const res = await gate("/v1/chat/completions", { country: "CN" }, { method: "POST", body: "{}" });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-region-gate-decision")).toBe("block");
    expect(res.headers.get("x-region-gate-region")).toBe("CN");
    expect(res.headers.get("x-region-gate-policy")).toBe("live.1");
    expect(res.headers.get("link")).toBe('<https://example.com/supported-countries>; rel="help"');
    expect(await res.text()).toBe(BLOCK_BODY);
  });

  it("blocks a carved-out subdivision while its country passes", async () => {
    const crimea = await gate("/v1/models", { country: "UA", regionCode: "43" });
    expect(crimea.status).toBe(403);
    expect(crimea.headers.get("x-region-gate-region")).toBe("UA-43");
    const kyiv = await gate("/v1/models", { country: "UA", regionCode: "30" });
    expect(kyiv.status).toBe(200);
  });

  it("warns VE inside its window: origin response plus Sunset, Link and decision", async () => {
    const res = await gate("/v1/models", { country: "VE" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin")).toBe("echo");
    expect(res.headers.get("x-region-gate-decision")).toBe("warn");
    const blockFrom = Date.parse(policy.enforcement!.regions!.VE!.blockFrom!);
    expect(res.headers.get("sunset")).toBe(new Date(blockFrom).toUTCString());
    expect(res.headers.get("sunset")).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(res.headers.get("link")).toBe('<https://example.com/supported-countries>; rel="sunset"');
  });

  it("observes BY before its warnFrom: passes with the decision header only", async () => {
    const res = await gate("/v1/models", { country: "BY" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-region-gate-decision")).toBe("observe");
    expect(res.headers.get("sunset")).toBeNull();
  });

  it("marks unknown countries and CIDR exemptions", async () => {
    expect((await gate("/v1/models", {})).headers.get("x-region-gate-decision")).toBe("unknown");
    const exempt = await gate(
      "/v1/models",
      { country: "CN" },
      { headers: { "cf-connecting-ip": "203.0.113.9" } },
    );
    expect(exempt.status).toBe(200);
    expect(exempt.headers.get("x-region-gate-decision")).toBe("exempt");
  });

  it("returns pass and out-of-scope responses unchanged", async () => {
    const pass = await gate("/v1/models", { country: "JP" });
    expect(pass.headers.get("x-region-gate-decision")).toBeNull();
    expect(pass.headers.get("x-origin")).toBe("echo");
    const outOfScope = await gate("/v2/anything", { country: "CN" });
    expect(outOfScope.status).toBe(200);
    expect(outOfScope.headers.get("x-region-gate-decision")).toBeNull();
    const health = await gate("/v1/health", { country: "CN" });
    expect(health.status).toBe(200);
  });

  it("returns redirects instead of following them", async () => {
    const res = await gate("/v1/../redirect", { country: "JP" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://elsewhere.test/");
  });

  it("never proxies or judges the admin prefix", async () => {
    const unauthenticated = await gate("/__region-gate/no-such-route", { country: "CN" });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get("x-region-gate-decision")).toBeNull();
    const authenticated = await gate(
      "/__region-gate/no-such-route",
      { country: "CN" },
      { headers: { authorization: "Bearer test-admin-token-0123456789-0123456789" } },
    );
    expect(authenticated.status).toBe(404);
    expect(authenticated.headers.get("x-origin")).toBeNull();
  });
});

describe("what the origin sees", () => {
  it("gets method, path, query and body as sent, plus gate headers", async () => {
    const body = "x".repeat(100_000);
    const res = await gate(
      "/v1/files?purpose=fine-tune&x=%20y",
      { country: "VE" },
      { method: "PUT", body, headers: { "content-type": "text/plain", "openai-organization": "org-1" } },
    );
    const seen = (await res.json()) as Echo;
    expect(seen.method).toBe("PUT");
    expect(seen.url).toBe("http://origin.test/v1/files?purpose=fine-tune&x=%20y");
    expect(seen.bodyLength).toBe(100_000);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
    expect(seen.bodySha256).toBe(
      [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""),
    );
    expect(seen.headers).toMatchObject({
      "content-type": "text/plain",
      "openai-organization": "org-1",
      "x-region-gate-decision": "warn",
      "x-region-gate-country": "VE",
      "x-region-gate-region": "VE",
      "x-region-gate-policy": "live.1",
    });
  });

  it("drops hop-by-hop headers and those named in Connection", async () => {
    const res = await gate(
      "/v1/models",
      { country: "JP" },
      {
        headers: {
          connection: "keep-alive, x-secret-hop",
          "x-secret-hop": "1",
          "keep-alive": "timeout=5",
          te: "trailers",
        },
      },
    );
    const seen = (await res.json()) as Echo;
    expect(seen.headers["x-secret-hop"]).toBeUndefined();
    expect(seen.headers["keep-alive"]).toBeUndefined();
    expect(seen.headers.te).toBeUndefined();
  });

  it("keeps what the edge and the gate vouch for even when the client lists it in Connection", async () => {
    const vouched = ["cf-connecting-ip", "cf-ray", "cf-ipcountry", "x-forwarded-for", "x-forwarded-host"];
    const res = await gate(
      "/v1/models",
      { country: "JP" },
      {
        headers: {
          connection: `close, ${vouched.join(", ")}, x-region-gate-decision, x-region-gate-policy`,
          "cf-connecting-ip": "198.51.100.7",
          "cf-ray": "8f00000000000000-NRT",
        },
      },
    );
    const seen = (await res.json()) as Echo;
    // workerd never puts CF-Connecting-IP on an outbound request; the gate's copy is X-Forwarded-For.
    expect(seen.headers).toMatchObject({
      "cf-ray": "8f00000000000000-NRT",
      "cf-ipcountry": "JP",
      "x-forwarded-for": "198.51.100.7",
      "x-forwarded-host": "gate.test",
      "x-forwarded-proto": "https",
      "x-region-gate-decision": "pass",
      "x-region-gate-policy": "live.1",
    });
  });

  it("does not send x-region-gate-auth when ORIGIN_AUTH_SECRET is unset", async () => {
    const seen = (await (await gate("/v1/models", { country: "JP" })).json()) as Echo;
    expect(seen.headers["x-region-gate-auth"]).toBeUndefined();
  });
});

describe("never fooled by client headers", () => {
  const spoofs = {
    "CF-IPCountry": "US",
    "X-Forwarded-For": "8.8.8.8",
    "x-region-gate-decision": "pass",
    "X-Region-Gate-Country": "US",
    "x-region-gate-auth": "forged",
    "cf-connecting-ip": "198.51.100.1",
  };

  it("still blocks a CN client that claims to be elsewhere", async () => {
    const res = await gate("/v1/chat/completions", { country: "CN" }, { headers: spoofs });
    expect(res.status).toBe(403);
  });

  it("strips client-sent x-region-gate-* and rewrites CF-IPCountry from the edge", async () => {
    const seen = (await (await gate("/v1/models", { country: "JP" }, { headers: spoofs })).json()) as Echo;
    expect(seen.headers["cf-ipcountry"]).toBe("JP");
    expect(seen.headers["x-region-gate-decision"]).toBe("pass");
    expect(seen.headers["x-region-gate-country"]).toBe("JP");
    expect(seen.headers["x-region-gate-auth"]).toBeUndefined();
  });

  it("decides only from request.cf, whatever the headers say", async () => {
    const res = await gate("/v1/models", { country: "JP" }, { headers: { "CF-IPCountry": "CN" } });
    expect(res.status).toBe(200);
  });
});
