import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJsonStrict } from "../../src/policy/json";
import { validatePolicy } from "../../src/policy/validate";
import { FUZZ_PROPERTIES } from "./fuzz-properties";

// A fixed seed keeps CI reproducible; `node bench/fuzz.mjs` runs the same properties
// longer with a fresh seed.
const SEED = 20_240_709;
const RUNS = 300;

describe("fuzz properties (fixed seed)", () => {
  it.each(FUZZ_PROPERTIES.map((p) => [p.name, p] as const))("%s", (_, { property, weight }) => {
    fc.assert(property, { seed: SEED, numRuns: Math.max(30, Math.round(RUNS / weight)) });
  });
});

describe("hostile nesting", () => {
  it("validatePolicy and parseJsonStrict survive 100 000 levels", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    expect(parseJsonStrict(`{"schema":1,"version":"x","supported":[${deep}]}`).ok).toBe(false);
    const parsed = JSON.parse(deep) as unknown;
    expect(validatePolicy({ schema: 1, version: "x", supported: [parsed, parsed] }).ok).toBe(false);
  });
});
