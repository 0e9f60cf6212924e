import { env } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { isSubdivisionCode } from "../../src/policy/codes";
import { invalidatePolicy } from "../../src/store/store";
import { livePolicy, specPolicy } from "../fixtures/policies";
import { adminFetch, call, type EdgeFacts, json } from "./call";

const explain = async (query: string) => {
  const res = await adminFetch(`/explain?${query}`);
  return { status: res.status, body: await json(res) };
};

describe("GET /explain with the SPEC policy", () => {
  beforeAll(async () => {
    await env.POLICY.put("policy", JSON.stringify(specPolicy()));
    invalidatePolicy();
  });

  it.each([
    [
      "country=CN&at=2024-06-20T00:00:00Z",
      "observe",
      "CN",
      "enforcement.default: before 2024-06-25T00:00:00.000Z",
    ],
    ["country=CN&at=2024-07-01", "warn", "CN", "enforcement.default.warnFrom=2024-06-25T00:00:00.000Z"],
    [
      "country=CN&at=2024-07-09T00:00:00Z",
      "block",
      "CN",
      "enforcement.default.blockFrom=2024-07-09T00:00:00.000Z",
    ],
    ["country=RU&at=2024-07-01", "observe", "RU", "enforcement.regions.RU: before 2024-07-09T00:00:00.000Z"],
    [
      "country=UA&region=UA-43&at=2024-07-01",
      "block",
      "UA-43",
      "enforcement.regions.UA-43.blockFrom=2022-03-01T00:00:00.000Z",
    ],
    ["country=UA&region=30", "pass", "UA-30", "supported: UA"],
    ["country=VE&at=2030-01-01", "warn", "VE", "enforcement.regions.VE.warnFrom=2024-08-01T00:00:00.000Z"],
    ["country=CN&ip=198.51.100.7", "exempt", "CN", "exemptions[cidr=198.51.100.0/24]"],
    [
      "country=CN&fingerprint=9f86d081884c7d65&at=2024-07-10",
      "exempt",
      "CN",
      "exemptions[apiKeyFingerprint=9f86d081884c7d65]",
    ],
    [
      "country=CN&fingerprint=9f86d081884c7d65&at=2025-01-01",
      "block",
      "CN",
      "enforcement.default.blockFrom=2024-07-09T00:00:00.000Z",
    ],
    ["country=T1", "block", "T1", "tor=block"],
    ["", "unknown", "XX", "unknownCountry=allow"],
    ["country=CN&path=/v1/health", "out_of_scope", null, "scope"],
  ])("%s → %s", async (query, decision, region, rule) => {
    const { status, body } = await explain(query);
    expect(status).toBe(200);
    expect(body).toMatchObject({ policyVersion: "2024-06-25.1", decision, region, rule });
  });

  it("says when and how, with the window and what the client sees", async () => {
    const { body } = await explain("country=CN&at=2024-07-01T12:00:00Z");
    expect(body).toEqual({
      policyVersion: "2024-06-25.1",
      at: "2024-07-01T12:00:00.000Z",
      case: { country: "CN", region: null, ip: null, fingerprint: null, path: "/v1/", asn: null },
      network: null,
      decision: "warn",
      region: "CN",
      rule: "enforcement.default.warnFrom=2024-06-25T00:00:00.000Z",
      window: {
        source: "enforcement.default",
        warnFrom: "2024-06-25T00:00:00.000Z",
        blockFrom: "2024-07-09T00:00:00.000Z",
      },
      outcome: expect.stringContaining("Sunset"),
    });
  });

  it("answers bad parameters with 400 and every problem", async () => {
    const { status, body } = await explain(
      "country=China&region=DE-BE&at=tomorrow&ip=300.1.1.1&fingerprint=XYZ&path=v1",
    );
    expect(status).toBe(400);
    expect((body.errors as Array<{ param: string }>).map((e) => e.param)).toEqual([
      "country",
      "region",
      "at",
      "ip",
      "fingerprint",
      "path",
    ]);
    expect(body.error).toMatchObject({ code: "invalid_explain_query", param: "country" });
  });

  it.each([
    ["country=UK", "country", '"UK" is not an ISO 3166-1 alpha-2 code; did you mean GB?'],
    ["country=jp", "country", '"jp" is not an ISO 3166-1 alpha-2 code; did you mean JP?'],
    ["country=UA&region=99", "region", '"99" is not an ISO 3166-2 subdivision of UA; its codes are UA-05'],
    ["country=UA&region=ua-43", "region", '"ua-43" is not an ISO 3166-2 code of UA; did you mean UA-43?'],
  ])("refuses %s with 400 and the code meant", async (query, param, message) => {
    const { status, body } = await explain(query);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: "invalid_explain_query", param });
    expect((body.error as { message: string }).message).toContain(`${param}: ${message}`);
  });
});

describe("explain agrees with the gate", () => {
  beforeAll(async () => {
    await env.POLICY.put("policy", JSON.stringify(livePolicy({ tor: "allow", unknownCountry: "block" })));
    invalidatePolicy();
  });

  it("for any country, subdivision and path, explain gives the decision the gate applies", async () => {
    const country = fc.constantFrom("DE", "JP", "UA", "CN", "VE", "BY", "RU", "XX", "T1", "HK", undefined);
    const regionCode = fc.constantFrom("43", "30", undefined);
    const path = fc.constantFrom("/v1/chat", "/v1/health", "/v1/", "/other", "/V1//chat");
    await fc.assert(
      fc.asyncProperty(country, regionCode, path, async (c, r, p) => {
        const cf: EdgeFacts = {};
        if (c) cf.country = c;
        if (c && r) cf.regionCode = r;
        const res = await call(p, { cf });
        const seen = res.status === 200 ? ((await res.json()) as { headers: Record<string, string> }) : null;
        if (seen === null) await res.arrayBuffer();
        const gateDecision = res.status === 403 ? "block" : seen?.headers["x-region-gate-decision"];

        const q = new URLSearchParams({ path: p });
        if (c) q.set("country", c);
        // explain refuses codes ISO 3166-2 does not list; the gate judges those as the country alone.
        if (c && r && isSubdivisionCode(`${c}-${r}`)) q.set("region", r);
        const { body } = await explain(q.toString());
        expect(gateDecision).toBe(body.decision);
      }),
      { numRuns: 60 },
    );
  });
});
