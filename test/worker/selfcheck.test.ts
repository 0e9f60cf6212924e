import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { call, type EdgeFacts } from "./call";

const policy = livePolicy({
  version: "selfcheck.7",
  exemptions: [
    { cidr: "203.0.113.0/24", note: "secret-probe-network" },
    { apiKeyFingerprint: "0123456789abcdef", note: "secret-legal-review" },
  ],
  identity: { headers: ["openai-organization"] },
});

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(policy));
});

const check = (cf: EdgeFacts, headers: Record<string, string> = {}) =>
  call("/__region-gate/check", { headers, cf });
const json = { accept: "application/json" };

/** Strings from the policy that must never reach a self-check answer. */
const SECRETS = [
  "203.0.113",
  "secret-probe-network",
  "secret-legal-review",
  "0123456789abcdef",
  "BY",
  "VE",
  "UA-43",
  "GB",
  "DE",
];

describe("public self-check", () => {
  it("tells a CN caller they are blocked, since when, as JSON", async () => {
    const res = await check({ country: "CN", regionCode: "BJ" }, json);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      country: "CN",
      subdivision: "CN-BJ",
      region: "CN",
      decision: "block",
      checkedPath: "/v1/",
      policyVersion: "selfcheck.7",
      docsUrl: "https://example.com/supported-countries",
    });
    const enforcement = body.enforcement as Record<string, unknown>;
    expect(enforcement.phase).toBe("block");
    expect(enforcement.blockFrom).toBe(policy.enforcement?.default?.blockFrom);
    expect(enforcement.summary).toMatch(/^blocking since \d{4}-\d{2}-\d{2}$/);
  });

  it("tells a JP caller they pass, with no enforcement dates", async () => {
    const res = await check({ country: "JP", regionCode: "13" }, json);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ country: "JP", subdivision: "JP-13", decision: "pass", enforcement: null });
  });

  it("counts down to the block date of a region in its warn window", async () => {
    const body = (await (await check({ country: "VE" }, json)).json()) as {
      decision: string;
      enforcement: { blocksInDays: number };
    };
    expect(body.decision).toBe("warn");
    expect(body.enforcement.blocksInDays).toBe(30);
  });

  it("answers browsers with a small HTML page, also no-store", async () => {
    const cn = await check({ country: "CN" }, { accept: "text/html,*/*" });
    expect(cn.status).toBe(200);
    expect(cn.headers.get("content-type")).toMatch(/^text\/html/);
    expect(cn.headers.get("cache-control")).toBe("no-store");
    const html = await cn.text();
    expect(html).toContain("<dt>Country</dt><dd><b>CN</b></dd>");
    expect(html).toContain('class="tag block"');
    expect(html).toContain("blocking since");
    const jp = await (await check({ country: "JP" }, { accept: "text/html" })).text();
    expect(jp).toContain('class="tag pass"');
    expect(jp).not.toContain("blocking");
  });

  it("says exempt for a caller inside an exempted network, without naming the exemption", async () => {
    for (const accept of ["application/json", "text/html"]) {
      const res = await check({ country: "CN" }, { accept, "cf-connecting-ip": "203.0.113.9" });
      const text = await res.text();
      expect(text).toContain("exempt");
      for (const s of SECRETS) expect(text).not.toContain(s);
    }
  });

  it("never reveals other regions, exemptions or the supported list", async () => {
    for (const cf of <Record<string, string>[]>[
      { country: "CN" },
      { country: "JP" },
      { country: "RU" },
      {},
    ]) {
      for (const accept of ["application/json", "text/html"]) {
        const text = await (await check(cf, { accept })).text();
        for (const s of SECRETS) expect(text, `${JSON.stringify(cf)} ${accept}`).not.toContain(s);
      }
    }
  });

  it("ignores client-sent country headers", async () => {
    const res = await check(
      { country: "CN" },
      { ...json, "cf-ipcountry": "JP", "x-region-gate-country": "JP" },
    );
    expect(((await res.json()) as { decision: string }).decision).toBe("block");
  });

  it("answers without ADMIN_TOKEN and 404s when SELF_CHECK=false", async () => {
    const checkWith = async (vars: Record<string, string | undefined>) => {
      return call("/__region-gate/check", { headers: json, cf: { country: "CN" }, env: vars, wait: true });
    };
    expect((await checkWith({ ADMIN_TOKEN: undefined })).status).toBe(200);
    const off = await checkWith({ SELF_CHECK: "false" });
    expect(off.status).toBe(404);
    expect(await off.text()).not.toContain("selfcheck.7");
  });

  it("never reaches the origin", async () => {
    const res = await check({ country: "JP" }, json);
    expect(res.headers.get("x-region-gate-decision")).toBeNull();
    expect(((await res.json()) as Record<string, unknown>).url).toBeUndefined();
  });
});
