import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { livePolicy } from "../fixtures/policies";

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(livePolicy()));
});

const call = (path: string, cf: Record<string, string>, init: RequestInit = {}) =>
  SELF.fetch(`https://gate.test${path}`, { ...init, cf } as RequestInit);

describe("gate", () => {
  it("blocks CN with the OpenAI-shaped 403", async () => {
    const res = await call("/v1/chat/completions", { country: "CN" });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe(
      '{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}',
    );
  });

  it("passes JP through to the origin", async () => {
    const res = await call("/v1/models?x=1", { country: "JP" });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe("http://origin.test/v1/models?x=1");
    expect(seen.headers["x-region-gate-decision"]).toBe("pass");
  });
});
