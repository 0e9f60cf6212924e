/**
 * Bounds that cannot be used against customers (SPEC section 6, "Bounds"): the cap counts
 * customers only, a customer verified on an earlier day keeps its row past it, totals stay
 * exact and a capped (day, code) is marked in reports, summaries and notices. Batches are
 * applied with `applyTuples` on a real shard with a small cap (the Durable Object passes
 * EXPOSURE_MAX_CUSTOMERS), then read through the admin routes.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { applyTuples } from "../../src/control/ledger/ledger-write";
import type { ExposureRow } from "../../src/control/ledger/report";
import type { Notice } from "../../src/control/notices/notices";
import { resetOwnLedgerCache } from "../../src/control/selfcheck/own-ledger";
import { type LedgerTuple, shardOf, shardStub } from "../../src/exposure/model";
import { fingerprint } from "../../src/platform/fingerprint";
import { specPolicy } from "../fixtures/policies";
import { adminFetch, call } from "./call";

const ORG = "openai-organization";
const hex = (n: number) => n.toString(16).padStart(16, "0");

/** Applies tuples to `code`'s shard with `cap`, one transaction, as the Durable Object does. */
function apply(code: string, cap: number, tuples: LedgerTuple[]): Promise<void> {
  return runInDurableObject(shardStub(env, shardOf(code)), (_, state) => {
    state.storage.transactionSync(() => applyTuples(state.storage.sql, tuples, cap, new Map()));
  });
}

