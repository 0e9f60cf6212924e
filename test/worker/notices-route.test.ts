/**
 * `GET /__region-gate/exposure/notices` over a ledger of a few hundred customers (more rows
 * than one ledger read returns): pages of 7 notices add up to exactly the unpaged set, no
 * customer twice, no notice split; and the route's errors. Rows are written straight into
 * the shards.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { Notice } from "../../src/control/notices/notices";
import { type LedgerTuple, shardOf, shardStub } from "../../src/exposure/model";
import { specPolicy } from "../fixtures/policies";
import { adminFetch } from "./call";

const ORG = "openai-organization";
const CUSTOMERS = 260;
const REGIONS = ["CN", "RU", "VE", "UA-43"];
const DAYS = ["2024-07-01", "2024-07-02"];

/** Customer i: fingerprint i in hex, with an org for every third; regions and days by i. */
function seedRows(): LedgerTuple[] {
  const out: LedgerTuple[] = [];
  for (let i = 0; i < CUSTOMERS; i++) {
    const fp = i.toString(16).padStart(16, "0");
    const identity = i % 3 === 0 ? JSON.stringify({ [ORG]: `org-${i}` }) : "{}";
    for (const [r, region] of REGIONS.entries()) {
      if ((i + r) % 2 === 1 && r > 0) continue;
      for (const day of DAYS) out.push([day, region, fp, identity, "warn", 1 + ((i + r) % 5), 1, []]);
    }
  }
  // Buckets and a key never accepted by the origin: rows, but never a notice.
  for (const day of DAYS) {
    out.push([day, "CN", "anonymous", "{}", "block", 40, 0, []]);
    out.push([day, "CN", "ffffffffffffffff", "{}", "block", 9, 0, []]);
  }
  return out;
}
const CUSTOMER_ROWS = (t: LedgerTuple) => t[6] === 1;
const SEED = seedRows();

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(specPolicy()));
  const byShard = new Map<number, LedgerTuple[]>();
  for (const t of SEED) byShard.set(shardOf(t[1]), [...(byShard.get(shardOf(t[1])) ?? []), t]);
  for (const [shard, tuples] of byShard) {
    for (let i = 0; i < tuples.length; i += 500)
      await shardStub(env, shard).record(`notices-seed-${shard}-${i}`, tuples.slice(i, i + 500));
  }
});

const get = (query: string) => adminFetch(`/exposure/notices?${query}`);

interface Page {
  notices: Notice[];
  next: string | null;
}

describe("GET /exposure/notices", () => {
  // 38 page reads over 1,500 rows: seconds alone, much longer on a loaded machine.
  it("pages of 7 add up to exactly the unpaged set, no customer twice or split", {
    timeout: 60_000,
  }, async () => {
    expect(SEED.length).toBeGreaterThan(1000);
    const whole = (await (await get("limit=1000")).json()) as Page;
    expect(whole.next).toBeNull();
    expect(whole.notices).toHaveLength(CUSTOMERS);
    const paged: Notice[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      expect(page.notices.length).toBe(page.next === null ? CUSTOMERS % 7 || 7 : 7);
      paged.push(...page.notices);
      cursor = page.next;
      pages++;
    } while (cursor !== null && pages < 100);
    expect(pages).toBe(Math.ceil(CUSTOMERS / 7));
    expect(paged).toEqual(whole.notices);
    const keys = paged.map((n) => n.fingerprint);
    expect(new Set(keys).size).toBe(CUSTOMERS);
    expect(keys).not.toContain("anonymous");
    expect(keys).not.toContain("unverified");
    // Every customer row of the seed is in its customer's notice, once.
    const requests = SEED.filter(CUSTOMER_ROWS).reduce((s, t) => s + t[5], 0);
    expect(paged.reduce((s, n) => s + n.requests, 0)).toBe(requests);
    for (const n of paged) {
      const mine = SEED.filter((t) => t[2] === n.fingerprint);
      expect(n.regions.map((r) => r.region)).toEqual([...new Set(mine.map((t) => t[1]))].sort());
      expect(n.regions.every((r) => r.days === 2 && r.firstDay === DAYS[0] && r.lastDay === DAYS[1])).toBe(
        true,
      );
    }
  });

  it("a region filter gives that region's notices only; csv and md pages carry Link rel=next", async () => {
    const ve = (await (await get("region=VE&limit=1000")).json()) as Page;
    expect(ve.notices.length).toBe(new Set(SEED.filter((t) => t[1] === "VE").map((t) => t[2])).size);
    expect(ve.notices.every((n) => n.regions.length === 1 && n.regions[0]!.region === "VE")).toBe(true);
    for (const format of ["csv", "md"]) {
      const res = await get(`format=${format}&limit=5`);
      expect(res.status).toBe(200);
      expect(res.headers.get("link")).toMatch(
        /^<\/__region-gate\/exposure\/notices\?.*cursor=[\w-]+>; rel="next"$/,
      );
    }
  });

  it("names the self-check on the API's hostname: api= when given, else the host it was called on", async () => {
    const own = (await (await get("limit=1")).json()) as {
      meta: { checkUrl: string; contact: string | null };
    };
    expect(own.meta).toMatchObject({ checkUrl: "https://gate.test/__region-gate/check", contact: null });
    const md = await (
      await get("format=md&limit=1&api=https://api.example.com/v1&contact=support@example.com")
    ).text();
    expect(md).toContain("https://api.example.com/__region-gate/check");
    expect(md).toContain("contact us at support@example.com");
  });

  it.each([
    ["format=xml", "format"],
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=abc", "limit"],
    ["from=2024-13-01", "from"],
    ["region=china", "region"],
    ["cursor=%00", "cursor"],
    ["cursor=AAAA", "cursor"],
    ["api=ftp://api.example.com", "api"],
    ["api=https://user:pw@api.example.com", "api"],
    ["contact=caf%C3%A9", "contact"],
  ])("answers 400 to %s, naming %s", async (query, param) => {
    const res = await get(query);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; message: string } };
    expect(body.error.param).toBe(param);
  });
});
