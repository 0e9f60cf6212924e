import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/policy/compile";
import { climbsAboveRoot, decide, type RequestFacts, scopePaths } from "../../src/policy/decision";
import { specPolicy } from "../fixtures/policies";

const policy = compilePolicy(specPolicy());
const T = (iso: string) => Date.parse(iso);
const BEFORE_WARN = T("2024-06-01T00:00:00Z");
const IN_WARN = T("2024-07-01T00:00:00Z");
const AFTER_BLOCK = T("2024-07-10T00:00:00Z");

const facts = (f: Partial<RequestFacts>): RequestFacts => ({ path: "/v1/chat/completions", ...f });

describe("decide: every row of SPEC section 3", () => {
  it.each`
    case                                          | f                                                     | now                          | decision          | region
    ${"path out of scope"}                        | ${{ path: "/v2/x", country: "CN" }}                   | ${AFTER_BLOCK}               | ${"out_of_scope"} | ${null}
    ${"excluded path"}                            | ${{ path: "/v1/health", country: "CN" }}              | ${AFTER_BLOCK}               | ${"out_of_scope"} | ${null}
    ${"no country"}                               | ${{}}                                                 | ${AFTER_BLOCK}               | ${"unknown"}      | ${"XX"}
    ${"XX"}                                       | ${{ country: "XX" }}                                  | ${AFTER_BLOCK}               | ${"unknown"}      | ${"XX"}
    ${"Tor with tor=block"}                       | ${{ country: "T1" }}                                  | ${AFTER_BLOCK}               | ${"block"}        | ${"T1"}
    ${"exempt by CIDR"}                           | ${{ country: "CN", ip: "198.51.100.7" }}              | ${AFTER_BLOCK}               | ${"exempt"}       | ${"CN"}
    ${"exempt by key before until"}               | ${{ country: "CN", fingerprint: "9f86d081884c7d65" }} | ${AFTER_BLOCK}               | ${"exempt"}       | ${"CN"}
    ${"supported country"}                        | ${{ country: "JP" }}                                  | ${AFTER_BLOCK}               | ${"pass"}         | ${"JP"}
    ${"supported country, supported subdivision"} | ${{ country: "UA", regionCode: "30" }}                | ${AFTER_BLOCK}               | ${"pass"}         | ${"UA-30"}
    ${"carved-out subdivision"}                   | ${{ country: "UA", regionCode: "43" }}                | ${BEFORE_WARN}               | ${"block"}        | ${"UA-43"}
    ${"carved-out subdivision, default window"}   | ${{ country: "UA", regionCode: "14" }}                | ${IN_WARN}                   | ${"warn"}         | ${"UA-14"}
    ${"unsupported before warnFrom"}              | ${{ country: "CN" }}                                  | ${BEFORE_WARN}               | ${"observe"}      | ${"CN"}
    ${"unsupported in warn window"}               | ${{ country: "CN" }}                                  | ${IN_WARN}                   | ${"warn"}         | ${"CN"}
    ${"unsupported after blockFrom"}              | ${{ country: "CN" }}                                  | ${AFTER_BLOCK}               | ${"block"}        | ${"CN"}
    ${"country rule without warnFrom observes"}   | ${{ country: "RU" }}                                  | ${IN_WARN}                   | ${"observe"}      | ${"RU"}
    ${"country rule blocks at its blockFrom"}     | ${{ country: "RU" }}                                  | ${AFTER_BLOCK}               | ${"block"}        | ${"RU"}
    ${"blockFrom null never blocks"}              | ${{ country: "VE" }}                                  | ${T("2030-01-01T00:00:00Z")} | ${"warn"}         | ${"VE"}
    ${"blockFrom null observes before warnFrom"}  | ${{ country: "VE" }}                                  | ${AFTER_BLOCK}               | ${"observe"}      | ${"VE"}
  `("$case → $decision", ({ f, now, decision, region }) => {
    const verdict = decide(policy, facts(f), now);
    expect(verdict.decision).toBe(decision);
    expect(verdict.region).toBe(region);
    expect(verdict.rule).not.toBe("");
  });

  it("blocks at the exact millisecond of blockFrom and not one before", () => {
    const blockFrom = T("2024-07-09T00:00:00Z");
    expect(decide(policy, facts({ country: "CN" }), blockFrom - 1).decision).toBe("warn");
    expect(decide(policy, facts({ country: "CN" }), blockFrom).decision).toBe("block");
  });

  it("warns from the exact millisecond of warnFrom", () => {
    const warnFrom = T("2024-06-25T00:00:00Z");
    expect(decide(policy, facts({ country: "CN" }), warnFrom - 1).decision).toBe("observe");
    expect(decide(policy, facts({ country: "CN" }), warnFrom).decision).toBe("warn");
  });

  it("monitor mode passes what would be blocked, marked monitor", () => {
    const monitor = compilePolicy(specPolicy({ mode: "monitor" }));
    expect(decide(monitor, facts({ country: "CN" }), AFTER_BLOCK).decision).toBe("monitor");
    expect(decide(monitor, facts({ country: "T1" }), AFTER_BLOCK).decision).toBe("monitor");
    expect(decide(monitor, facts({ country: "CN" }), IN_WARN).decision).toBe("warn");
  });

  it("unknownCountry=block blocks XX and missing countries", () => {
    const strict = compilePolicy(specPolicy({ unknownCountry: "block" }));
    expect(decide(strict, facts({ country: "XX" }), AFTER_BLOCK).decision).toBe("block");
    expect(decide(strict, facts({}), AFTER_BLOCK).decision).toBe("block");
  });

  it("tor=allow passes T1", () => {
    const open = compilePolicy(specPolicy({ tor: "allow" }));
    expect(decide(open, facts({ country: "T1" }), AFTER_BLOCK).decision).toBe("pass");
  });

  it("a key exemption ends at its until", () => {
    const until = T("2024-12-31T00:00:00Z");
    const f = facts({ country: "CN", fingerprint: "9f86d081884c7d65" });
    expect(decide(policy, f, until - 1).decision).toBe("exempt");
    expect(decide(policy, f, until).decision).toBe("block");
  });

  it("exempts IPv6 clients by CIDR", () => {
    const p = compilePolicy(specPolicy({ exemptions: [{ cidr: "2001:db8::/32" }] }));
    expect(decide(p, facts({ country: "CN", ip: "2001:db8:1::5" }), AFTER_BLOCK).decision).toBe("exempt");
    expect(decide(p, facts({ country: "CN", ip: "2001:db9::5" }), AFTER_BLOCK).decision).toBe("block");
  });

  it("does not mark supported traffic as exempt (nothing to relieve)", () => {
    expect(decide(policy, facts({ country: "JP", ip: "198.51.100.7" }), AFTER_BLOCK).decision).toBe("pass");
  });

  it("without an enforcement section, blocks unsupported regions now", () => {
    const p = compilePolicy({ schema: 1, version: "v", supported: ["JP"] });
    expect(decide(p, { path: "/anything", country: "CN" }, 0).decision).toBe("block");
    expect(decide(p, { path: "/anything", country: "JP" }, 0).decision).toBe("pass");
  });

  it("explains the rule that produced the decision", () => {
    expect(decide(policy, facts({ country: "CN" }), AFTER_BLOCK).rule).toBe(
      "enforcement.default.blockFrom=2024-07-09T00:00:00.000Z",
    );
    expect(decide(policy, facts({ country: "UA", regionCode: "43" }), AFTER_BLOCK).rule).toBe(
      "enforcement.regions.UA-43.blockFrom=2022-03-01T00:00:00.000Z",
    );
  });
});

