import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide, type RequestFacts } from "../../src/decision";
import { compilePolicy } from "../../src/policy/compile";
import { parseJsonStrict } from "../../src/policy/json";
import { validatePolicy } from "../../src/policy/schema";
import {
  anyFacts,
  COUNTRIES,
  expectedDecision,
  instantMs,
  mutatedPolicy,
  subdivisionsOf,
  validPolicy,
} from "./fuzz-arbitraries";

// Fixed seeds keep CI reproducible; `node bench/fuzz.mjs` runs the same properties longer
// with fresh seeds.
const RUNS = { seed: 20_240_709, numRuns: 300 };

describe("never throws", () => {
  it("validatePolicy on arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = validatePolicy(value);
        return result.ok || result.errors.length > 0;
      }),
      RUNS,
    );
  });

  it("validatePolicy on valid policies with one field replaced by arbitrary JSON", () => {
    fc.assert(
      fc.property(mutatedPolicy, (value) => {
        const result = validatePolicy(value);
        if (result.ok) compilePolicy(result.policy);
        return result.ok || result.errors.every((e) => e.path.startsWith("$") && e.message.length > 0);
      }),
      RUNS,
    );
  });

  it("parseJsonStrict on arbitrary text, agreeing with JSON.parse on what it accepts", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary" }), fc.json()), (text) => {
        const result = parseJsonStrict(text);
        if (result.ok) expect(result.value).toEqual(JSON.parse(text));
      }),
      RUNS,
    );
  });

  it("validatePolicy and parseJsonStrict on 100 000 levels of nesting", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const strict = parseJsonStrict(`{"schema":1,"version":"x","supported":[${deep}]}`);
    expect(strict.ok).toBe(false);
    const parsed = JSON.parse(deep) as unknown;
    const result = validatePolicy({ schema: 1, version: "x", supported: [parsed, parsed] });
    expect(result.ok).toBe(false);
  });

  it("decide on valid policies and arbitrary facts, at any instant", () => {
    fc.assert(
      fc.property(validPolicy(), anyFacts, fc.oneof(instantMs, fc.double()), (doc, facts, now) => {
        decide(compilePolicy(doc), facts, now);
      }),
      RUNS,
    );
  });
});

describe("decide is deterministic", () => {
  it("gives equal verdicts for equal inputs, across separately compiled copies", () => {
    fc.assert(
      fc.property(validPolicy(), anyFacts, instantMs, (doc, facts, now) => {
        const a = decide(compilePolicy(doc), facts, now);
        const copy = JSON.parse(JSON.stringify(doc)) as typeof doc;
        const b = decide(compilePolicy(copy), { ...facts } as RequestFacts, now);
        expect(b).toEqual(a);
      }),
      RUNS,
    );
  });
});

describe("random valid policies decide as SPEC section 3 says", () => {
  it("passes every supported country, and judges every unsupported one by its window", () => {
    fc.assert(
      fc.property(
        validPolicy({ plain: true }),
        fc.constantFrom(...COUNTRIES),
        fc.nat(),
        fc.boolean(),
        instantMs,
        (doc, country, subPick, withSub, now) => {
          expect(validatePolicy(doc).ok).toBe(true);
          const subs = subdivisionsOf(country);
          const regionCode = withSub && subs.length > 0 ? subs[subPick % subs.length]! : null;
          const verdict = decide(compilePolicy(doc), { path: "/v1/x", country, regionCode }, now);
          const expected = expectedDecision(doc, country, regionCode, now);
          expect({ decision: verdict.decision, region: verdict.region }).toEqual(expected);
        },
      ),
      { ...RUNS, numRuns: 1000 },
    );
  });

  it("blocks every unsupported country after its blockFrom, and observes it before warnFrom", () => {
    fc.assert(
      fc.property(validPolicy({ plain: true }), instantMs, (doc, now) => {
        const policy = compilePolicy(doc);
        for (const country of COUNTRIES) {
          if (doc.supported.includes(country)) {
            expect(decide(policy, { path: "/", country }, now).decision).toBe("pass");
            continue;
          }
          const w = doc.enforcement?.regions?.[country] ?? doc.enforcement?.default;
          const blockFrom = w ? (w.blockFrom === null ? null : Date.parse(w.blockFrom)) : -Infinity;
          const warnFrom = w?.warnFrom ? Date.parse(w.warnFrom) : null;
          const decision = decide(policy, { path: "/", country }, now).decision;
          if (blockFrom !== null && now >= blockFrom) expect(decision).toBe("block");
          else if (warnFrom === null || now < warnFrom) expect(decision).toBe("observe");
          else expect(decision).toBe("warn");
        }
      }),
      { ...RUNS, numRuns: 100 },
    );
  });
});
