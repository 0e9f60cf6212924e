import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJsonStrict } from "../../src/policy/json";
import { locateSyntaxError } from "../../src/policy/json-syntax";
import { validatePolicy } from "../../src/policy/validate";
import { specPolicy } from "../fixtures/policies";
import { validPolicy } from "./fuzz-arbitraries";

const RUNS = { seed: 20_240_625, numRuns: 200 };

describe("parseJsonStrict refuses what JSON.parse would silently accept", () => {
  it.each([
    ['{"mode":"monitor","mode":"enforce"}', "$.mode"],
    ['{"a":{"b":1,"b":2}}', "$.a.b"],
    ['{"regions":{"CN":{},"C\\u004e":{}}}', "$.regions.CN"],
    ['{"x":[{"k":1},{"k":1,"k":2}]}', "$.x[1].k"],
    ['{"enforcement":{"regions":{"UA-43":1,"UA-43":2}}}', '$.enforcement.regions["UA-43"]'],
  ])("duplicate key in %s at %s", (text, path) => {
    const result = parseJsonStrict(text);
    expect(result).toEqual({
      ok: false,
      errors: [{ path, message: expect.stringContaining("duplicate key") }],
    });
  });

  it("reports every duplicate, not just the first", () => {
    const result = parseJsonStrict('{"a":1,"a":2,"b":{"c":1,"c":2},"a":3}');
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual(["$.a", "$.b.c", "$.a"]);
  });

  it.each([
    '{"__proto__":{"polluted":true}}',
    '{"enforcement":{"regions":{"__proto__":{"blockFrom":null}}}}',
    '{"\\u005f_proto__":1}',
  ])("refuses a __proto__ key: %s", (text) => {
    const result = parseJsonStrict(text);
    expect(result.ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses nesting past the limit before parsing it", () => {
    const deep = `${"[".repeat(33)}${"]".repeat(33)}`;
    expect(parseJsonStrict(deep)).toMatchObject({
      ok: false,
      errors: [{ message: /nested deeper than 32/ }],
    });
    expect(parseJsonStrict(`${"[".repeat(32)}${"]".repeat(32)}`).ok).toBe(true);
    expect(parseJsonStrict("[".repeat(1_000_000)).ok).toBe(false);
  });

  it.each(["", "{", '{"a":1,}', "\uFEFF{}", "{'a':1}", '{"a":1}x', '"\\x"'])(
    "reports invalid JSON %j at $",
    (text) => {
      const result = parseJsonStrict(text);
      expect(result).toMatchObject({ ok: false, errors: [{ path: "$", message: /^not valid JSON/ }] });
    },
  );

  it("does not mistake braces, commas or quotes inside strings for structure", () => {
    const text = '{"a":"{\\"a\\":1,}","b":["a","a"],"c":"\\\\","d":"]}"}';
    expect(parseJsonStrict(text)).toEqual({ ok: true, value: JSON.parse(text) });
  });
});

describe("parseJsonStrict agrees with JSON.parse on honest documents", () => {
  it("accepts the SPEC example and any generated valid policy, pretty-printed or not", () => {
    expect(parseJsonStrict(JSON.stringify(specPolicy(), null, 2))).toEqual({ ok: true, value: specPolicy() });
    fc.assert(
      fc.property(validPolicy(), fc.constantFrom(0, 2, "\t"), (doc, indent) => {
        const result = parseJsonStrict(JSON.stringify(doc, null, indent));
        expect(result).toEqual({ ok: true, value: doc });
        expect(validatePolicy(doc).ok).toBe(true);
      }),
      RUNS,
    );
  });

  it("finds a duplicate inserted into any object of any JSON value", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string().filter((k) => k !== "__proto__"),
          fc.jsonValue({ maxDepth: 3 }),
          {
            minKeys: 1,
          },
        ),
        fc.nat(),
        (obj, pick) => {
          const keys = Object.keys(obj);
          const dup = keys[pick % keys.length]!;
          const text = `${JSON.stringify(obj).slice(0, -1)},${JSON.stringify(dup)}:null}`;
          const result = parseJsonStrict(text);
          expect(result.ok).toBe(false);
          if (!result.ok)
            expect(result.errors.some((e) => e.message.includes(JSON.stringify(dup)))).toBe(true);
        },
      ),
      RUNS,
    );
  });
});

