import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ExposureRow } from "../../src/control/ledger/report";
import { type LedgerTuple, shardOf, shardStub, utcDay } from "../../src/exposure/model";
import { exposureStats, flushExposure } from "../../src/gate/recorder";
import { fingerprint } from "../../src/platform/fingerprint";
import { livePolicy } from "../fixtures/policies";
import { dumpAllShards, exposure, SALT, send, settle, settleAndFlush } from "./ledger-helpers";

const ORG = "openai-organization";
const KEYS = [
  "sk-live-alpha-0000000000000001",
  "sk-live-bravo-0000000000000002",
  "sk-live-charlie-000000000003",
];
const today = utcDay(Date.now());
const zero = { observe: 0, warn: 0, block: 0, monitor: 0, exempt: 0 };

beforeAll(async () => {
  await env.POLICY.put(
    "policy",
    JSON.stringify(livePolicy({ identity: { headers: [ORG, "openai-project"] } })),
  );
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function rows(query: string): Promise<ExposureRow[]> {
  const res = await exposure(query);
  expect(res.status).toBe(200);
  return ((await res.json()) as { rows: ExposureRow[] }).rows;
}

describe("exposure ledger", () => {
  it("counts CN traffic once per key, org header and decision, exactly", async () => {
    const since = exposureStats().recordedEvents;
    const expected: ExposureRow[] = [];
    let sent = 0;
    for (const [k, key] of KEYS.entries()) {
      for (const [o, org] of ["org-a", "org-b"].entries()) {
        const n = 1 + k * 2 + o; // 1..6 requests per (key, org)
        for (let i = 0; i < n; i++) {
          expect(await send("CN", { authorization: `Bearer ${key}`, [ORG]: org })).toBe(403);
        }
        sent += n;
        expected.push({
          day: today,
          region: "CN",
          fingerprint: await fingerprint(SALT, key),
          identity: { [ORG]: org },
          requests: n,
          blocked: n,
          decisions: { ...zero, block: n },
        });
      }
    }
    for (let i = 0; i < 3; i++) expect(await send("CN", { [ORG]: "org-a" })).toBe(403);
    expect(await send("CN")).toBe(403);
    sent += 4;
    expected.push(
      {
        day: today,
        region: "CN",
        fingerprint: "anonymous",
        identity: { [ORG]: "org-a" },
        requests: 3,
        blocked: 3,
        decisions: { ...zero, block: 3 },
      },
      {
        day: today,
        region: "CN",
        fingerprint: "anonymous",
        identity: {},
        requests: 1,
        blocked: 1,
        decisions: { ...zero, block: 1 },
      },
    );
    await settleAndFlush(since, sent);

    const got = await rows("region=CN");
    const order = (r: ExposureRow) => `${r.fingerprint} ${JSON.stringify(r.identity)}`;
    expect(got).toEqual(expected.sort((a, b) => (order(a) < order(b) ? -1 : 1)));
  });

  it("records warn and observe decisions under their region, and nothing for JP", async () => {
    const since = exposureStats().recordedEvents;
    const key = { authorization: `Bearer ${KEYS[0]}` };
    for (let i = 0; i < 5; i++) expect(await send("JP", key)).toBe(200);
    expect(await send("VE", key)).toBe(200);
    expect(await send("BY", key)).toBe(200);
    await settleAndFlush(since, 2);
    expect(exposureStats().recordedEvents - since).toBe(2);

    expect(await rows("region=JP")).toEqual([]);
    const fp = await fingerprint(SALT, KEYS[0]!);
    expect(await rows("region=VE")).toEqual([
      {
        day: today,
        region: "VE",
        fingerprint: fp,
        identity: {},
        requests: 1,
        blocked: 0,
        decisions: { ...zero, warn: 1 },
      },
    ]);
    expect((await rows("region=BY"))[0]?.decisions).toEqual({ ...zero, observe: 1 });
    const all = await rows("");
    expect(all.some((r) => r.region === "JP")).toBe(false);
  });

  it("stores and logs keys only as fingerprints", async () => {
    const secret = "sk-secret-must-never-be-stored-7f3a9c";
    const logged: unknown[] = [];
    for (const m of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
        logged.push(...args);
      });
    }
    const since = exposureStats().recordedEvents;
    for (const country of ["CN", "RU", "VE", "BY"]) {
      expect([200, 403]).toContain(
        await send(country, { authorization: `Bearer ${secret}`, [ORG]: "org-secret" }),
      );
    }
    await settleAndFlush(since, 4);

    const stored = await dumpAllShards();
    expect(stored).toContain(await fingerprint(SALT, secret));
    expect(stored).toContain("org-secret");
    expect(stored).not.toContain(secret);
    for (const format of ["json", "csv"]) {
      const body = await (await exposure(`format=${format}`)).text();
      expect(body).toContain("org-secret");
      expect(body).not.toContain(secret);
    }
    expect(JSON.stringify(logged)).not.toContain(secret);
  });

  it("loses nothing when flushes run concurrently with requests and with each other", {
    timeout: 30_000,
  }, async () => {
    const since = exposureStats().recordedEvents;
    const sends: Promise<number>[] = [];
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 120; i++) {
      sends.push(send("KP", { authorization: `Bearer ${KEYS[i % 3]}`, [ORG]: `org-${i % 4}` }));
      if (i % 10 === 0) flushes.push(flushExposure(env));
    }
    expect(new Set(await Promise.all(sends))).toEqual(new Set([403]));
    await Promise.all(flushes);
    await settleAndFlush(since, 120);
    const got = await rows("region=KP");
    expect(got.reduce((sum, r) => sum + r.requests, 0)).toBe(120);
    expect(got).toHaveLength(12); // 3 keys × 4 orgs, all combinations (i mod 3, i mod 4)

    // Many isolates flushing to one shard at once: each RPC is one atomic transaction.
    const stub = () => shardStub(env, shardOf("SY"));
    const tuple: LedgerTuple = [today, "SY", "aaaaaaaaaaaaaaaa", "{}", "block", 1];
    await Promise.all(Array.from({ length: 50 }, (_, i) => stub().record(`concurrent-${i}`, [tuple])));
    expect((await rows("region=SY"))[0]?.requests).toBe(50);
  });

  it("applies a retried batch once", async () => {
    const stub = shardStub(env, shardOf("CU"));
    const batch: LedgerTuple[] = [[today, "CU", "bbbbbbbbbbbbbbbb", "{}", "block", 7]];
    expect((await stub.record("same-batch", batch)).applied).toBe(true);
    expect((await stub.record("same-batch", batch)).applied).toBe(false);
    expect((await rows("region=CU"))[0]?.requests).toBe(7);
  });

  it("retention alarm deletes days past EXPOSURE_RETENTION_DAYS and keeps recent ones", async () => {
    const day = (ago: number) => utcDay(Date.now() - ago * 86_400_000);
    const stub = shardStub(env, shardOf("IR"));
    const tuples: LedgerTuple[] = [0, 1, 399, 400, 401, 1000].map((ago) => [
      day(ago),
      "IR",
      "cccccccccccccccc",
      "{}",
      "observe",
      1,
    ]);
    await stub.record("retention-batch", tuples);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).not.toBeNull();

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await rows("region=IR")).map((r) => r.day)).toEqual([day(400), day(399), day(1), day(0)]);
    // Re-armed for the next day while rows remain.
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).not.toBeNull();
  });

  it("forgets batch ids after an hour, so the dedup table stays small", async () => {
    const stub = shardStub(env, shardOf("IR"));
    await stub.record("old-batch", [[today, "IR", "dddddddddddddddd", "{}", "block", 1]]);
    await stub.record("new-batch", [[today, "IR", "dddddddddddddddd", "{}", "block", 1]]);
    const ids = () =>
      runInDurableObject(stub, (_, state) =>
        state.storage.sql
          .exec<{ id: string }>("SELECT id FROM batches")
          .toArray()
          .map((r) => r.id),
      );
    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec("UPDATE batches SET at = ? WHERE id = 'old-batch'", Date.now() - 61 * 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await ids()).not.toContain("old-batch");
    expect(await ids()).toContain("new-batch");
  });

  it("waits for nothing on the request path: the count lands only on flush", async () => {
    const since = exposureStats().recordedEvents;
    expect(await send("MM")).toBe(403);
    await settle(since, 1);
    expect(await rows("region=MM")).toEqual([]);
    await flushExposure(env);
    expect((await rows("region=MM"))[0]?.requests).toBe(1);
  });
});
