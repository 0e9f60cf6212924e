import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderIsoModule } from "../../scripts/gen-iso-codes.mjs";
import { isCountryCode, isSubdivisionCode } from "../../src/policy/codes";
import { compilePolicy } from "../../src/policy/compile";
import { isRfc3339, type PolicyDocument } from "../../src/policy/schema";
import { validatePolicy } from "../../src/policy/validate";
import { specPolicy } from "../fixtures/policies";

const pathsOf = (input: unknown) => {
  const result = validatePolicy(input);
  return result.ok ? [] : result.errors.map((e) => e.path);
};

describe("validatePolicy", () => {
  it("accepts the SPEC example", () => {
    expect(validatePolicy(specPolicy())).toEqual({ ok: true, policy: specPolicy() });
  });

  it("accepts the shipped example policy", () => {
    const doc = JSON.parse(readFileSync(new URL("../../examples/policy.json", import.meta.url), "utf8"));
    expect(validatePolicy(doc).ok).toBe(true);
  });

  it.each<[string, (p: Record<string, unknown>) => void, string[]]>([
    ["wrong schema", (p) => (p.schema = 2), ["$.schema"]],
    ["empty version", (p) => (p.version = ""), ["$.version"]],
    ["lower-case country", (p) => (p.supported as string[]).push("jp"), ["$.supported[6]"]],
    ["unreal country", (p) => (p.supported as string[]).push("ZZ"), ["$.supported[6]"]],
    ["duplicate country", (p) => (p.supported as string[]).push("DE"), ["$.supported[6]"]],
    [
      "unreal subdivision",
      (p) => (p.unsupportedSubdivisions as string[]).push("UA-99"),
      ["$.unsupportedSubdivisions[3]"],
    ],
    [
      "subdivision of an unsupported country",
      (p) => (p.unsupportedSubdivisions as string[]).push("CN-BJ"),
      ["$.unsupportedSubdivisions[3]"],
    ],
    ["unknown top-level field", (p) => (p.extra = true), ["$.extra"]],
    [
      "timestamp without offset",
      (p) => (p.enforcement = { default: { blockFrom: "2024-07-09T00:00:00" } }),
      ["$.enforcement.default.blockFrom"],
    ],
    [
      "impossible date",
      (p) => (p.enforcement = { default: { blockFrom: "2024-02-30T00:00:00Z" } }),
      ["$.enforcement.default.blockFrom"],
    ],
    [
      "warnFrom after blockFrom",
      (p) =>
        (p.enforcement = {
          default: { warnFrom: "2024-08-01T00:00:00Z", blockFrom: "2024-07-09T00:00:00Z" },
        }),
      ["$.enforcement.default.warnFrom"],
    ],
    [
      "supported country with an enforcement entry",
      (p) => (p.enforcement = { regions: { JP: { blockFrom: null } } }),
      ["$.enforcement.regions.JP"],
    ],
    [
      "unreal enforcement code",
      (p) => (p.enforcement = { regions: { QQ: { blockFrom: null } } }),
      ["$.enforcement.regions.QQ"],
    ],
    ["bad mode", (p) => (p.mode = "off"), ["$.mode"]],
    ["bad scope prefix", (p) => (p.scope = { include: ["v1/"] }), ["$.scope.include[0]"]],
    ["bad CIDR", (p) => (p.exemptions = [{ cidr: "10.0.0.1/8" }]), ["$.exemptions[0].cidr"]],
    [
      "bad fingerprint",
      (p) => (p.exemptions = [{ apiKeyFingerprint: "XYZ" }]),
      ["$.exemptions[0].apiKeyFingerprint"],
    ],
    [
      "exemption with both keys",
      (p) => (p.exemptions = [{ cidr: "10.0.0.0/8", apiKeyFingerprint: "0123456789abcdef" }]),
      ["$.exemptions[0]"],
    ],
    ["bad docs URL", (p) => (p.error = { docsUrl: "not a url" }), ["$.error.docsUrl"]],
    // SPEC section 2: a document that validates must be safe to serve (issue 9 items 1-3).
    ...(["2024-07-09\nrc1", "2024-07-09\rrc1", "v\u0000", "v 1", "v\u00e9", "x".repeat(129)].map(
      (version) => [`version ${JSON.stringify(version)}`, (p) => (p.version = version), ["$.version"]],
    ) as Array<[string, (p: Record<string, unknown>) => void, string[]]>),
    ...([
      "https://example.com/a\nb",
      "https://example.com/a b",
      "https://example.com",
      "http://example.com/regions",
      "https://EXAMPLE.com/regions",
      "/regions",
      "javascript:alert(1)",
    ].map((docsUrl) => [
      `docsUrl ${JSON.stringify(docsUrl)}`,
      (p) => (p.error = { docsUrl }),
      ["$.error.docsUrl"],
    ]) as Array<[string, (p: Record<string, unknown>) => void, string[]]>),
    ...(["line\nbreak", "tab\there", "nul\u0000", "c1\u0085", "m".repeat(501)].map((message) => [
      `error.message ${JSON.stringify(message.slice(0, 12))}`,
      (p) => (p.error = { message }),
      ["$.error.message"],
    ]) as Array<[string, (p: Record<string, unknown>) => void, string[]]>),
    ["empty scope.include", (p) => (p.scope = { include: [] }), ["$.scope.include"]],
    ...(
      [
        [["/"], ["/"]],
        [["/v1/"], ["/v1"]],
        [["/v1/"], ["/"]],
        [
          ["/v1/", "/V2/"],
          ["/v2", "/v1/"],
        ],
        [["/V1/"], ["/v1/"]],
      ] as const
    ).map(
      ([include, exclude]) =>
        [
          `exclude ${JSON.stringify(exclude)} covering include ${JSON.stringify(include)}`,
          (p: Record<string, unknown>) => (p.scope = { include: [...include], exclude: [...exclude] }),
          ["$.scope.include"],
        ] as [string, (p: Record<string, unknown>) => void, string[]],
    ),
    ...[
      "authorization",
      "proxy-authorization",
      "cookie",
      "x-api-key",
      "api-key",
      "cf-connecting-ip",
      "x-forwarded-for",
      "x-real-ip",
      "true-client-ip",
      "forwarded",
      // Issue 22 item 3: realtime keys, Access assertions and names that say "secret".
      "sec-websocket-protocol",
      "cf-access-jwt-assertion",
      "x-auth-token",
      "x-goog-api-key",
      "x-amz-security-token",
      "x-client-secret",
      "x-session-id",
      "x-db-password",
      "x-hub-signature-256",
      "set-cookie",
      "oauth-client",
      "x-apikey",
    ].map(
      (name) =>
        [
          `identity header ${name}`,
          (p: Record<string, unknown>) => (p.identity = { headers: ["openai-organization", name] }),
          ["$.identity.headers[1]"],
        ] as [string, (p: Record<string, unknown>) => void, string[]],
    ),
  ])("refuses %s with its JSON path", (_name, mutate, expected) => {
    const doc = structuredClone(specPolicy()) as unknown as Record<string, unknown>;
    mutate(doc);
    expect(pathsOf(doc)).toEqual(expected);
  });

  it("accepts scopes that still judge something, and safe versions, messages and URLs", () => {
    for (const scope of [
      { include: ["/v1/"], exclude: ["/v1/health"] },
      { include: ["/v1"], exclude: ["/v1/"] },
      { include: ["/v1/", "/v2/"], exclude: ["/v1/"] },
      { include: ["/"], exclude: ["/v1/"] },
    ]) {
      expect(pathsOf(specPolicy({ scope }))).toEqual([]);
    }
    expect(pathsOf(specPolicy({ version: "!~".repeat(64) }))).toEqual([]);
    expect(
      pathsOf(specPolicy({ error: { message: "m".repeat(500), docsUrl: "https://example.com/" } })),
    ).toEqual([]);
    expect(pathsOf(specPolicy({ error: { docsUrl: "https://example.com/a%20b?q=1#x" } }))).toEqual([]);
  });

  it("refuses credential headers whatever their case, saying why", () => {
    const result = validatePolicy(specPolicy({ identity: { headers: ["Authorization"] } }));
    const messages = result.ok ? [] : result.errors.filter((e) => e.path === "$.identity.headers[0]");
    expect(messages.map((e) => e.message)).toContainEqual(expect.stringContaining("credential"));
  });

  it("says which part of an identity header's name refuses it", () => {
    const result = validatePolicy(
      specPolicy({
        identity: { headers: ["openai-organization", "x-goog-api-key", "sec-websocket-protocol"] },
      }),
    );
    expect(result.ok ? [] : result.errors).toEqual([
      {
        path: "$.identity.headers[1]",
        message: expect.stringMatching(
          /^"x-goog-api-key" contains "key", so it may carry a secret, and the ledger must never store one/,
        ),
      },
      {
        path: "$.identity.headers[2]",
        message: expect.stringMatching(/^"sec-websocket-protocol" carries a credential/),
      },
    ]);
  });

  it("accepts identity headers that name a customer", () => {
    for (const name of ["openai-organization", "openai-project", "x-org", "x-tenant-id", "x-customer"]) {
      expect(pathsOf(specPolicy({ identity: { headers: [name] } })), name).toEqual([]);
    }
  });

  it("says how to write a docsUrl in its normalised form", () => {
    const result = validatePolicy(specPolicy({ error: { docsUrl: "https://example.com" } }));
    expect(result.ok ? [] : result.errors).toEqual([
      { path: "$.error.docsUrl", message: expect.stringContaining('write it as "https://example.com/"') },
    ]);
  });

  it("refuses an enforcement entry for a subdivision that is not carved out", () => {
    const doc = specPolicy({ unsupportedSubdivisions: ["UA-14"] });
    expect(pathsOf(doc)).toEqual(['$.enforcement.regions["UA-43"]']);
  });

  it("lists every problem, not just the first", () => {
    const paths = pathsOf({ schema: 2, version: 3, supported: ["de", "XX"], mode: "nope", junk: 1 });
    expect(paths).toEqual(
      expect.arrayContaining([
        "$.schema",
        "$.version",
        "$.supported[0]",
        "$.supported[1]",
        "$.mode",
        "$.junk",
      ]),
    );
  });

  it("refuses non-objects with a root path", () => {
    expect(pathsOf(null)).toEqual(["$"]);
    expect(pathsOf([])).toEqual(["$"]);
  });

  it("never throws on arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = validatePolicy(value);
        if (!result.ok) expect(result.errors.length).toBeGreaterThan(0);
      }),
      { seed: 20240709, numRuns: 2000 },
    );
  });

  it("never throws on policy-shaped objects with random field values", () => {
    const keys = [
      "schema",
      "version",
      "supported",
      "unsupportedSubdivisions",
      "enforcement",
      "mode",
      "scope",
      "exemptions",
    ];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.jsonValue()), (value) => {
        const result = validatePolicy({ schema: 1, version: "v", supported: [], ...value });
        if (result.ok) compilePolicy(result.policy);
      }),
      { seed: 7, numRuns: 2000 },
    );
  });

  it("round-trips valid documents through JSON unchanged", () => {
    const countries = ["DE", "GB", "JP", "US", "UA", "FR", "CN", "RU", "IR"];
    const ts = fc
      .integer({ min: Date.parse("2020-01-01T00:00:00Z"), max: Date.parse("2030-01-01T00:00:00Z") })
      .map((ms) => new Date(ms).toISOString());
    const arb = fc
      .record({
        supported: fc.uniqueArray(fc.constantFrom(...countries), { maxLength: 9 }),
        warnFrom: fc.option(ts),
        blockFrom: fc.option(ts),
        mode: fc.constantFrom("enforce" as const, "monitor" as const),
      })
      .map(({ supported, warnFrom, blockFrom, mode }): PolicyDocument => {
        const [w, b] =
          warnFrom && blockFrom && warnFrom > blockFrom ? [blockFrom, warnFrom] : [warnFrom, blockFrom];
        return {
          schema: 1,
          version: "gen",
          supported,
          mode,
          enforcement: { default: { warnFrom: w, blockFrom: b } },
        };
      });
    fc.assert(
      fc.property(arb, (doc) => {
        const result = validatePolicy(JSON.parse(JSON.stringify(doc)));
        expect(result).toEqual({ ok: true, policy: doc });
      }),
      { seed: 42, numRuns: 500 },
    );
  });
});

describe("codes", () => {
  it("knows real codes and refuses lookalikes", () => {
    expect(isCountryCode("UA")).toBe(true);
    expect(isCountryCode("XK")).toBe(true);
    for (const bad of ["ua", "ＣＮ", "C N", "XX", "T1", "", "UKR"]) expect(isCountryCode(bad)).toBe(false);
    expect(isSubdivisionCode("UA-43")).toBe(true);
    expect(isSubdivisionCode("ua-43")).toBe(false);
  });

  it("generated code table matches the installed iso-3166 package (run `npm run gen:iso` if not)", () => {
    const onDisk = readFileSync(new URL("../../src/policy/iso-codes.ts", import.meta.url), "utf8");
    expect(onDisk).toBe(renderIsoModule());
  });

  it("accepts RFC 3339 with offsets only", () => {
    expect(isRfc3339("2024-07-09T00:00:00Z")).toBe(true);
    expect(isRfc3339("2024-07-09T02:00:00.123+02:00")).toBe(true);
    expect(isRfc3339("2024-07-09T00:00:00")).toBe(false);
    expect(isRfc3339("2024-07-09")).toBe(false);
    expect(isRfc3339("2024-13-09T00:00:00Z")).toBe(false);
  });
});
