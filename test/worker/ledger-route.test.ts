/**
 * `GET /__region-gate/exposure`: filters, JSON and CSV shapes, summary, errors. Rows are
 * written straight into the shards (the recorder is covered in ledger.test.ts).
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { ExposureRow } from "../../src/control/ledger/report";
import { type LedgerTuple, SHARDS, shardOf, shardStub } from "../../src/exposure/model";
import { adminFetch } from "./call";
import { exposure } from "./ledger-helpers";

const ORG = "openai-organization";
const tricky = 'Acme, "Inc"; a=b %';
const seed: LedgerTuple[] = [
  ["2024-07-08", "CN", "1111111111111111", JSON.stringify({ [ORG]: "org-a" }), "warn", 5, 1, []],
  ["2024-07-09", "CN", "1111111111111111", JSON.stringify({ [ORG]: "org-a" }), "block", 3, 1, []],
  ["2024-07-09", "CN", "1111111111111111", JSON.stringify({ [ORG]: "org-a" }), "exempt", 1, 1, []],
  ["2024-07-09", "CN", "2222222222222222", JSON.stringify({ [ORG]: tricky }), "block", 2, 1, []],
  ["2024-07-10", "CN", "anonymous", "{}", "block", 4],
  ["2024-07-09", "UA-43", "1111111111111111", JSON.stringify({ [ORG]: "org-a" }), "monitor", 6, 1, []],
];

beforeAll(async () => {
  const byShard = new Map<number, LedgerTuple[]>();
  for (const t of seed) byShard.set(shardOf(t[1]), [...(byShard.get(shardOf(t[1])) ?? []), t]);
  for (const [shard, tuples] of byShard) await shardStub(env, shard).record(`seed-${shard}`, tuples);
});

async function json<T>(query: string): Promise<T> {
  const res = await exposure(query);
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as T;
}

/** Minimal RFC 4180 reader, to check that the CSV splits back into the fields written. */
function parseCsv(text: string): string[][] {
  const field = /(?:"((?:[^"]|"")*)"|([^",\r\n]*))(,|\r\n)/y;
  const rows: string[][] = [];
  let row: string[] = [];
  while (field.lastIndex < text.length) {
    const m = field.exec(text);
    if (!m) throw new Error(`malformed CSV at offset ${field.lastIndex}`);
    row.push(m[1] !== undefined ? m[1].replaceAll('""', '"') : (m[2] ?? ""));
    if (m[3] === "\r\n") {
      rows.push(row);
      row = [];
    }
  }
  return rows;
}

