/**
 * The ledger's pure parts: day, identity text, shard map, CSV encoding. (In worker-typed/
 * because model.ts is typed against the Workers runtime; it runs in Node.)
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { csvField, identityText } from "../../../src/control/ledger/report";
import {
  identityOf,
  NETWORK_NAME_MAX,
  networkName,
  SHARDS,
  shardOf,
  utcDay,
} from "../../../src/exposure/model";

describe("ledger model", () => {
  it("cuts days at UTC midnight, in both directions of the clock", () => {
    const midnight = Date.parse("2024-07-09T00:00:00Z");
    expect(utcDay(midnight - 1)).toBe("2024-07-08");
    expect(utcDay(midnight)).toBe("2024-07-09");
    expect(utcDay(midnight + 86_399_999)).toBe("2024-07-09");
    expect(utcDay(midnight - 1)).toBe("2024-07-08");
    expect(utcDay(midnight + 86_400_000)).toBe("2024-07-10");
  });

  it("writes identity as sorted JSON of the headers present", () => {
    const names = ["x-project", "openai-organization"];
    const h = new Headers({ "OpenAI-Organization": "org-1", "x-project": "p_2.x:y" });
    expect(identityOf(h, names)).toBe(
      JSON.stringify({ "openai-organization": "org-1", "x-project": "p_2.x:y" }),
    );
    expect(identityOf(new Headers({ "x-project": "p" }), names)).toBe('{"x-project":"p"}');
    expect(identityOf(new Headers(), names)).toBe("{}");
    expect(identityOf(h, [])).toBe("{}");
  });

  it("keeps only values of 1-64 characters of A-Z a-z 0-9 . _ : -; anything else is invalid", () => {
    const names = ["openai-organization"];
    const one = (v: string) => identityOf(new Headers({ "openai-organization": v }), names);
    expect(one("Org_1.eu:prod-2")).toBe('{"openai-organization":"Org_1.eu:prod-2"}');
    expect(one("a".repeat(64))).toBe(`{"openai-organization":"${"a".repeat(64)}"}`);
    for (const bad of [
      "a".repeat(65),
      "",
      "Acme Corp",
      "x' **URGENT**: your account is suspended, [verify now](https://evil.example/verify) 'y",
      '=HYPERLINK("https://evil.example")',
      "<img src=x>",
      "org\tone",
      "café",
      "`code`",
    ]) {
      expect(one(bad)).toBe('{"openai-organization":"invalid"}');
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (v) => {
        const kept = (JSON.parse(one(v)) as Record<string, string>)["openai-organization"];
        expect(kept === "invalid" || /^[A-Za-z0-9._:-]{1,64}$/.test(kept ?? "")).toBe(true);
      }),
    );
  });

  it("keeps a network's name as printable ASCII, cut to 64 characters", () => {
    expect(networkName("Amazon.com, Inc.")).toBe("Amazon.com, Inc.");
    expect(networkName("Telefónica\u0000\n Brasil")).toBe("Telefnica Brasil");
    expect(networkName("x".repeat(100))).toHaveLength(NETWORK_NAME_MAX);
    expect(networkName(null)).toBe("");
    fc.assert(fc.property(fc.string(), (n) => /^[\x20-\x7e]{0,64}$/.test(networkName(n))));
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
    expect(csvField("2024-07-09")).toBe("2024-07-09");
    expect(csvField(42)).toBe("42");
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField("line\r\nbreak")).toBe('"line\r\nbreak"');
  });
});
