/**
 * Scope prefixes on segment boundaries (SPEC section 2, issue 22 item 1): the decision,
 * `explain`, the policy diff and the validator's "exclude covers every include" rule read a
 * prefix the same way: `/v1/health` covers `/v1/health` and `/v1/health/deep`, never
 * `/v1/healthz`; a prefix ending in `/` covers what starts with it.
 */
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/policy/compile";
import { decide } from "../../src/policy/decision";
import { explainCase } from "../../src/policy/explain";
import type { PolicyDocument } from "../../src/policy/schema";
import { coversPath, judgedPath } from "../../src/policy/scope";
import { validatePolicy } from "../../src/policy/validate";
import { specPolicy } from "../fixtures/policies";

const AFTER_BLOCK = Date.parse("2024-07-10T00:00:00Z");
const decisionOf = (scope: PolicyDocument["scope"], path: string) =>
  decide(compilePolicy(specPolicy({ scope })), { path, country: "CN" }, AFTER_BLOCK).decision;

describe("coversPath", () => {
  it.each([
    ["/v1/health", "/v1/health", true],
    ["/v1/health", "/v1/health/", true],
    ["/v1/health", "/v1/health/deep", true],
    ["/v1/health", "/v1/healthz", false],
    ["/v1/health", "/v1/health-records/7", false],
    ["/v1/health", "/v1/health.json", false],
    ["/v1/health", "/v1/heal", false],
    ["/v1/", "/v1/anything", true],
    ["/v1/", "/v1/", true],
    ["/v1/", "/v1", false],
    ["/v1/", "/v10/x", false],
    ["/", "/anything", true],
  ])("%s covers %s: %s", (prefix, path, expected) => {
    expect(coversPath(prefix, path)).toBe(expected);
  });
});

describe("the decision", () => {
  const excludeHealth = { include: ["/v1/"], exclude: ["/v1/health"] };

  it.each(["/v1/healthz", "/v1/health-records/42", "/v1/health.json", "/V1/HealthZ", "/v1/%68ealthz"])(
    "judges %s although /v1/health is excluded (CN is blocked)",
    (path) => {
      expect(decisionOf(excludeHealth, path)).toBe("block");
    },
  );

  it.each(["/v1/health", "/v1/health/", "/v1/health/deep", "/V1/Health", "//v1//health/deep"])(
    "leaves %s out of scope",
    (path) => {
      expect(decisionOf(excludeHealth, path)).toBe("out_of_scope");
    },
  );

  it("bounds an include prefix without a trailing slash the same way", () => {
    const scope = { include: ["/v1/chat"] };
    expect(decisionOf(scope, "/v1/chat")).toBe("block");
    expect(decisionOf(scope, "/v1/chat/completions")).toBe("block");
    expect(decisionOf(scope, "/v1/chatty")).toBe("out_of_scope");
    expect(decisionOf(scope, "/v1/chat-archive/1")).toBe("out_of_scope");
  });

  it("an exclude prefix ending in / covers only what starts with it", () => {
    const scope = { include: ["/v1/"], exclude: ["/v1/health/"] };
    expect(decisionOf(scope, "/v1/health/deep")).toBe("out_of_scope");
    expect(decisionOf(scope, "/v1/health")).toBe("block");
  });

  it("an include prefix ending in / still judges its path without the slash", () => {
    expect(decisionOf({ include: ["/v1/"] }, "/v1")).toBe("block");
  });
});

describe("explain and the other single-path views", () => {
  it("decide for the first include prefix the gate judges, not one an exclude covers", () => {
    const scope = { include: ["/v1/health", "/v1/"], exclude: ["/v1/health"] };
    const policy = compilePolicy(specPolicy({ scope }));
    const e = explainCase(policy, {
      country: "CN",
      regionCode: null,
      at: AFTER_BLOCK,
      ip: null,
      fingerprint: null,
      path: null,
    });
    expect(e.case.path).toBe("/v1/");
    expect(e.decision).toBe("block");
    expect(judgedPath(["/v1/healthz/", "/v2/"], ["/v1/health"])).toBe("/v1/healthz/");
    expect(judgedPath(["/v1/health/"], ["/v1/health"])).toBe("/v1/health/");
  });

  it("explain judges a path with a longer name than an excluded prefix", () => {
    const policy = compilePolicy(specPolicy());
    const e = explainCase(policy, {
      country: "CN",
      regionCode: null,
      at: AFTER_BLOCK,
      ip: null,
      fingerprint: null,
      path: "/v1/healthz",
    });
    expect(e.decision).toBe("block");
  });
});

describe("the validator's 'exclude covers every include' rule", () => {
  const problems = (scope: PolicyDocument["scope"]) => {
    const r = validatePolicy(specPolicy({ scope }));
    return r.ok ? [] : r.errors.map((e) => e.path);
  };

  it.each([
    [["/v1/healthz/"], ["/v1/health"]],
    [["/v1/health-records"], ["/v1/health"]],
    [["/v1/healthz"], ["/v1/health"]],
    [["/v1"], ["/v1/"]],
    [["/v10/"], ["/v1"]],
  ])("accepts include %j with exclude %j: something is still judged", (include, exclude) => {
    expect(problems({ include, exclude })).toEqual([]);
  });

  it.each([
    [["/v1/health/"], ["/v1/health"]],
    [["/v1/health"], ["/v1/health"]],
    [["/v1/health/deep"], ["/V1/Health"]],
    [["/v1/x"], ["/v1/"]],
    [["/v1/"], ["/v1"]],
  ])("refuses include %j with exclude %j: nothing is judged", (include, exclude) => {
    expect(problems({ include, exclude })).toEqual(["$.scope.include"]);
  });
});
