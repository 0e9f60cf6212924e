import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { fingerprint } from "../../src/platform/fingerprint";
import { validatePolicy } from "../../src/policy/validate";
import { canonicalPolicy, sha256Hex } from "../../src/store/etag";
import { livePolicy, specPolicy } from "../fixtures/policies";
import { adminFetch, call, json, TOKEN } from "./call";

const tick = () => new Promise((r) => setTimeout(r, 5));
const put = (body: unknown, headers: Record<string, string> = {}) =>
  adminFetch("/policy", { method: "PUT", body, headers });
const rollback = (version: string, headers: Record<string, string> = {}) =>
  adminFetch("/policy/rollback", { method: "POST", body: { version }, headers });
const history = async (query = "") =>
  (await json(await adminFetch(`/policy/history${query}`))) as {
    active: { version: string } | null;
    versions: Array<{
      version: string;
      active: boolean;
      activations: Array<{ at: string; by: string; via: string }>;
    }>;
    activeAt?: string | null;
  };

// Order matters in this file: KV is shared by its tests and starts empty.
describe("before any policy is stored", () => {
  it("GET /policy answers 404 policy_absent with a fix", async () => {
    const res = await adminFetch("/policy");
    expect(res.status).toBe(404);
    expect((await json(res)).error).toMatchObject({
      code: "policy_absent",
      message: expect.stringContaining("push"),
    });
  });

  it("archives a hand-seeded active policy before replacing it, so it can be rolled back to", async () => {
    const seeded = JSON.stringify(livePolicy({ version: "seed.1" }));
    await env.POLICY.put("policy", seeded);
    const res = await put(livePolicy({ version: "live.2" }));
    expect(res.status).toBe(200);
    expect((await history()).versions.map((v) => v.version)).toEqual(["live.2", "seed.1"]);
    expect((await rollback("seed.1")).status).toBe(200);
    expect(await env.POLICY.get("policy")).toBe(seeded);
  });
});

