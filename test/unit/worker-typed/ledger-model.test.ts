/**
 * The ledger's pure parts: day, identity text, shard map, CSV encoding. (In worker-typed/
 * because model.ts is typed against the Workers runtime; it runs in Node.)
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { csvField, identityText } from "../../../src/control/ledger/report";
import { IDENTITY_VALUE_MAX, identityOf, SHARDS, shardOf, utcDay } from "../../../src/exposure/model";

describe("ledger model", () => {
  it("cuts days at UTC midnight, in both directions of the clock", () => {
    const midnight = Date.parse("2024-07-09T00:00:00Z");
    expect(utcDay(midnight - 1)).toBe("2024-07-08");
    expect(utcDay(midnight)).toBe("2024-07-09");
    expect(utcDay(midnight + 86_399_999)).toBe("2024-07-09");
    expect(utcDay(midnight - 1)).toBe("2024-07-08");
    expect(utcDay(midnight + 86_400_000)).toBe("2024-07-10");
  });

  it("writes identity as sorted JSON of the headers present, values cut at the bound", () => {
    const names = ["x-project", "openai-organization"];
    const h = new Headers({ "OpenAI-Organization": 'org "1"', "x-project": "p".repeat(300) });
    expect(identityOf(h, names)).toBe(
      JSON.stringify({ "openai-organization": 'org "1"', "x-project": "p".repeat(IDENTITY_VALUE_MAX) }),
    );
    expect(identityOf(new Headers({ "x-project": "p" }), names)).toBe('{"x-project":"p"}');
    expect(identityOf(new Headers(), names)).toBe("{}");
    expect(identityOf(h, [])).toBe("{}");
  });

  it("records a value with characters outside visible ASCII and space as invalid", () => {
    const names = ["openai-organization"];
    const one = (v: string) => identityOf(new Headers({ "openai-organization": v }), names);
    expect(one("Acme Corp ~ (EU) 42")).toBe('{"openai-organization":"Acme Corp ~ (EU) 42"}');
    for (const bad of ["org\tone", "café", "org\u00a0x", "\u00ff"]) {
      expect(one(bad)).toBe('{"openai-organization":"invalid"}');
    }
    // Past the cut, too: the whole value is judged, not only what would be kept.
    expect(one(`${"a".repeat(IDENTITY_VALUE_MAX)}é`)).toBe('{"openai-organization":"invalid"}');
  });

  it("keeps the region → shard map stable (changing it strands stored rows)", () => {
    expect(["CN", "HK", "RU", "IR", "UA-43", "XX", "T1"].map(shardOf)).toEqual([4, 4, 0, 2, 11, 13, 6]);
    fc.assert(fc.property(fc.string(), (r) => shardOf(r) >= 0 && shardOf(r) < SHARDS));
  });

  it("identity text splits back into the exact header values", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z][a-z-]{0,15}$/), fc.string()), (identity) => {
        const text = identityText(identity);
        const back: Record<string, string> = {};
        if (text !== "") {
          for (const pair of text.split(";")) {
            const eq = pair.indexOf("=");
            back[pair.slice(0, eq)] = decodeURIComponent(pair.slice(eq + 1));
          }
        }
        expect(back).toEqual(identity);
      }),
    );
  });

  it("quotes CSV fields only when needed, doubling quotes", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField(42)).toBe("42");
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField("line\r\nbreak")).toBe('"line\r\nbreak"');
  });
});
