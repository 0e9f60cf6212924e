/** Rows' stored identity text is decoded in one place (src/exposure/wire.ts `parseIdentity`). */
import { describe, expect, it } from "vitest";
import { parseIdentity } from "../../src/exposure/wire";

describe("parseIdentity", () => {
  it("reads the canonical JSON the recorder writes", () => {
    expect(parseIdentity('{"openai-organization":"org-acme","openai-project":"p1"}')).toEqual({
      "openai-organization": "org-acme",
      "openai-project": "p1",
    });
    expect(parseIdentity("{}")).toEqual({});
  });

  it("reads anything else as no identity, never as a crash or a non-string value", () => {
    for (const text of ["", "not json", "[]", "null", '"x"', "42"])
      expect(parseIdentity(text), text).toEqual({});
    expect(parseIdentity('{"a":"ok","b":1,"c":{"d":"e"},"e":null}')).toEqual({ a: "ok" });
  });
});
