import { env } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { call, type EdgeFacts } from "./call";

// Hostile clients inside workerd: spoofed location and address headers, and paths built
// to leave the policy's scope. KV is per file, so this policy is the only one here.
const policy = livePolicy({
  scope: { include: ["/v1/"], exclude: ["/v1/health"] },
  exemptions: [{ cidr: "203.0.113.0/24", note: "probes" }],
});

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(policy));
});

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
}

const gate = (path: string, cf: EdgeFacts, headers: HeadersInit = []) => call(path, { headers, cf });

/** Every header a client might use to claim another location, address or gate verdict. */
const SPOOF_NAMES = [
  "cf-ipcountry",
  "cf-connecting-ip",
  "x-forwarded-for",
  "forwarded",
  "true-client-ip",
  "x-real-ip",
  "x-region-gate-decision",
  "x-region-gate-country",
  "x-region-gate-region",
  "x-region-gate-policy",
  "x-region-gate-auth",
  "x-region-gate-anything",
];
const SPOOF_VALUES = [
  "US",
  "JP",
  "pass",
  "exempt",
  "203.0.113.9",
  "for=203.0.113.9",
  'for="[2001:db8::1]";proto=https',
  "203.0.113.9, 198.51.100.1",
  "  US  ",
  "\tJP",
  "US,JP",
];

/** Random casing of a header name (`Cf-IpCoUnTrY`): header names are case-insensitive. */
const anyCase = (name: string) =>
  fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((upper) => [...name].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch)).join(""));

/** A list of spoofed header entries, names in any case, possibly repeated. */
const spoofHeaders = fc.array(
  fc.tuple(fc.constantFrom(...SPOOF_NAMES).chain(anyCase), fc.constantFrom(...SPOOF_VALUES)),
  { minLength: 1, maxLength: 8 },
);

describe("spoofed headers never change the decision", () => {
  it("blocks CN whatever location, address or verdict headers the client adds", async () => {
    await fc.assert(
      fc.asyncProperty(spoofHeaders, async (headers) => {
        const res = await gate("/v1/chat/completions", { country: "CN" }, headers);
        await res.body?.cancel();
        return res.status === 403 && res.headers.get("x-region-gate-region") === "CN";
      }),
      { seed: 5, numRuns: 60 },
    );
  });

  it("still blocks a carved-out subdivision when the client claims a supported one", async () => {
    const res = await gate("/v1/models", { country: "UA", regionCode: "43" }, [
      ["CF-IPCountry", "UA"],
      ["cf-region-code", "30"],
      ["x-region-gate-region", "UA-30"],
    ]);
    expect(res.status).toBe(403);
    expect(res.headers.get("x-region-gate-region")).toBe("UA-43");
  });

  it("does not turn a supported client into a blocked one", async () => {
    await fc.assert(
      fc.asyncProperty(spoofHeaders, async (headers) => {
        const res = await gate("/v1/models", { country: "JP" }, [...headers, ["CF-IPCountry", "CN"]]);
        await res.body?.cancel();
        return res.status === 200 && res.headers.get("x-region-gate-decision") === null;
      }),
      { seed: 6, numRuns: 30 },
    );
  });
});

describe("spoofed headers never reach the origin as sent", () => {
  it("the origin sees only the gate's x-region-gate-*, the edge country and the edge address", async () => {
    await fc.assert(
      fc.asyncProperty(spoofHeaders, async (headers) => {
        // The edge address is whatever cf-connecting-ip holds; Cloudflare overwrites a
        // client's value in production, so here the test plays the edge with the last word.
        const withEdge: [string, string][] = [
          ...headers.filter(([n]) => n.toLowerCase() !== "cf-connecting-ip"),
          ["cf-connecting-ip", "192.0.2.44"],
        ];
        const seen = (await (await gate("/v1/models", { country: "JP" }, withEdge)).json()) as Echo;
        const h = seen.headers;
        expect(h["cf-ipcountry"]).toBe("JP");
        expect(h["x-region-gate-decision"]).toBe("pass");
        expect(h["x-region-gate-country"]).toBe("JP");
        expect(h["x-region-gate-region"]).toBe("JP");
        expect(h["x-region-gate-policy"]).toBe("live.1");
        expect(h["x-region-gate-auth"]).toBeUndefined();
        expect(h["x-region-gate-anything"]).toBeUndefined();
        expect(h["x-forwarded-for"]).toBe("192.0.2.44");
        expect(h.forwarded).toBeUndefined();
        for (const name of ["true-client-ip", "x-real-ip"]) {
          if (h[name] !== undefined) expect(h[name]).toBe("192.0.2.44");
        }
      }),
      { seed: 7, numRuns: 40 },
    );
  });

  it("drops client address headers when the edge gave no address", async () => {
    const seen = (await (
      await gate("/v1/models", { country: "JP" }, [
        ["X-Forwarded-For", "203.0.113.9"],
        ["True-Client-IP", "203.0.113.9"],
        ["X-Real-IP", "203.0.113.9"],
        ["Forwarded", "for=203.0.113.9"],
      ])
    ).json()) as Echo;
    expect(seen.headers["x-forwarded-for"]).toBeUndefined();
    expect(seen.headers["true-client-ip"]).toBeUndefined();
    expect(seen.headers["x-real-ip"]).toBeUndefined();
    expect(seen.headers.forwarded).toBeUndefined();
  });

  it("rewrites CF-IPCountry from the edge even on out-of-scope paths", async () => {
    const seen = (await (
      await gate("/public/x", { country: "CN" }, [["CF-IPCountry", "US"]])
    ).json()) as Echo;
    expect(seen.headers["cf-ipcountry"]).toBe("CN");
    expect(seen.headers["x-region-gate-decision"]).toBe("out_of_scope");
  });
});

