/** The test fixtures themselves: the tests that use them rely on these facts. */
import { describe, expect, it } from "vitest";
import { livePolicy } from "../fixtures/policies";

const day = 86_400_000;

describe("dates", () => {
  it("has a live policy whose windows straddle now", () => {
    const ve = livePolicy().enforcement!.regions!.VE!;
    expect(Date.parse(ve.warnFrom!)).toBeLessThan(Date.now());
    expect(Date.parse(ve.blockFrom!)).toBeGreaterThan(Date.now() + day);
  });
});