describe("GET /__region-gate/exposure", () => {
  it("refuses a request without the admin token", async () => {
    const res = await adminFetch("/exposure", { token: null });
    expect(res.status).toBe(401);
  });

  it("returns one row per customer, region and day, with request and block counts, customer by customer", async () => {
    const { rows } = await json<{ rows: ExposureRow[] }>("");
    expect(rows).toHaveLength(5);
    expect(rows[1]).toEqual({
      day: "2024-07-09",
      region: "CN",
      fingerprint: "1111111111111111",
      identity: { [ORG]: "org-a" },
      requests: 4,
      blocked: 3,
      decisions: { observe: 0, warn: 0, block: 3, monitor: 0, exempt: 1 },
      verified: true,
      capped: false,
      networks: [],
    });
    // Read order: fingerprint, identity, region, day (SPEC section 7: pages never split a key).
    expect(rows.map((r) => `${r.day} ${r.region} ${r.fingerprint}`)).toEqual([
      "2024-07-08 CN 1111111111111111",
      "2024-07-09 CN 1111111111111111",
      "2024-07-09 UA-43 1111111111111111",
      "2024-07-09 CN 2222222222222222",
      "2024-07-10 CN anonymous",
    ]);
  });

  it("filters by inclusive days, region (any case) and decisions", async () => {
    const days = await json<{ rows: ExposureRow[] }>("from=2024-07-09&to=2024-07-09");
    expect(days.rows.map((r) => r.day)).toEqual(["2024-07-09", "2024-07-09", "2024-07-09"]);
    const ua = await json<{ rows: ExposureRow[] }>("region=ua-43");
    expect(ua.rows).toHaveLength(1);
    expect(ua.rows[0]).toMatchObject({ region: "UA-43", requests: 6, blocked: 0 });
    const wouldBlock = await json<{ rows: ExposureRow[] }>("decision=block,monitor&region=CN");
    expect(wouldBlock.rows.map((r) => [r.day, r.requests])).toEqual([
      ["2024-07-09", 3],
      ["2024-07-09", 2],
      ["2024-07-10", 4],
    ]);
  });

  it("summarises per region: distinct customers, requests, blocks, first and last day", async () => {
    const { summary } = await json<{ summary: unknown[] }>("summary=1");
    expect(summary).toEqual([
      // `anonymous` is a bucket, not a customer: two customers in CN.
      {
        region: "CN",
        customers: 2,
        requests: 15,
        blocked: 9,
        firstDay: "2024-07-08",
        lastDay: "2024-07-10",
        cappedDays: 0,
      },
      {
        region: "UA-43",
        customers: 1,
        requests: 6,
        blocked: 0,
        firstDay: "2024-07-09",
        lastDay: "2024-07-09",
        cappedDays: 0,
      },
    ]);
    const csv = await (await exposure("summary=1&format=csv&region=CN")).text();
    expect(csv).toBe(
      "region,customers,requests,blocked,firstDay,lastDay,cappedDays\r\nCN,2,15,9,2024-07-08,2024-07-10,0\r\n",
    );
  });

  it("writes CSV with a header row and escaped identity values that split back exactly", async () => {
    const res = await exposure("format=csv&region=CN&from=2024-07-09&to=2024-07-09");
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const table = parseCsv(await res.text());
    expect(table[0]).toEqual([
      "day",
      "region",
      "fingerprint",
      "identity",
      "requests",
      "blocked",
      "observe",
      "warn",
      "block",
      "monitor",
      "exempt",
      "verified",
      "capped",
      "networks",
    ]);
    expect(table).toHaveLength(3);
    const identity = table[2]?.[3] ?? "";
    const [name, value] = identity.split("=", 2) as [string, string];
    expect(name).toBe(ORG);
    expect(decodeURIComponent(identity.slice(name.length + 1))).toBe(tricky);
    expect(value).not.toContain(";");
    expect(table[2]?.slice(4)).toEqual(["2", "2", "0", "0", "2", "0", "0", "yes", "no", ""]);
  });

  it("reports per-shard rows and flushes received in the last hour", async () => {
    const res = await adminFetch("/exposure/stats");
    const body = (await res.json()) as { shards: { shard: number; rows: number; flushesLastHour: number }[] };
    expect(body.shards).toHaveLength(SHARDS);
    const cn = body.shards[shardOf("CN")];
    expect(cn).toMatchObject({
      rows: seed.filter((t) => shardOf(t[1]) === shardOf("CN")).length,
      flushesLastHour: 1,
    });
    expect(body.shards.reduce((sum, s) => sum + s.rows, 0)).toBe(seed.length);
  });

  it.each([
    ["from=2024-7-9", "from"],
    ["to=2024-02-30", "to"],
    ["from=2024-07-10&to=2024-07-09", "from"],
    ["region=China", "region"],
    ["decision=pass", "decision"],
    ["format=xml", "format"],
    ["summary=yes", "summary"],
    ["limit=0", "limit"],
    ["limit=10001", "limit"],
    ["limit=7.5", "limit"],
    ["cursor=not-a-cursor", "cursor"],
  ])("answers 400 naming the parameter for %s", async (query, param) => {
    const res = await exposure(query);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; code: string; message: string } };
    expect(body.error).toMatchObject({ param, code: "invalid_exposure_query" });
    expect(body.error.message).toMatch(/use|swap|must/);
  });
});
