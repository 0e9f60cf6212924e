/**
 * Networks (SPEC sections 2 and 3): the schema's network fields, the cross-field rules with
 * their JSON paths, the compiled index, and the two-sided decision as a pure function.
 * test/worker/networks.test.ts checks the same rules through the worker.
 */
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/policy/compile";
import { decide, type RequestFacts } from "../../src/policy/decision";
import { diffPolicies } from "../../src/policy/diff";
import { explainCase, parseExplainQuery } from "../../src/policy/explain";
import type { PolicyDocument } from "../../src/policy/schema";
import { validatePolicy } from "../../src/policy/validate";
import { specPolicy } from "../fixtures/policies";

const T = (iso: string) => Date.parse(iso);
const BEFORE_WARN = T("2024-06-01T00:00:00Z");
const IN_WARN = T("2024-07-01T00:00:00Z");
const AFTER_BLOCK = T("2024-07-10T00:00:00Z");
const VPN_WARN = T("2024-08-01T00:00:00Z");
const AFTER_VPN_BLOCK = T("2024-09-02T00:00:00Z");

/** The SPEC's example networks on top of the fixture policy. */
function netPolicy(overrides: Partial<PolicyDocument> = {}): PolicyDocument {
  const base = specPolicy();
  return {
    ...base,
    enforcement: {
      ...base.enforcement,
      networks: { vpn: { warnFrom: "2024-07-01T00:00:00Z", blockFrom: "2024-09-01T00:00:00Z" } },
    },
    networks: {
      classes: { cloud: [16509, 15169, 8075, 13335], vpn: [9009, 212238] },
      unsupported: ["vpn", "AS60068"],
    },
    exemptions: [...(base.exemptions ?? []), { asn: 64500, until: "2025-01-31T00:00:00Z", note: "partner" }],
    error: { ...base.error, networkMessage: "Network not supported" },
    ...overrides,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the mutations reach into loose JSON, as a policy author would
type Json = any;

const pathsOf = (input: unknown) => {
  const result = validatePolicy(input);
  return result.ok ? [] : result.errors.map((e) => e.path);
};
const messagesOf = (input: unknown) => {
  const result = validatePolicy(input);
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
};

describe("validating networks", () => {
  it("accepts the SPEC's networks, enforcement.networks, asn exemption and networkMessage", () => {
    expect(messagesOf(netPolicy())).toEqual([]);
  });

  type Mutation = (p: Json) => void;
  it.each<[string, Mutation, string[]]>([
    [
      "an undefined class in unsupported",
      (p) => p.networks.unsupported.push("tor-exits"),
      ["$.networks.unsupported[2]"],
    ],
    [
      "an undefined class in enforcement.networks",
      (p) => (p.enforcement.networks.hosting = { blockFrom: null }),
      ["$.enforcement.networks.hosting"],
    ],
    ["an ASN in two classes", (p) => p.networks.classes.vpn.push(16509), ["$.networks.classes.vpn[2]"]],
    [
      "an ASN twice in one class",
      (p) => p.networks.classes.cloud.push(8075),
      ["$.networks.classes.cloud[4]"],
    ],
    ["ASN 0", (p) => p.networks.classes.cloud.push(0), ["$.networks.classes.cloud[4]"]],
    ["ASN 2^32", (p) => p.networks.classes.cloud.push(4294967296), ["$.networks.classes.cloud[4]"]],
    ["a fractional ASN", (p) => p.networks.classes.cloud.push(1.5), ["$.networks.classes.cloud[4]"]],
    ["an ASN as a string", (p) => p.networks.classes.cloud.push("16509"), ["$.networks.classes.cloud[4]"]],
    ["a negative ASN", (p) => p.networks.classes.cloud.push(-1), ["$.networks.classes.cloud[4]"]],
    ["a class name in upper case", (p) => (p.networks.classes.Cloud2 = [1]), ["$.networks.classes.Cloud2"]],
    [
      "a class name with a space",
      (p) => (p.networks.classes["my vpn"] = [1]),
      ['$.networks.classes["my vpn"]'],
    ],
    [
      "a class name of 33 characters",
      (p) => (p.networks.classes[`a${"b".repeat(32)}`] = [1]),
      [`$.networks.classes.a${"b".repeat(32)}`],
    ],
    ["a class that is not an array", (p) => (p.networks.classes.cloud = 16509), ["$.networks.classes.cloud"]],
    ["AS0 in unsupported", (p) => p.networks.unsupported.push("AS0"), ["$.networks.unsupported[2]"]],
    [
      "AS4294967296 in unsupported",
      (p) => p.networks.unsupported.push("AS4294967296"),
      ["$.networks.unsupported[2]"],
    ],
    [
      "a leading zero in unsupported",
      (p) => p.networks.unsupported.push("AS016509"),
      ["$.networks.unsupported[2]"],
    ],
    [
      "lower-case as in unsupported",
      (p) => p.networks.unsupported.push("as16509"),
      ["$.networks.unsupported[2]"],
    ],
    ["a number in unsupported", (p) => p.networks.unsupported.push(16509), ["$.networks.unsupported[2]"]],
    ["a duplicate in unsupported", (p) => p.networks.unsupported.push("vpn"), ["$.networks.unsupported[2]"]],
    [
      "an unknown enforcement.networks key",
      (p) => (p.enforcement.networks["Amazon AWS"] = { blockFrom: null }),
      ['$.enforcement.networks["Amazon AWS"]'],
    ],
    [
      "an out-of-range AS key in enforcement.networks",
      (p) => (p.enforcement.networks.AS4294967296 = { blockFrom: null }),
      ["$.enforcement.networks.AS4294967296"],
    ],
    [
      "warnFrom after blockFrom in enforcement.networks",
      (p) =>
        (p.enforcement.networks.AS60068 = {
          warnFrom: "2024-10-01T00:00:00Z",
          blockFrom: "2024-09-01T00:00:00Z",
        }),
      ["$.enforcement.networks.AS60068.warnFrom"],
    ],
    ["an unknown field in networks", (p) => (p.networks.supported = []), ["$.networks.supported"]],
    ["an exemption by an out-of-range asn", (p) => (p.exemptions[2].asn = 0), ["$.exemptions[2].asn"]],
    ["an exemption by asn and cidr", (p) => (p.exemptions[2].cidr = "10.0.0.0/8"), ["$.exemptions[2]"]],
    ["a duplicate asn exemption", (p) => p.exemptions.push({ asn: 64500 }), ["$.exemptions[3]"]],
    ["a networkMessage with a newline", (p) => (p.error.networkMessage = "a\nb"), ["$.error.networkMessage"]],
    ["an empty networkMessage", (p) => (p.error.networkMessage = ""), ["$.error.networkMessage"]],
    [
      "a networkMessage of 501 characters",
      (p) => (p.error.networkMessage = "m".repeat(501)),
      ["$.error.networkMessage"],
    ],
  ])("refuses %s with its JSON path", (_name, mutate, expected) => {
    const doc = structuredClone(netPolicy()) as Json;
    mutate(doc);
    expect(pathsOf(doc)).toEqual(expected);
  });

  it("says which class an ASN already sits in, and which classes are defined", () => {
    const doc = structuredClone(netPolicy()) as Json;
    doc.networks.classes.vpn.push(16509);
    doc.networks.unsupported.push("hosting");
    expect(messagesOf(doc)).toEqual([
      expect.stringMatching(/^\$\.networks\.classes\.vpn\[2\]: AS16509 is already in class "cloud"/),
      expect.stringMatching(
        /^\$\.networks\.unsupported\[2\]: class "hosting" is not defined; .*\(defined: cloud, vpn\)/,
      ),
    ]);
  });

  it("accepts ASNs at both ends of the range, AS entries for networks in no class, and no networks at all", () => {
    const doc = netPolicy({
      networks: { classes: { edge: [1, 4294967295] }, unsupported: ["AS4294967295", "AS1", "AS7"] },
    });
    doc.enforcement!.networks = { AS7: { blockFrom: null }, edge: { blockFrom: "2024-09-01T00:00:00Z" } };
    expect(messagesOf(doc)).toEqual([]);
    expect(messagesOf(netPolicy({ enforcement: undefined, networks: { classes: { empty: [] } } }))).toEqual(
      [],
    );
    expect(messagesOf(specPolicy())).toEqual([]);
  });
});

describe("compiling networks", () => {
  it("maps every ASN to its class and indexes the unsupported ones with their windows", () => {
    const doc = netPolicy();
    doc.enforcement!.networks!.AS9009 = { blockFrom: "2024-08-15T00:00:00Z" };
    const p = compilePolicy(doc);
    expect(p.asnClass.get(16509)).toBe("cloud");
    expect(p.asnClass.get(212238)).toBe("vpn");
    expect(p.asnClass.get(60068)).toBeUndefined();
    expect([...p.unsupportedNetworks.keys()].sort((a, b) => a - b)).toEqual([9009, 60068, 212238]);
    // Most specific entry: AS<number>, then its class, then the default.
    expect(p.unsupportedNetworks.get(9009)!.window.source).toBe("enforcement.networks.AS9009");
    expect(p.unsupportedNetworks.get(212238)!.window.source).toBe("enforcement.networks.vpn");
    expect(p.unsupportedNetworks.get(60068)!.window.source).toBe("enforcement.default");
    expect(p.unsupportedNetworks.get(212238)!.class).toBe("vpn");
    expect(p.asnExemptions.get(64500)).toBe(T("2025-01-31T00:00:00Z"));
  });

  it("blocks unsupported networks now when there is no enforcement section", () => {
    const p = compilePolicy(netPolicy({ enforcement: undefined }));
    const v = decide(p, { path: "/v1/x", country: "DE", asn: 60068 }, BEFORE_WARN);
    expect(v.decision).toBe("block");
  });
});

describe("decide: the network side (SPEC section 3)", () => {
  const policy = compilePolicy(netPolicy());
  const f = (over: Partial<RequestFacts>): RequestFacts => ({ path: "/v1/chat/completions", ...over });

  it.each`
    name                                                  | facts                                                            | at                           | decision          | region
    ${"supported region, network in no unsupported list"} | ${{ country: "DE", asn: 16509 }}                                 | ${AFTER_VPN_BLOCK}           | ${"pass"}         | ${"DE"}
    ${"supported region, no asn: network side passes"}    | ${{ country: "DE" }}                                             | ${AFTER_VPN_BLOCK}           | ${"pass"}         | ${"DE"}
    ${"supported region, vpn class before its warnFrom"}  | ${{ country: "DE", asn: 9009 }}                                  | ${BEFORE_WARN}               | ${"observe"}      | ${"AS9009"}
    ${"supported region, vpn class inside its warn"}      | ${{ country: "DE", asn: 9009 }}                                  | ${VPN_WARN}                  | ${"warn"}         | ${"AS9009"}
    ${"supported region, vpn class after its blockFrom"}  | ${{ country: "JP", asn: 212238 }}                                | ${AFTER_VPN_BLOCK}           | ${"block"}        | ${"AS212238"}
    ${"supported region, AS60068 by the default window"}  | ${{ country: "DE", asn: 60068 }}                                 | ${AFTER_BLOCK}               | ${"block"}        | ${"AS60068"}
    ${"region block beats network warn"}                  | ${{ country: "CN", asn: 9009 }}                                  | ${VPN_WARN}                  | ${"block"}        | ${"CN"}
    ${"network block beats region warn"}                  | ${{ country: "VE", asn: 9009 }}                                  | ${AFTER_VPN_BLOCK}           | ${"block"}        | ${"AS9009"}
    ${"network warn beats region observe"}                | ${{ country: "RU", asn: 9009 }}                                  | ${IN_WARN}                   | ${"warn"}         | ${"AS9009"}
    ${"tie (both block): the region decides"}             | ${{ country: "CN", asn: 60068 }}                                 | ${AFTER_BLOCK}               | ${"block"}        | ${"CN"}
    ${"tie (both warn): the region decides"}              | ${{ country: "VE", asn: 9009 }}                                  | ${VPN_WARN}                  | ${"warn"}         | ${"VE"}
    ${"carved-out subdivision block beats network warn"}  | ${{ country: "UA", regionCode: "43", asn: 9009 }}                | ${VPN_WARN}                  | ${"block"}        | ${"UA-43"}
    ${"unknown country through an unsupported network"}   | ${{ country: "XX", asn: 60068 }}                                 | ${AFTER_BLOCK}               | ${"block"}        | ${"AS60068"}
    ${"no country through an unsupported network"}        | ${{ asn: 60068 }}                                                | ${AFTER_BLOCK}               | ${"block"}        | ${"AS60068"}
    ${"Tor blocked by tor=block, whatever the network"}   | ${{ country: "T1", asn: 9009 }}                                  | ${AFTER_VPN_BLOCK}           | ${"block"}        | ${"T1"}
    ${"exempt by asn: covers the region side"}            | ${{ country: "CN", asn: 64500 }}                                 | ${AFTER_BLOCK}               | ${"exempt"}       | ${"CN"}
    ${"exempt by CIDR: covers the network side"}          | ${{ country: "DE", asn: 60068, ip: "198.51.100.7" }}             | ${AFTER_BLOCK}               | ${"exempt"}       | ${"AS60068"}
    ${"exempt by key: covers the network side too"}       | ${{ country: "DE", asn: 9009, fingerprint: "9f86d081884c7d65" }} | ${AFTER_VPN_BLOCK}           | ${"exempt"}       | ${"AS9009"}
    ${"asn exemption past its until"}                     | ${{ country: "CN", asn: 64500 }}                                 | ${T("2025-02-01T00:00:00Z")} | ${"block"}        | ${"CN"}
    ${"out of scope: neither side is judged"}             | ${{ path: "/v1/health", country: "DE", asn: 60068 }}             | ${AFTER_BLOCK}               | ${"out_of_scope"} | ${null}
  `("$name → $decision ($region)", ({ facts, at, decision, region }) => {
    const verdict = decide(policy, f(facts), at);
    expect({ decision: verdict.decision, region: verdict.region }).toEqual({ decision, region });
  });

  it("a network verdict carries the network, its window and a rule that names it and its class", () => {
    const v = decide(policy, f({ country: "DE", asn: 9009 }), VPN_WARN);
    expect(v.network).toMatchObject({ asn: 9009, code: "AS9009", class: "vpn" });
    expect(v.window?.source).toBe("enforcement.networks.vpn");
    expect(v.rule).toBe("AS9009 (class vpn): enforcement.networks.vpn.warnFrom=2024-07-01T00:00:00.000Z");
    expect(v.country).toBe("DE");
    expect(decide(policy, f({ country: "CN", asn: 9009 }), VPN_WARN).network).toBeUndefined();
  });

  it("monitor mode marks a network block monitor", () => {
    const monitor = compilePolicy(netPolicy({ mode: "monitor" }));
    const v = decide(monitor, f({ country: "DE", asn: 60068 }), AFTER_BLOCK);
    expect(v.decision).toBe("monitor");
    expect(v.region).toBe("AS60068");
    expect(v.rule).toMatch(/\(mode=monitor\)$/);
  });

  it("an asn exemption relieves nothing that neither side restricts", () => {
    expect(decide(policy, f({ country: "DE", asn: 64500 }), AFTER_BLOCK).decision).toBe("pass");
  });
});

describe("explain names the network and its class", () => {
  const policy = compilePolicy(netPolicy());

  it("takes asn as 16509 or AS16509 and refuses anything else", () => {
    const now = AFTER_BLOCK;
    expect(parseExplainQuery({ country: "DE", asn: "16509" }, now)).toMatchObject({
      ok: true,
      value: { asn: 16509 },
    });
    expect(parseExplainQuery({ country: "DE", asn: "AS16509" }, now)).toMatchObject({
      ok: true,
      value: { asn: 16509 },
    });
    for (const bad of ["0", "AS0", "4294967296", "AS16509x", "-1", "1.5", "amazon"]) {
      const r = parseExplainQuery({ country: "DE", asn: bad }, now);
      expect(r.ok ? [] : r.problems.map((p) => p.param), bad).toEqual(["asn"]);
    }
  });

  it("reports the class of a network that only labels traffic, and of one that decides", () => {
    const cloud = explainCase(policy, {
      country: "DE",
      regionCode: null,
      at: AFTER_BLOCK,
      ip: null,
      fingerprint: null,
      path: null,
      asn: 16509,
    });
    expect(cloud.decision).toBe("pass");
    expect(cloud.network).toEqual({ code: "AS16509", class: "cloud", unsupported: false });
    const vpn = explainCase(policy, {
      country: "DE",
      regionCode: null,
      at: AFTER_VPN_BLOCK,
      ip: null,
      fingerprint: null,
      path: null,
      asn: 9009,
    });
    expect(vpn).toMatchObject({
      decision: "block",
      region: "AS9009",
      network: { code: "AS9009", class: "vpn", unsupported: true },
      window: { source: "enforcement.networks.vpn", blockFrom: "2024-09-01T00:00:00.000Z" },
      outcome: expect.stringContaining("unsupported_network"),
    });
  });
});

describe("policy diff names network changes and their effect", () => {
  it("lists classes, unsupported networks, their windows, asn exemptions and networkMessage", () => {
    const before = specPolicy();
    const after = netPolicy({ version: "2024-06-25.2" });
    const lines = diffPolicies(before, after, T("2024-06-20T00:00:00Z"));
    expect(lines).toEqual(
      expect.arrayContaining([
        "  + class cloud added: AS16509, AS15169, AS8075, AS13335",
        "  + class vpn added: AS9009, AS212238",
        "  + networks now unsupported: vpn, AS60068",
        "  + enforcement.networks.vpn: enforcement added (warnFrom 2024-07-01T00:00:00Z, blockFrom 2024-09-01T00:00:00Z)",
        "  + exemptions added: asn 64500 until 2025-01-31T00:00:00Z",
        "  ~ error.networkMessage: (default) → Network not supported",
        "  vpn: AS9009, AS212238: observe → warn on 2024-07-01T00:00:00Z → block on 2024-09-01T00:00:00Z   (before: pass)",
        "  AS60068: observe → warn on 2024-06-25T00:00:00Z → block on 2024-07-09T00:00:00Z   (before: pass)",
      ]),
    );
  });

  it("does not call a change of networks alone 'no changes'", () => {
    const before = netPolicy();
    const after = netPolicy({ networks: { classes: { cloud: [16509] }, unsupported: [] } });
    after.enforcement = { ...after.enforcement, networks: {} };
    const lines = diffPolicies(before, after, T("2024-06-20T00:00:00Z"));
    expect(lines[0]).toMatch(/^Changes/);
    expect(lines).toContain("  - networks no longer unsupported: vpn, AS60068");
  });
});