describe("PUT /policy", () => {
  it("stores a valid document as canonical JSON, active and in history, with who and when", async () => {
    const doc = specPolicy({ version: "spec.1" });
    const res = await put(doc);
    expect(res.status).toBe(200);
    const content = canonicalPolicy(doc);
    const sha256 = await sha256Hex(content);
    expect(await json(res)).toEqual({
      ok: true,
      changed: true,
      version: "spec.1",
      sha256,
      etag: `"${sha256}"`,
    });
    expect(res.headers.get("etag")).toBe(`"${sha256}"`);
    expect(await env.POLICY.get("policy")).toBe(content);
    expect(await env.POLICY.get("policy@spec.1")).toBe(content);

    const got = await adminFetch("/policy");
    expect(await got.text()).toBe(content);
    expect(got.headers.get("etag")).toBe(`"${sha256}"`);
    expect(got.headers.get("x-region-gate-policy")).toBe("spec.1");
    const unchanged = await adminFetch("/policy", { headers: { "if-none-match": `"${sha256}"` } });
    expect(unchanged.status).toBe(304);

    const entry = (await history()).versions[0]!;
    expect(entry).toMatchObject({ version: "spec.1", active: true });
    expect(entry.activations).toEqual([{ at: expect.any(String), by: "token", via: "push" }]);
    // Never a hash of the token: with it, a guessed token could be confirmed offline (issue 22).
    const stored = `${await env.POLICY.get("policy@spec.1", "text")}${JSON.stringify(await env.POLICY.getWithMetadata("policy@spec.1"))}`;
    expect(stored).not.toContain(await fingerprint("test-identity-salt", TOKEN));
    expect(JSON.stringify(await history())).not.toContain(await fingerprint("test-identity-salt", TOKEN));
  });

  it("refuses an invalid document with 422 and every problem, the same list the CLI prints", async () => {
    const before = await env.POLICY.get("policy");
    const bad = { ...specPolicy({ version: "bad" }), supported: ["DE", "de", "DE"], mode: "loud", extra: 1 };
    const res = await put(bad);
    expect(res.status).toBe(422);
    const body = await json(res);
    const expected = validatePolicy(bad);
    expect(expected.ok).toBe(false);
    expect(body.errors).toEqual(expected.ok ? [] : expected.errors);
    expect((body.errors as unknown[]).length).toBeGreaterThanOrEqual(4);
    expect(body.error).toMatchObject({ code: "policy_invalid" });
    expect(await env.POLICY.get("policy")).toBe(before);
  });

  it.each([
    { name: "not JSON", body: "{schema: 1", status: 400, code: "invalid_json" },
    { name: "empty", body: "", status: 400, code: "invalid_json" },
    { name: "JSON of the wrong shape", body: "[1,2]", status: 422, code: "policy_invalid" },
  ])("answers a body that is $name with $status", async ({ body, status, code }) => {
    const res = await put(body);
    expect(res.status).toBe(status);
    expect((await json(res)).error).toMatchObject({ code });
  });

  it("answers a body over 4 MiB with 413, declared or streamed", async () => {
    const big = JSON.stringify({ ...specPolicy(), pad: "x".repeat(4 * 1024 * 1024) });
    expect((await put(big)).status).toBe(413);
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 70) controller.enqueue(chunk);
        else controller.close();
      },
    });
    // No content-length: the limit must hold while the body streams in.
    const res = await adminFetch("/policy", { method: "PUT", body: stream });
    expect(res.status).toBe(413);
    expect((await json(res)).error).toMatchObject({ code: "body_too_large" });
  });

  it("answers non-UTF-8 bytes with 400", async () => {
    const raw = await adminFetch("/policy", {
      method: "PUT",
      body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    });
    expect(raw.status).toBe(400);
  });

  it("re-pushing the active document changes nothing", async () => {
    const res = await put(specPolicy({ version: "spec.1" }));
    expect(await json(res)).toMatchObject({ ok: true, changed: false, version: "spec.1" });
    expect((await history()).versions.filter((v) => v.version === "spec.1")[0]!.activations).toHaveLength(1);
  });

  it("refuses a version already stored with other content with 409", async () => {
    const res = await put(specPolicy({ version: "spec.1", mode: "monitor" }));
    expect(res.status).toBe(409);
    expect((await json(res)).error).toMatchObject({
      code: "version_conflict",
      message: expect.stringContaining("new"),
    });
  });

  it("honours If-Match: a stale ETag gets 412, the current one is accepted", async () => {
    const etag = (await adminFetch("/policy")).headers.get("etag")!;
    const stale = await put(specPolicy({ version: "spec.2" }), { "if-match": '"0000"' });
    expect(stale.status).toBe(412);
    expect((await json(stale)).error).toMatchObject({ code: "policy_changed" });
    expect(await env.POLICY.get("policy")).toBe(canonicalPolicy(specPolicy({ version: "spec.1" })));
    const fresh = await put(specPolicy({ version: "spec.2" }), { "if-match": etag });
    expect(fresh.status).toBe(200);
  });

  it("If-None-Match: * refuses to replace an existing policy", async () => {
    const res = await put(specPolicy({ version: "spec.3" }), { "if-none-match": "*" });
    expect(res.status).toBe(412);
  });

  it("lets exactly one of two writers holding the same ETag win; the other gets 412", async () => {
    const etag = (await adminFetch("/policy")).headers.get("etag")!;
    const [a, b] = await Promise.all([
      put(specPolicy({ version: "race.a" }), { "if-match": etag }),
      put(specPolicy({ version: "race.b" }), { "if-match": etag }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 412]);
    const winner = a.status === 200 ? "race.a" : "race.b";
    expect(JSON.parse((await env.POLICY.get("policy"))!).version).toBe(winner);
  });

  it("takes effect at once in this isolate: the next gate request uses the new policy", async () => {
    const blocked = await call("/v1/chat", { cf: { country: "CN" } });
    expect(blocked.status).toBe(403);
    await put(livePolicy({ version: "cn-ok", supported: ["CN", "DE", "GB", "JP", "UA", "US"] }));
    const passed = await call("/v1/chat", { cf: { country: "CN" } });
    expect(passed.status).toBe(200);
    expect(passed.headers.get("x-region-gate-decision")).toBeNull();
  });
});

describe("POST /policy/validate", () => {
  it("answers 200 with version and sha256 for a valid document, stores nothing", async () => {
    const before = await env.POLICY.get("policy");
    const doc = specPolicy({ version: "never-stored" });
    const res = await adminFetch("/policy/validate", { method: "POST", body: doc });
    expect(await json(res)).toEqual({
      ok: true,
      version: "never-stored",
      sha256: await sha256Hex(canonicalPolicy(doc)),
    });
    expect(await env.POLICY.get("policy")).toBe(before);
    expect(await env.POLICY.get("policy@never-stored")).toBeNull();
  });

  it("answers 422 with every problem and its path", async () => {
    const res = await adminFetch("/policy/validate", {
      method: "POST",
      body: { schema: 2, supported: "DE" },
    });
    expect(res.status).toBe(422);
    expect((await json(res)).errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "$.schema" }),
        expect.objectContaining({ path: "$.version" }),
        expect.objectContaining({ path: "$.supported" }),
      ]),
    );
  });
});

