import { describe, expect, it } from "vitest";
import { countryProblem, subdivisionProblem, suggestCountry } from "../../src/policy/code-hints";
import { parseExplainQuery } from "../../src/policy/explain";

const problemsOf = (q: Parameters<typeof parseExplainQuery>[0]) => {
  const r = parseExplainQuery(q, 0);
  return r.ok ? [] : r.problems.map((p) => `${p.param}: ${p.message}`);
};

describe("country codes in explain", () => {
  it.each([
    ["UK", "GB"],
    ["uk", "GB"],
    ["EL", "GR"],
    ["jp", "JP"],
    ["DEU", "DE"],
    ["chn", "CN"],
    ["t1", "T1"],
    ["xx", "XX"],
  ])("%s is refused with did you mean %s", (code, meant) => {
    expect(suggestCountry(code)).toBe(meant);
    expect(countryProblem(code)).toContain(`is not an ISO 3166-1 alpha-2 code; did you mean ${meant}?`);
  });

  it.each(["ZZ", "China", "Q", "AA"])("%s is refused without a guess", (code) => {
    expect(countryProblem(code)).toBe(
      `${JSON.stringify(code)} is not an ISO 3166-1 alpha-2 code (use upper-case ISO 3166-1 alpha-2, e.g. CN, XX for unknown or T1 for Tor)`,
    );
  });

  it.each(["GB", "JP", "XK", "XX", "T1"])("%s is accepted", (code) => {
    expect(countryProblem(code)).toBeNull();
    expect(problemsOf({ country: code })).toEqual([]);
  });
});

describe("subdivision codes in explain", () => {
  it("accepts real ISO 3166-2 codes, with or without the country", () => {
    expect(problemsOf({ country: "UA", region: "43" })).toEqual([]);
    expect(problemsOf({ country: "UA", region: "UA-43" })).toEqual([]);
    expect(problemsOf({ country: "GB", region: "ENG" })).toEqual([]);
  });

  it("refuses UA-99 and lists some of UA's codes", () => {
    expect(problemsOf({ country: "UA", region: "99" })).toEqual([
      'region: "99" is not an ISO 3166-2 subdivision of UA; its codes are UA-05, UA-07, UA-09, UA-12, UA-14, UA-18, UA-21, UA-23, … (27 in all)',
    ]);
  });

  it.each([
    ["UA", "ua-43", "UA-43"],
    ["GB", "eng", "ENG"],
    ["UA", "5", "05"],
    ["UA", "UA-5", "UA-05"],
  ])("%s %s: did you mean %s", (country, region, meant) => {
    expect(problemsOf({ country, region })).toEqual([
      `region: ${JSON.stringify(region)} is not an ISO 3166-2 code of ${country}; did you mean ${meant}?`,
    ]);
  });

  it("a country without subdivisions says to leave the region out", () => {
    expect(subdivisionProblem("XX", "43", "43")).toBe(
      "XX has no ISO 3166-2 subdivisions; leave the region out",
    );
  });

  it("reports the country only, not its region, when the country is wrong", () => {
    expect(problemsOf({ country: "UK", region: "ENG" })).toEqual([
      'country: "UK" is not an ISO 3166-1 alpha-2 code; did you mean GB? (use upper-case ISO 3166-1 alpha-2, e.g. CN, XX for unknown or T1 for Tor)',
    ]);
  });
});
