import { env } from "cloudflare:test";
import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { mutatedPolicy } from "../unit/fuzz-arbitraries";
import { adminFetch, captureLogs, json, TOKEN } from "./call";

// Hostile admin callers: every refusal must be clean (a 4xx with the error envelope,
// never a 500) and must leave KV exactly as it was (no partial write).

/** Everything in the POLICY namespace, to compare before and after a refused write. */
async function snapshot(): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const { name } of (await env.POLICY.list()).keys) out[name] = await env.POLICY.get(name);
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});

const put = (body: string) => adminFetch("/policy", { method: "PUT", body });

beforeAll(async () => {
  const res = await adminFetch("/policy", { method: "PUT", body: livePolicy({ version: "hostile.1" }) });
  expect(res.status).toBeLessThan(300);
});

describe("policy text that JSON.parse would accept silently", () => {
  it("refuses a duplicated key with its path instead of keeping the last value", async () => {
    const before = await snapshot();
    const doc = JSON.stringify(livePolicy({ version: "hostile.dup" }));
    const text = doc.replace('"schema":1', '"mode":"monitor","schema":1,"mode":"enforce"');
    const res = await put(text);
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error).toMatchObject({ code: "invalid_json" });
    expect(body.errors).toEqual([{ path: "$.mode", message: expect.stringContaining("duplicate key") }]);
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a duplicated region, however its key is escaped", async () => {
    const before = await snapshot();
    const text = JSON.stringify(livePolicy({ version: "hostile.dup2" })).replace(
      '"regions":{',
      '"regions":{"C\\u004E":{"blockFrom":null},"CN":{"blockFrom":null},',
    );
    const res = await put(text);
    expect(res.status).toBe(400);
    expect((await json(res)).errors).toEqual([
      { path: "$.enforcement.regions.CN", message: expect.stringContaining("duplicate key") },
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ["at the top", '{"__proto__":{"mode":"monitor"},'],
    ["in regions", '{"enforcement":{"regions":{"__proto__":{"blockFrom":null}}},'],
  ])("refuses a __proto__ key %s", async (_, prefix) => {
    const before = await snapshot();
    const res = await put(`${prefix}"schema":1,"version":"hostile.proto","supported":["DE"]}`);
    expect(res.status).toBe(400);
    expect((await json(res)).errors).toEqual([
      { path: expect.stringMatching(/__proto__/), message: expect.any(String) },
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it.each([1_000, 100_000])("refuses %i levels of nesting with 400, not a 500", async (depth) => {
    const before = await snapshot();
    const deep = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    for (const path of ["/policy", "/policy/validate"]) {
      const res = await adminFetch(path, {
        method: path === "/policy" ? "PUT" : "POST",
        body: `{"schema":1,"version":"hostile.deep","supported":${deep}}`,
      });
      expect(res.status).toBe(400);
      expect((await json(res)).errors).toEqual([
        { path: expect.any(String), message: expect.stringContaining("nested") },
      ]);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe("unicode tricks in codes", () => {
  it.each(["ＣＮ", "cn", "C N", "CN\u200b", "\u0421\u041d"])(
    "refuses %j with 422 and its path",
    async (code) => {
      const before = await snapshot();
      const res = await put(JSON.stringify({ schema: 1, version: "hostile.code", supported: ["DE", code] }));
      expect(res.status).toBe(422);
      const body = await json(res);
      expect(body.errors).toEqual([
        { path: "$.supported[1]", message: expect.stringContaining("ISO 3166-1") },
      ]);
      expect(await snapshot()).toEqual(before);
    },
  );

  it.each(["ＣＮ", "cn", "C N"])("refuses %j as an enforcement region", async (code) => {
    const res = await put(
      JSON.stringify({
        schema: 1,
        version: "hostile.region",
        supported: ["DE"],
        enforcement: { regions: { [code]: { blockFrom: null } } },
      }),
    );
    expect(res.status).toBe(422);
  });
});

describe("credentials", () => {
  it.each(["token", "access_token", "admin_token", "key", "Token", "x"])(
    "never accepts the admin token from the query string (?%s=)",
    async (name) => {
      const res = await adminFetch(`/policy?${name}=${TOKEN}`, { token: null });
      expect([400, 401]).toContain(res.status);
    },
  );

  it("answers 401 to tokens of every other length, and to an empty bearer", async () => {
    const logs = captureLogs();
    // Failed attempts are rationed per client address: each guess comes from its own one.
    let caller = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-") }),
        async (token) => {
          fc.pre(token !== TOKEN && token.length > 0);
          const ip = `2001:db8:${(++caller).toString(16)}::1`;
          const res = await adminFetch("/policy", { token, headers: { "cf-connecting-ip": ip } });
          await res.arrayBuffer();
          return res.status === 401;
        },
      ),
      { seed: 11, numRuns: 40 },
    );
    const empty = await adminFetch("/policy", { token: null, headers: { authorization: "Bearer " } });
    expect(empty.status).toBe(401);
    // Each refusal is logged with the path alone: no token, no part of one.
    const events = logs.events();
    expect(events.length).toBeGreaterThan(0);
    for (const e of events)
      expect(e).toEqual({ level: "warn", event: "admin_auth_failed", path: "/__region-gate/policy" });
  });

  it("compares tokens in constant time: HMAC digests through crypto.subtle.timingSafeEqual", async () => {
    // Fails if the comparison is swapped for === (or any early exit): every pair, whatever
    // its lengths and shared prefix, is HMACed and the two fixed-length digests go through
    // timingSafeEqual, exactly once per comparison.
    const { tokensEqual } = await import("../../src/control/admin/auth");
    const sign = vi.spyOn(crypto.subtle, "sign");
    const compare = vi.spyOn(crypto.subtle, "timingSafeEqual");
    const pairs: Array<[string, string, boolean]> = [
      [TOKEN, TOKEN, true],
      [TOKEN.replace(/^./, "X"), TOKEN, false],
      [TOKEN.replace(/.$/, "X"), TOKEN, false],
      ["", TOKEN, false],
      [TOKEN.slice(0, 1), TOKEN, false],
      [`${TOKEN}${TOKEN}`, TOKEN, false],
    ];
    for (const [given, expected, equal] of pairs) {
      sign.mockClear();
      compare.mockClear();
      expect(await tokensEqual(given, expected)).toBe(equal);
      expect(sign.mock.calls.map(([algorithm]) => algorithm)).toEqual(["HMAC", "HMAC"]);
      expect(compare).toHaveBeenCalledTimes(1);
      const [a, b] = compare.mock.calls[0] ?? [];
      // SHA-256 HMACs: 32 bytes each, so the length of the secret never reaches the comparison.
      expect([(a as ArrayBuffer).byteLength, (b as ArrayBuffer).byteLength]).toEqual([32, 32]);
    }
  });
});

describe("arbitrary documents", () => {
  it("PUT never answers 500 and never writes when it refuses", async () => {
    await fc.assert(
      fc.asyncProperty(mutatedPolicy, async (doc) => {
        const before = await snapshot();
        const res = await put(JSON.stringify(doc));
        await res.arrayBuffer();
        expect([200, 201, 400, 409, 422]).toContain(res.status);
        if (res.status >= 400) expect(await snapshot()).toEqual(before);
      }),
      { seed: 12, numRuns: 40 },
    );
  });
});