describe("history and rollback", () => {
  it("lists versions newest first and answers which was active at a given time", async () => {
    await tick();
    await put(specPolicy({ version: "h.1" }));
    await tick();
    await put(specPolicy({ version: "h.2", mode: "monitor" }));
    const view = await history();
    expect(view.active).toMatchObject({ version: "h.2" });
    expect(view.versions.slice(0, 2).map((v) => v.version)).toEqual(["h.2", "h.1"]);
    const h1At = view.versions[1]!.activations.at(-1)!.at;
    expect((await history(`?at=${h1At}`)).activeAt).toBe("h.1");
    expect((await history("?at=2000-01-01")).activeAt).toBeNull();
    const bad = await adminFetch("/policy/history?at=yesterday");
    expect(bad.status).toBe(400);
  });

  it("restores the stored document byte for byte, with the same ETag, and records the rollback", async () => {
    const before = await adminFetch("/policy");
    const h2 = await before.text();
    await tick();
    await put(specPolicy({ version: "h.3" }));
    const res = await rollback("h.2");
    expect(res.status).toBe(200);
    expect(await env.POLICY.get("policy")).toBe(h2);
    expect((await adminFetch("/policy")).headers.get("etag")).toBe(before.headers.get("etag"));
    const entry = (await history()).versions[0]!;
    expect(entry).toMatchObject({ version: "h.2", active: true });
    expect(entry.activations.map((a) => a.via)).toEqual(["push", "rollback"]);
  });

  it("answers an unknown version with 404 and a malformed request with 400", async () => {
    const missing = await rollback("no-such-version");
    expect(missing.status).toBe(404);
    expect((await json(missing)).error).toMatchObject({ code: "version_not_found" });
    const malformed = await adminFetch("/policy/rollback", { method: "POST", body: { v: 1 } });
    expect(malformed.status).toBe(400);
  });

  it("honours If-Match on rollback", async () => {
    expect((await rollback("h.1", { "if-match": '"stale"' })).status).toBe(412);
  });

  it("refuses to roll back to a stored document that no longer validates", async () => {
    await env.POLICY.put("policy@broken", '{"schema":1}', { metadata: { sha256: "x", activations: [] } });
    const res = await rollback("broken");
    expect(res.status).toBe(422);
    expect((await json(res)).errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: "$.version" })]),
    );
  });
});

describe("GET /policy?version=", () => {
  it("returns a stored version byte for byte, and 404 version_not_found for an unknown one", async () => {
    const res = await adminFetch("/policy?version=h.1");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(await env.POLICY.get("policy@h.1"));
    const missing = await adminFetch("/policy?version=nope");
    expect(missing.status).toBe(404);
    expect((await json(missing)).error).toMatchObject({ code: "version_not_found" });
  });
});

describe("keys written by hand (wrangler kv key put, as npm start seeds)", () => {
  it("are listed with the sha256 of their bytes, after every recorded version, and can be rolled back to", async () => {
    const text = JSON.stringify(specPolicy({ version: "hand.1" }));
    await env.POLICY.put("policy@hand.1", text);
    const view = await history();
    const last = view.versions.at(-1) as unknown as { version: string; sha256: string; activatedAt: null };
    expect(last).toMatchObject({ version: "hand.1", sha256: await sha256Hex(text), activatedAt: null });
    expect((await rollback("hand.1")).status).toBe(200);
    expect(await env.POLICY.get("policy")).toBe(text);
    expect((await history()).versions[0]).toMatchObject({ version: "hand.1", active: true });
  });
});

describe("the same document in other formatting", () => {
  it("is not a version conflict: pushing it reuses the stored bytes", async () => {
    const doc = specPolicy({ version: "fmt.1" });
    const compact = JSON.stringify(doc);
    await env.POLICY.put("policy@fmt.1", compact);
    const res = await put(doc);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ changed: true, sha256: await sha256Hex(compact) });
    expect(await env.POLICY.get("policy")).toBe(compact);
    expect(await json(await put(doc))).toMatchObject({ changed: false });
    const other = await put({ ...doc, mode: "monitor" });
    expect(other.status).toBe(409);
  });
});