describe("unicode tricks in codes are refused by the validator", () => {
  it.each(["ＣＮ", "cn", "C N", "CN ", " CN", "C\u200bN", "\u0421N", "CN\u0000"])(
    "refuses %j in supported",
    (code) => {
      const result = validatePolicy({ schema: 1, version: "x", supported: [code] });
      expect(result).toMatchObject({ ok: false, errors: [{ path: "$.supported[0]" }] });
    },
  );

  it.each(["ＣＮ", "cn", "C N", "ua-43", "UA-43 "])("refuses %j as an enforcement region", (code) => {
    const result = validatePolicy({
      schema: 1,
      version: "x",
      supported: ["DE"],
      enforcement: { regions: { [code]: { blockFrom: null } } },
    });
    expect(result.ok).toBe(false);
  });

  it("refuses an own __proto__ key that JSON.parse produced", () => {
    const doc = JSON.parse('{"schema":1,"version":"x","supported":[],"__proto__":{"mode":"monitor"}}');
    expect(validatePolicy(doc).ok).toBe(false);
  });
});

describe("syntax errors say where: line, column and the line with a caret", () => {
  it.each([
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, "expected ',' or '}'"],
    ['{"a":1,}', 1, 8, "trailing comma"],
    ["[1,]", 1, 4, "trailing comma"],
    ['{"a":', 1, 6, "ends too early"],
    ["", 1, 1, "ends too early"],
    ['{"a":tru}', 1, 6, "unexpected"],
    ["{'a':1}", 1, 2, "double-quoted"],
    ['{"a":"x\ny"}', 1, 8, "control character"],
    ['{"a":"\\q"}', 1, 7, "invalid escape"],
    ['{"a":1} x', 1, 9, "after the end"],
    ['{\r\n"a": 1,\r\n"b" 2}', 3, 5, "expected ':'"],
  ])("%j: line %i, column %i", (text, line, column, reason) => {
    const result = parseJsonStrict(text);
    expect(result.ok).toBe(false);
    const [problem] = result.ok ? [] : result.errors;
    expect(problem).toMatchObject({ path: "$", line, column });
    expect(problem!.message).toContain(`not valid JSON at line ${line}, column ${column}: `);
    expect(problem!.message).toContain(reason);
    const [shown, caret] = problem!.excerpt!.split("\n") as [string, string];
    expect(shown.startsWith(`${line} | `)).toBe(true);
    expect(caret.indexOf("^") - caret.indexOf("|")).toBe(column + 1);
  });

  it("cuts a long (minified) line around the error and keeps the caret under it", () => {
    const text = `{"a":"${"x".repeat(500)}" "b":1}`;
    const problem = (parseJsonStrict(text) as { errors: Array<{ column: number; excerpt: string }> })
      .errors[0]!;
    expect(problem.column).toBe(509);
    const [shown, caret] = problem.excerpt.split("\n") as [string, string];
    expect(shown.length).toBeLessThan(140);
    expect(shown[caret.indexOf("^")]).toBe('"');
    expect(shown[caret.indexOf("^") - 1]).toBe(" ");
  });

  it("finds an error exactly when JSON.parse does, on mutated JSON", () => {
    const mutated = fc
      .tuple(fc.json(), fc.nat(), fc.constantFrom("", ",", "}", "]", '"', ":", "\n", "x", "0", "\\"))
      .map(([json, at, insert]) => {
        const i = at % (json.length + 1);
        return json.slice(0, i) + insert + json.slice(i + (at % 3 === 0 ? 1 : 0));
      });
    fc.assert(
      fc.property(mutated, (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect(locateSyntaxError(text) === null).toBe(valid);
      }),
      { seed: 47, numRuns: 5000 },
    );
  });
});
