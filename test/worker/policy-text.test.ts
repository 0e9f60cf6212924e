/**
 * One policy-text pipeline (issue 10 item 1): the same bytes get the same answer from
 * `parsePolicy`, the admin API (validate, PUT), the gate's store reading KV, a rollback to
 * a history entry written by hand, and the dashboard (version page and rollback). Before,
 * four of these used plain JSON.parse, so a duplicated key passed there and nowhere else.
 * The CLI's paths are checked on the same texts in test/e2e/policy-text.test.ts.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parsePolicy } from "../../src/policy/parse";
import { invalidatePolicy, policyHealth } from "../../src/store/store";
import { livePolicy } from "../fixtures/policies";
import { POLICY_TEXTS } from "../fixtures/policy-texts";
import { adminFetch, call, csrfOf, dash, page, signIn } from "./call";

const BASE_VERSION = "text.base";

async function resetStore(): Promise<void> {
  const { keys } = await env.POLICY.list();
  await Promise.all(keys.map((k) => env.POLICY.delete(k.name)));
  const res = await adminFetch("/policy", { method: "PUT", body: livePolicy({ version: BASE_VERSION }) });
  expect(res.status).toBe(200);
}

async function servedVersion(): Promise<string | null> {
  const res = await call("/v1/chat", { cf: { country: "CN" }, env: { EXPOSURE_LEDGER: "off" }, wait: true });
  return res.headers.get("x-region-gate-policy");
}

const errorsOf = async (res: Response) => ((await res.json()) as { errors?: unknown }).errors;

afterEach(() => vi.restoreAllMocks());

describe.each(POLICY_TEXTS)("$name", ({ text, version }) => {
  const expected = parsePolicy(text);
  // What an admin write answers: 200, 422 for a schema problem, 400 for text that is not JSON as written.
  const status = expected.ok ? 200 : expected.stage === "schema" ? 422 : 400;
  const errors = expected.ok ? undefined : expected.errors;

  it("POST /policy/validate and PUT /policy answer as parsePolicy does", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    await resetStore();
    const validate = await adminFetch("/policy/validate", { method: "POST", body: text });
    expect(validate.status).toBe(status);
    if (errors) expect(await errorsOf(validate)).toEqual(errors);
    const put = await adminFetch("/policy", { method: "PUT", body: text });
    expect(put.status).toBe(status);
    if (errors) expect(await errorsOf(put)).toEqual(errors);
    expect(await servedVersion()).toBe(expected.ok ? version : BASE_VERSION);
  });

  it("the gate's store serves it from KV, or keeps the old policy and names the kind of problem", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    await resetStore();
    await env.POLICY.put("policy", text);
    invalidatePolicy();
    expect(await servedVersion()).toBe(expected.ok ? version : BASE_VERSION);
    expect(policyHealth().lastError).toBe(
      expected.ok ? null : expected.stage === "syntax" ? "invalid_json" : "invalid_policy",
    );
  });

  it("a rollback to it, written into history by hand, is refused unless it is valid", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    await resetStore();
    await env.POLICY.put(`policy@${version}`, text);
    const res = await adminFetch("/policy/rollback", { method: "POST", body: { version } });
    expect(res.status).toBe(expected.ok ? 200 : 422);
    if (errors) expect(await errorsOf(res)).toEqual(errors);
    expect((await env.POLICY.get("policy")) === text).toBe(expected.ok);
    expect(await servedVersion()).toBe(expected.ok ? version : BASE_VERSION);
  });

  it("the dashboard's version page and rollback agree", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    await resetStore();
    await env.POLICY.put(`policy@${version}`, text);
    const cookie = await signIn();
    const view = await page(`/history/${encodeURIComponent(version)}?against=${BASE_VERSION}`, cookie);
    expect(view.status).toBe(200);
    expect(view.html.includes("does not validate")).toBe(!expected.ok);
    const confirm = await (await dash("/rollback", { cookie, form: { csrf: view.csrf, version } })).text();
    const done = await dash("/rollback", {
      cookie,
      form: { csrf: csrfOf(confirm), version, confirm: "yes" },
    });
    expect(done.status).toBe(expected.ok ? 303 : 422);
    expect(await servedVersion()).toBe(expected.ok ? version : BASE_VERSION);
  });
});

describe("text that is not JSON", () => {
  it("the admin API's 400 names line and column, and shows the line with a caret", async () => {
    const broken = POLICY_TEXTS.find((c) => c.version === "text.syntax")!.text;
    const res = await adminFetch("/policy", { method: "PUT", body: broken });
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      error: { message: string; code: string };
      errors: Array<{ line: number; column: number; excerpt: string }>;
    };
    expect(body.error.code).toBe("invalid_json");
    expect(body.error.message).toContain("not valid JSON at line 3, column 3: expected ',' or '}'");
    expect(body.errors[0]).toMatchObject({ line: 3, column: 3 });
    expect(body.errors[0]!.excerpt).toBe('3 |   "version": "text.syntax",\n  |   ^');
  });
});
