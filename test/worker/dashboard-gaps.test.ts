/**
 * Dashboard details an operator trips over: a policy seeded straight into KV (as
 * `npm start` does) in the history, the current page marked in the navigation, singular
 * nouns, instants to the second in a <time>, and a doctype on every page.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { shardOf, shardStub } from "../../src/exposure/model";
import { livePolicy } from "../fixtures/policies";
import { adminFetch, call, dash, page, signIn } from "./call";

const seeded = livePolicy({ version: "seed.1" });
const pushed = livePolicy({ version: "push.2", supported: ["CN", "DE", "GB", "JP", "UA", "US"] });

beforeAll(async () => {
  // What scripts/dev.mjs does: `wrangler kv key put` of the file to both keys, no metadata.
  const text = JSON.stringify(seeded, null, 2);
  await env.POLICY.put("policy", text);
  await env.POLICY.put("policy@seed.1", text);
  const res = await adminFetch("/policy", { method: "PUT", body: pushed });
  if (res.status !== 200) throw new Error(`push failed: ${res.status} ${await res.text()}`);
});

describe("history after a seeded policy", () => {
  it("lists the seeded version and diffs the first push against it", async () => {
    const cookie = await signIn();
    const { html } = await page("/history", cookie);
    expect(html).toMatch(
      /<td data-label="When" class="nowrap">unknown<\/td><td data-label="Version"><code>seed\.1<\/code><\/td><td data-label="How">no activation recorded<\/td>/,
    );
    expect(html).toContain(
      '<a href="/__region-gate/dashboard/history/push.2?against=seed.1">diff from seed.1</a>',
    );
    const version = await page("/history/push.2", cookie);
    expect(version.html).toContain("Changes from seed.1");
    expect(version.html).toContain("+ countries now supported: CN");
    expect(version.html).not.toContain("No earlier version recorded");
  });

  it("shows activation times to the second, in UTC, inside <time datetime>", async () => {
    const { html } = await page("/history", await signIn());
    const m = /<time datetime="([^"]+)">(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC<\/time>/.exec(html);
    expect(m).not.toBeNull();
    expect(m?.[1]?.replace("T", " ").slice(0, 19)).toBe(m?.[2]);
  });
});

describe("every page", () => {
  it.each([
    ["", "Overview"],
    ["/timeline", "Timeline"],
    ["/exposure", "Exposure"],
    ["/history", "History"],
  ])("marks %s as the current page in the navigation", async (path, label) => {
    const { html } = await page(path, await signIn());
    const current = [...html.matchAll(/<a href="[^"]*" aria-current="page">([^<]+)<\/a>/g)].map((m) => m[1]);
    expect(current).toEqual([label]);
  });

  it.each(["", "/timeline", "/exposure", "/history", "/history/push.2", "/nowhere"])(
    "starts %s with a doctype (standards mode)",
    async (path) => {
      const res = await dash(path, { cookie: await signIn() });
      expect((await res.text()).startsWith('<!DOCTYPE html><html lang="en">')).toBe(true);
    },
  );

  it("starts the sign-in form and the self-check page with a doctype", async () => {
    expect((await (await dash("/signin")).text()).startsWith("<!DOCTYPE html>")).toBe(true);
    const check = await call("/__region-gate/check", { cf: { country: "JP" } });
    expect((await check.text()).startsWith("<!DOCTYPE html>")).toBe(true);
  });
});

describe("exposure wording", () => {
  it("says 1 customer, 1 request in the singular", async () => {
    // One customer the origin accepted, refused once since (rows written straight in).
    const today = new Date().toISOString().slice(0, 10);
    await shardStub(env, shardOf("RU")).record("one-customer", [
      [today, "RU", "c3c3c3c3c3c3c3c3", "{}", "block", 1, 1, []],
    ]);
    const { html } = await page("/exposure?region=RU", await signIn());
    expect(html).toMatch(
      /RU Russia <span class="tag block">block<\/span> blocked since .*?: 1 customer, 1 request \(1 blocked\)/,
    );
  });
});