async function rows(query: string): Promise<ExposureRow[]> {
  const res = await adminFetch(`/exposure?${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { rows: ExposureRow[] }).rows;
}

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(specPolicy()));
});

describe("the cap per (day, code)", () => {
  it("counts customers only: anonymous, unverified and junk identities never push a verified one out", async () => {
    const day = "2024-06-26";
    const flood: LedgerTuple[] = [];
    // 300 anonymous requests and 300 invented keys, each with its own organisation claim.
    for (let i = 0; i < 300; i++)
      flood.push([day, "CN", "anonymous", JSON.stringify({ [ORG]: `junk-${i}` }), "warn", 1, 0, []]);
    for (let i = 0; i < 300; i++)
      flood.push([day, "CN", hex(1_000_000 + i), JSON.stringify({ [ORG]: `junk-${i}` }), "block", 1, 0, []]);
    await apply("CN", 2, flood);
    const real: LedgerTuple = [day, "CN", hex(42), JSON.stringify({ [ORG]: "org-acme" }), "warn", 25, 1, []];
    await apply("CN", 2, [real]);

    const got = await rows(`region=CN&from=${day}&to=${day}`);
    expect(got.map((r) => [r.fingerprint, r.identity, r.requests, r.verified])).toEqual([
      [hex(42), { [ORG]: "org-acme" }, 25, true],
      ["anonymous", {}, 300, false],
      ["unverified", {}, 300, false],
    ]);
    expect(got.every((r) => !r.capped)).toBe(true);
  });

  it("past the cap a new customer counts under overflow, the day is marked capped, totals stay exact", async () => {
    const day = "2024-06-27";
    const customers = [1, 2, 3, 4].map(
      (i) => [day, "RU", hex(100 + i), "{}", "warn", i, 1, []] as LedgerTuple,
    );
    await apply("RU", 2, customers);
    const got = await rows(`region=RU&from=${day}&to=${day}`);
    expect(got.map((r) => [r.fingerprint, r.requests, r.capped])).toEqual([
      [hex(101), 1, true],
      [hex(102), 2, true],
      ["overflow", 3 + 4, true],
    ]);
    const summary = (await (
      await adminFetch(`/exposure?summary=1&region=RU&from=${day}&to=${day}`)
    ).json()) as {
      summary: { customers: number; requests: number; cappedDays: number }[];
    };
    expect(summary.summary).toEqual([expect.objectContaining({ customers: 2, requests: 10, cappedDays: 1 })]);
    const csv = await (await adminFetch(`/exposure?format=csv&region=RU&from=${day}&to=${day}`)).text();
    expect(csv.split("\r\n")[0]).toContain(",verified,capped,networks");
    expect(csv).toContain(`${hex(101)},,1,0,0,1,0,0,0,yes,yes,`);
  });

  it("a customer verified for the code on an earlier day keeps its row past the cap", async () => {
    const [d1, d2] = ["2024-06-28", "2024-06-29"];
    await apply("VE", 1, [[d1, "VE", hex(7), JSON.stringify({ [ORG]: "org-seven" }), "warn", 2, 1, []]]);
    // Day 2: someone else takes the only place first, then our customer comes back, then a new one.
    await apply("VE", 1, [[d2, "VE", hex(8), "{}", "warn", 1, 1, []]]);
    await apply("VE", 1, [[d2, "VE", hex(7), JSON.stringify({ [ORG]: "org-seven" }), "warn", 5, 1, []]]);
    // Even blocked, unverified: verified for VE before, so it counts under the key.
    await apply("VE", 1, [[d2, "VE", hex(7), "{}", "block", 1, 0, []]]);
    await apply("VE", 1, [[d2, "VE", hex(9), "{}", "warn", 4, 1, []]]);
    const got = await rows(`region=VE&from=${d2}&to=${d2}`);
    expect(got.map((r) => [r.fingerprint, r.identity, r.requests, r.capped])).toEqual([
      [hex(7), { [ORG]: "org-seven" }, 5, true],
      [hex(7), {}, 1, true],
      [hex(8), {}, 1, true],
      ["overflow", {}, 4, true],
    ]);

    // The notice says the day was capped, and counts the customer exactly.
    const page = (await (await adminFetch(`/exposure/notices?region=VE&from=${d1}&to=${d2}`)).json()) as {
      notices: Notice[];
    };
    const mine = page.notices.find((n) => n.fingerprint === hex(7));
    expect(mine?.requests).toBe(8);
    expect(mine?.regions[0]?.cappedDays).toEqual([d2]);
    expect(page.notices.map((n) => n.fingerprint)).not.toContain("overflow");
    const md = await (await adminFetch(`/exposure/notices?region=VE&from=${d1}&to=${d2}&format=md`)).text();
    expect(md).toContain(
      "On June 29, 2024, more customers than our records keep for one day sent requests from Venezuela",
    );
  });

  it("the customer's own /check says which day was capped, and its notice says so too", async () => {
    const key = "sk-own-view-capped-0001";
    const fp = await fingerprint("test-identity-salt", key);
    const day = (ago: number) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);
    await apply("MO", 1, [[day(2), "MO", fp, "{}", "warn", 3, 1, []]]);
    await apply("MO", 1, [[day(1), "MO", hex(500), "{}", "warn", 1, 1, []]]);
    await apply("MO", 1, [[day(1), "MO", fp, "{}", "warn", 2, 1, []]]); // kept: verified on day(2)
    await apply("MO", 1, [[day(1), "MO", hex(501), "{}", "warn", 1, 1, []]]); // overflow
    resetOwnLedgerCache();
    const res = await call("/__region-gate/check?format=json", { token: key, cf: { country: "JP" } });
    const { ledger } = (await res.json()) as {
      ledger: {
        capped: boolean;
        requests: number;
        regions: { region: string; cappedDays: string[] }[];
        notice: string;
      };
    };
    expect(ledger.requests).toBe(5);
    expect(ledger.capped).toBe(true);
    expect(ledger.regions).toEqual([expect.objectContaining({ region: "MO", cappedDays: [day(1)] })]);
    expect(ledger.notice).toContain(
      "more customers than our records keep for one day sent requests from Macao",
    );
    const html = await (await call("/__region-gate/check", { token: key, cf: { country: "JP" } })).text();
    expect(html).toContain("capped on ");
  });
});
