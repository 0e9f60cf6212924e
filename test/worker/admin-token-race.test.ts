import { describe, expect, it } from "vitest";
import { tokensEqual } from "../../src/control/admin/auth";

// Own file: the per-isolate key must not exist yet when these comparisons start.
describe("tokensEqual on a fresh isolate", () => {
  it("agrees for equal tokens even when the first comparisons run concurrently", async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => tokensEqual(`token-${i}`, `token-${i}`)),
    );
    expect(results).toEqual(Array(8).fill(true));
    expect(await tokensEqual("token-1", "token-2")).toBe(false);
    expect(await tokensEqual("short", "a-much-longer-token")).toBe(false);
  });
});
