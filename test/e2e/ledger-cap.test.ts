/**
 * A client cannot inflate the ledger (SPEC section 6): with EXPOSURE_MAX_CUSTOMERS lowered
 * to 20, a CN client sending 60 random keys and orgs leaves 20 customer rows plus one
 * `overflow` row per (day, region), and every total still equals what was sent. The built
 * bundle under miniflare, real Durable Objects, a real origin.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { startGate, startOrigin, TEST_ADMIN_TOKEN, type TestGate, type TestOrigin } from "./harness";

const ORG = "openai-organization";
const CAP = 20;
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

let origin: TestOrigin;
let gate: TestGate;

beforeAll(async () => {
  origin = await startOrigin();
  gate = await startGate({
    originUrl: origin.url,
    policy: livePolicy({ identity: { headers: [ORG] } }),
    bindings: { EXPOSURE_FLUSH_SECONDS: "0.2", EXPOSURE_MAX_CUSTOMERS: String(CAP) },
  });
});

afterAll(async () => {
  await gate?.dispose();
  await origin?.close();
});

interface Row {
  day: string;
  region: string;
  fingerprint: string;
  identity: Record<string, string>;
  requests: number;
}

async function rows(query: string): Promise<Row[]> {
  const res = await fetch(`${gate.url}/__region-gate/exposure?${query}`, { headers: admin });
  expect(res.status).toBe(200);
  return ((await res.json()) as { rows: Row[] }).rows;
}

async function send(country: string, headers: Record<string, string>): Promise<void> {
  const res = await gate.fetch("/v1/chat/completions", {
    method: "POST",
    body: "{}",
    headers,
    cf: { country },
  });
  await res.arrayBuffer();
}

/** Waits (bounded) until the report holds `total` requests for the query. */
async function landed(query: string, total: number): Promise<Row[]> {
  let got: Row[] = [];
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
    got = await rows(query);
    if (got.reduce((n, r) => n + r.requests, 0) >= total) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return got;
}

describe("ledger cap per day and region", () => {
  it(`keeps ${CAP} customers and one overflow row; totals are exact`, async () => {
    // A keyless customer first (kept), then 60 random keys with random orgs, a few per flush.
    await send("CN", { [ORG]: "org-stay" });
    await landed("region=CN", 1);
    let sent = 1;
    for (let round = 0; round < 6; round++) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < 10; i++) {
        const n = round * 10 + i;
        batch.push(
          send("CN", { authorization: `Bearer sk-random-${n}-${Math.random()}`, [ORG]: `org-${n}` }),
        );
      }
      await Promise.all(batch);
      sent += 10;
      await landed("region=CN", sent); // one flush per round: the cap holds across batches
    }
    // A kept customer goes on counting under its own row, past the cap.
    await send("CN", { [ORG]: "org-stay" });
    sent++;

    const cn = await landed("region=CN", sent);
    expect(cn.reduce((n, r) => n + r.requests, 0)).toBe(sent);
    const days = new Set(cn.map((r) => r.day));
    const overflow = cn.filter((r) => r.fingerprint === "overflow");
    expect(overflow).toHaveLength(days.size);
    for (const o of overflow) expect(o.identity).toEqual({});
    for (const day of days) {
      expect(cn.filter((r) => r.day === day && r.fingerprint !== "overflow").length).toBeLessThanOrEqual(CAP);
    }
    if (days.size === 1) {
      // The run did not cross UTC midnight: exactly the cap, then the overflow bucket.
      expect(cn).toHaveLength(CAP + 1);
      expect(overflow[0]?.requests).toBe(sent - 2 - (CAP - 1));
      expect(cn.find((r) => r.identity[ORG] === "org-stay")?.requests).toBe(2);
    }

    // Another region has its own allowance.
    await send("RU", { [ORG]: "org-ru" });
    expect(await landed("region=RU", 1)).toMatchObject([
      { fingerprint: "anonymous", identity: { [ORG]: "org-ru" } },
    ]);
  });

  it("records identity values outside visible ASCII as invalid", async () => {
    await send("VE", { [ORG]: "caf\u00e9" });
    await send("VE", { [ORG]: "tab\there" });
    const ve = await landed("region=VE", 2);
    expect(ve).toMatchObject([{ identity: { [ORG]: "invalid" }, requests: 2 }]);
  });
});
