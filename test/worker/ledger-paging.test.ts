/**
 * Paged reads of `GET /__region-gate/exposure` (SPEC section 7): pages of 7 over a few
 * hundred rows in many shards add up to exactly the unpaged set, each row once, in order;
 * CSV pages link to the next one. Rows are written straight into the shards.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { readExposure, readFingerprintGroups } from "../../src/control/ledger/client";
import { type ExposureRow, IDENTITY_NOTE, toRow } from "../../src/control/ledger/report";
import { type LedgerTuple, shardOf, shardStub } from "../../src/exposure/model";
import { exposure } from "./ledger-helpers";

// A year no other test writes, so the set is exactly what this file seeded.
const RANGE = "from=2023-03-01&to=2023-03-31";
const REGIONS = ["CN", "RU", "IR", "UA-43", "KP", "SY", "CU", "BY", "VE", "MM"];
const FPS = Array.from({ length: 12 }, (_, i) => (i * 0x1111).toString(16).padStart(16, "f"));
const seed: LedgerTuple[] = [];
let i = 0;
for (const region of REGIONS) {
  for (const fp of FPS) {
    for (const day of ["2023-03-01", "2023-03-02", "2023-03-05"]) {
      const org = JSON.stringify({ "openai-organization": `org-${i % 3}` });
      seed.push([day, region, fp, org, "warn", 1 + (i % 4), 1, []]);
      if (i % 5 === 0) seed.push([day, region, fp, org, "block", 2, 1, []]); // two decisions, one row
      i++;
    }
  }
}
const key = (r: ExposureRow) => JSON.stringify([r.fingerprint, r.identity, r.region, r.day]);

beforeAll(async () => {
  const byShard = new Map<number, LedgerTuple[]>();
  for (const t of seed) byShard.set(shardOf(t[1]), [...(byShard.get(shardOf(t[1])) ?? []), t]);
  await Promise.all([...byShard].map(([s, tuples]) => shardStub(env, s).record(`paging-${s}`, tuples)));
});

async function page(
  query: string,
): Promise<{ rows: ExposureRow[]; next: string | null; identityNote: string }> {
  const res = await exposure(query);
  expect(res.status).toBe(200);
  return (await res.json()) as { rows: ExposureRow[]; next: string | null; identityNote: string };
}

describe("paged exposure reads", () => {
  it("pages of 7 add up to exactly the unpaged set, no row twice, in the read order", async () => {
    const all = await page(`${RANGE}&limit=10000`);
    expect(all.next).toBeNull();
    expect(all.identityNote).toBe(IDENTITY_NOTE);
    expect(all.rows).toHaveLength(360);
    expect(all.rows.reduce((n, r) => n + r.requests, 0)).toBe(seed.reduce((n, t) => n + t[5], 0));

    const paged: ExposureRow[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const p = await page(`${RANGE}&limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      expect(p.rows.length).toBeLessThanOrEqual(7);
      if (p.next !== null) expect(p.rows).toHaveLength(7);
      paged.push(...p.rows);
      cursor = p.next;
      pages++;
    } while (cursor !== null && pages < 1000);
    expect(pages).toBe(Math.ceil(all.rows.length / 7));
    expect(new Set(paged.map(key)).size).toBe(paged.length);
    expect(paged).toEqual(all.rows);
  });

  it("defaults to 1000 rows a page and pages a region the same way", async () => {
    expect((await page(RANGE)).rows).toHaveLength(
      Math.min(1000, (await page(`${RANGE}&limit=10000`)).rows.length),
    );
    const cn = await page(`${RANGE}&region=CN&limit=10000`);
    const first = await page(`${RANGE}&region=CN&limit=7`);
    const second = await page(`${RANGE}&region=CN&limit=7&cursor=${first.next}`);
    expect([...first.rows, ...second.rows]).toEqual(cn.rows.slice(0, 14));
  });

  it("CSV pages carry Link rel=next while more remain, and the note on identity values", async () => {
    const texts: string[] = [];
    let url: string | null = `${RANGE}&format=csv&limit=50`;
    while (url !== null) {
      const res = await exposure(url);
      expect(res.headers.get("x-identity-note")).toBe(IDENTITY_NOTE);
      texts.push(await res.text());
      const link = res.headers.get("link");
      const m = link ? /^<([^>]+)>; rel="next"$/.exec(link) : null;
      url = m ? (new URL(m[1] as string, "https://gate.test").searchParams.toString() as string) : null;
    }
    const whole = await (await exposure(`${RANGE}&format=csv&limit=10000`)).text();
    const [header, ...firstRows] = (texts[0] as string).split("\r\n");
    const rest = texts.slice(1).flatMap((t) => t.split("\r\n").slice(1));
    expect([header, ...firstRows, ...rest].filter(Boolean).join("\r\n")).toBe(whole.trimEnd());
    expect(texts.length).toBe(Math.ceil((whole.split("\r\n").length - 2) / 50));
  });

  it("reads one fingerprint's rows from every region", async () => {
    const fp = FPS[3] as string;
    const { groups } = await readFingerprintGroups(env, fp, { from: "2023-03-01", to: "2023-03-31" });
    const rows = groups.map(toRow);
    const all = (await readExposure(env, { from: "2023-03-01", to: "2023-03-31" }, { limit: 10_000 })).rows;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows).toEqual(all.filter((r) => r.fingerprint === fp));
  });
});