describe("CIDR exemptions use only CF-Connecting-IP", () => {
  it.each([
    ["X-Forwarded-For", "203.0.113.9"],
    ["True-Client-IP", "203.0.113.9"],
    ["X-Real-IP", "203.0.113.9"],
    ["Forwarded", "for=203.0.113.9"],
    ["x-region-gate-decision", "exempt"],
  ])("ignores an exempt address in %s", async (name, value) => {
    const res = await gate("/v1/models", { country: "CN" }, [[name, value]]);
    expect(res.status).toBe(403);
  });

  it("exempts the address the edge put in CF-Connecting-IP", async () => {
    const res = await gate("/v1/models", { country: "CN" }, [["CF-Connecting-IP", "203.0.113.9"]]);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-region-gate-decision")).toBe("exempt");
  });

  it("refuses the exemption when CF-Connecting-IP is repeated or not a single address", async () => {
    for (const headers of [
      [
        ["CF-Connecting-IP", "203.0.113.9"],
        ["cf-connecting-ip", "8.8.8.8"],
      ],
      [["CF-Connecting-IP", "203.0.113.9, 8.8.8.8"]],
      [["CF-Connecting-IP", "203.0.113.9/24"]],
      [["CF-Connecting-IP", "203.0.113.009"]],
    ] as [string, string][][]) {
      const res = await gate("/v1/models", { country: "CN" }, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
    }
  });
});

describe("paths that try to leave scope are judged as the origin will serve them", () => {
  // Each of these reaches something under /v1/ on some origin (decoding %2F or not,
  // honouring ;params or not, decoding twice), so a CN client must be blocked.
  it.each([
    "/v1/../v1/chat",
    "//v1/chat",
    "/V1/chat",
    "/x/%2e%2e/v1/chat",
    "/x/.%2E/v1/chat",
    "/v1%2Fchat",
    "/x%2F..%2Fv1/chat",
    "/x/%ff/..%2f..%2fv1/chat",
    "/v1/files/a%2F..%2F..%2F..%2Fpublic",
    "/v1/health%2F..%2Fchat",
    "/v1/health/..;/chat",
    "/v1;jsessionid=1/chat",
    "/%2576%2531/chat",
    "/x/%252e%252e/v1/chat",
    "/x\\..\\v1/chat",
    "/%5Cv1/chat",
    `/v1/${"a".repeat(64 * 1024)}`,
    `/v1/${"a%2F".repeat(8 * 1024)}..%2F..%2Fv1/chat`,
  ])("blocks CN on %s", async (path) => {
    const res = await gate(path, { country: "CN" });
    await res.body?.cancel();
    expect(res.status).toBe(403);
  });

  it.each([
    ["/v1/../admin", "/admin"],
    ["/v1/%2e%2e/admin", "/admin"],
    ["/v1/health", "/v1/health"],
    ["/public/v1/chat", "/public/v1/chat"],
  ])("lets CN reach %s out of scope, and the origin serves %s", async (path, served) => {
    const res = await gate(path, { country: "CN" });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Echo;
    expect(new URL(seen.url).pathname).toBe(served);
  });

  it("forwards an encoded path byte for byte, so the origin serves what the gate judged", async () => {
    const res = await gate("/v1/files/a%2Fb?x=%2F", { country: "JP" });
    const seen = (await res.json()) as Echo;
    expect(seen.url).toBe("http://origin.test/v1/files/a%2Fb?x=%2F");
  });

  it("answers a 64 KiB path from a supported region without error", async () => {
    const path = `/v1/${"b".repeat(64 * 1024)}`;
    const res = await gate(path, { country: "JP" });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Echo;
    expect(new URL(seen.url).pathname).toBe(path);
  });
});