describe("scope matching judges the path the origin will serve", () => {
  it.each([
    ["/v1/chat", "/v1/chat"],
    ["//v1//chat", "/v1/chat"],
    ["/V1/Chat", "/v1/chat"],
    ["/%76%31/chat", "/v1/chat"],
    ["/x/y/..%2f..%2fv1/chat", "/v1/chat"],
    ["/v1%2fchat", "/v1/chat"],
    ["/v1/./chat/", "/v1/chat/"],
    ["/v1/x/..;/chat", "/v1/chat"],
  ])("%s is read (among others) as %s", (input, expected) => {
    expect(scopePaths(input)).toContain(expected);
  });

  it.each(["/..%2fv1", "/x/..%2f..%2fv1/chat", "/%2e%2e%2fv1", "/%252e%252e%252fv1", "/..;/v1", "/..%5cv1"])(
    "%s climbs above the root",
    (path) => {
      expect(scopePaths(path)).toBeNull();
      expect(climbsAboveRoot(path)).toBe(true);
    },
  );

  it.each(["/v1/chat", "/v1/..%2fchat", "/a/b/..%2f..%2fc", "/%ff/..%2fx", "/v1/..", "/.well-known/x"])(
    "%s stays under the root",
    (path) => {
      expect(climbsAboveRoot(path)).toBe(false);
    },
  );

  it.each(["//v1/chat", "/V1/chat", "/%2F/v1/chat", "/v1%2Fchat", "/foo/..%2Fv1/chat"])(
    "judges %s (blocked for CN)",
    (path) => {
      expect(decide(policy, { path, country: "CN" }, AFTER_BLOCK).decision).toBe("block");
    },
  );
});

describe("CIDR matching", () => {
  const cases: [string, string, boolean][] = [
    ["198.51.100.0/24", "198.51.100.255", true],
    ["198.51.100.0/24", "198.51.101.0", false],
    ["0.0.0.0/0", "203.0.113.1", true],
    ["10.0.0.0/8", "10.255.255.255", true],
    ["255.255.255.255/32", "255.255.255.255", true],
    ["2001:db8::/32", "2001:db8:ffff::1", true],
    ["2001:db8::/32", "198.51.100.1", false],
    ["::ffff:0:0/96", "198.51.100.1", true],
    ["::/0", "198.51.100.1", true],
    ["::ffff:198.51.100.0/120", "198.51.100.7", true],
    ["::ffff:198.51.100.0/120", "198.51.101.7", false],
    ["198.51.100.0/24", "::ffff:198.51.100.9", true],
    ["198.51.100.0/24", "not an ip", false],
  ];
  it.each(cases)("%s contains %s: %s", (cidr, ip, expected) => {
    const p = compilePolicy(specPolicy({ exemptions: [{ cidr }] }));
    const verdict = decide(p, { path: "/v1/x", country: "CN", ip }, Date.parse("2025-01-01T00:00:00Z"));
    expect(verdict.decision === "exempt").toBe(expected);
  });
});
