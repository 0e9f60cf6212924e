import { describe, expect, it } from "vitest";
import { diffPolicies, effects, fieldChanges } from "../../src/policy/diff";
import { specPolicy } from "../fixtures/policies";

const JULY_1 = Date.parse("2024-07-01T00:00:00Z");

describe("policy diff", () => {
  it("says CN moves from the default dates to its own, with the effect in words", () => {
    const before = specPolicy();
    const after = specPolicy({
      version: "2024-06-25.2",
      enforcement: {
        ...before.enforcement,
        regions: {
          ...before.enforcement?.regions,
          CN: { warnFrom: "2024-06-25T00:00:00Z", blockFrom: "2024-08-01T00:00:00Z" },
        },
      },
    });
    expect(diffPolicies(before, after, JULY_1)).toEqual([
      "Changes (2024-06-25.1 → 2024-06-25.2):",
      "  ~ version: 2024-06-25.1 → 2024-06-25.2",
      "  + CN: enforcement added (warnFrom 2024-06-25T00:00:00Z, blockFrom 2024-08-01T00:00:00Z)",
      "",
      "Effect, from 2024-07-01T00:00:00Z:",
      "  CN: warn → block on 2024-08-01T00:00:00Z   (before: warn → block on 2024-07-09T00:00:00Z)",
    ]);
  });

  it("reports a date moved on an existing entry and a country that becomes supported", () => {
    const before = specPolicy();
    const after = specPolicy({
      supported: [...before.supported, "RU"],
      enforcement: {
        default: { warnFrom: "2024-06-25T00:00:00Z", blockFrom: "2024-07-15T00:00:00Z" },
        regions: {
          "UA-43": { blockFrom: "2022-03-01T00:00:00Z" },
          VE: { warnFrom: "2024-08-01T00:00:00Z", blockFrom: null },
        },
      },
    });
    const changes = fieldChanges(before, after);
    expect(changes).toContain("  + countries now supported: RU");
    expect(changes).toContain(
      "  ~ enforcement.default blockFrom: 2024-07-09T00:00:00Z → 2024-07-15T00:00:00Z",
    );
    expect(changes).toContain(
      "  - RU: enforcement removed (was warnFrom absent, blockFrom 2024-07-09T00:00:00Z)",
    );
    const effect = effects(before, after, JULY_1);
    expect(effect).toContain("  RU: pass   (before: observe → block on 2024-07-09T00:00:00Z)");
    expect(effect).toContain(
      "  other unsupported countries (e.g. AD): warn → block on 2024-07-15T00:00:00Z   (before: warn → block on 2024-07-09T00:00:00Z)",
    );
  });

  it("shows monitor mode as the effect on every blocking region", () => {
    const effect = effects(specPolicy(), specPolicy({ mode: "monitor" }), Date.parse("2024-08-01T00:00:00Z"));
    expect(effect).toContain("  UA-43: monitor   (before: block)");
    expect(effect).toContain("  T1 (Tor): monitor   (before: block)");
  });

  it("says so when nothing changes, and when there is nothing to compare with", () => {
    expect(diffPolicies(specPolicy(), specPolicy(), JULY_1)).toEqual([
      "No changes: the active policy is already 2024-06-25.1 with the same rules.",
    ]);
    expect(diffPolicies(null, specPolicy(), JULY_1)[0]).toContain("would be the first one");
  });
});
