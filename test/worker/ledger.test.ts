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

/** A report row as the ledger answers it, for `toEqual`. */
function row(
  fingerprint: string,
  region: string,
  identity: Record<string, string>,
  d: Partial<typeof zero>,
  over: Partial<ExposureRow> = {},
): ExposureRow {
  const decisions = { ...zero, ...d };
  return {
    day: today,
    region,
    fingerprint,
    identity,
    requests: Object.values(decisions).reduce((a, b) => a + b, 0),
    blocked: decisions.block,
    decisions,
    verified: !["anonymous", "unverified", "overflow"].includes(fingerprint),
    capped: false,
    networks: [],
    ...over,
  };
}

/** Rows in the ledger's read order (fingerprint, then identity JSON, by code point). */
const inReadOrder = (list: ExposureRow[]) =>
  list.sort((a, b) => {
    const x = `${a.fingerprint}\u0000${JSON.stringify(a.identity)}`;
    const y = `${b.fingerprint}\u0000${JSON.stringify(b.identity)}`;
    return x < y ? -1 : x > y ? 1 : 0;
  });

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe("exposure ledger", () => {
  it("counts a key under its fingerprint only for requests the origin accepted (issue 20, finding 1)", async () => {
    const since = exposureStats().recordedEvents;
    const fp = await fingerprint(SALT, KEYS[0]!);
    // Accepted by the origin (VE is in its warn window: forwarded), with identity values.
    for (let i = 0; i < 3; i++) expect(await send("VE", { ...bearer(KEYS[0]!), [ORG]: "org-a" })).toBe(200);
    // Refused by the origin (401, 403), failed (500), or never forwarded: not verified.
    expect(await send("VE", { ...bearer(KEYS[1]!), [ORG]: "org-x", "x-test-origin-status": "401" })).toBe(
      401,
    );
    expect(await send("VE", { ...bearer(KEYS[1]!), [ORG]: "org-y", "x-test-origin-status": "403" })).toBe(
      403,
    );
    expect(await send("VE", { ...bearer(KEYS[1]!), "x-test-origin-status": "503" })).toBe(503);
    expect(await send("CN", { ...bearer(KEYS[1]!), [ORG]: "org-z" })).toBe(403);
    // Without a key: anonymous, identity values dropped.
    expect(await send("VE", { [ORG]: "org-anon" })).toBe(200);
    await settleAndFlush(since, 8);

    expect(await rows("region=VE")).toEqual(
      inReadOrder([
        row(fp, "VE", { [ORG]: "org-a" }, { warn: 3 }),
        row("anonymous", "VE", {}, { warn: 1 }),
        row("unverified", "VE", {}, { warn: 3 }),
      ]),
    );
    expect(await rows("region=CN")).toContainEqual(row("unverified", "CN", {}, { block: 1 }));
    expect((await rows("region=CN")).some((r) => r.fingerprint === (fp as string))).toBe(false);
  });

  it("a key the origin accepted for a code counts under it when blocked later, without identity", async () => {
    const since = exposureStats().recordedEvents;
    const key = "sk-live-verified-for-by-000007";
    const fp = await fingerprint(SALT, key);
    // BY is observed (forwarded): 404 is still an answer below 500, not 401/403: accepted.
    expect(await send("BY", { ...bearer(key), [ORG]: "org-b", "x-test-origin-status": "404" })).toBe(404);
    await settleAndFlush(since, 1);
    // Now refused by the origin: counts under the key (verified for BY), identity values dropped.
    expect(await send("BY", { ...bearer(key), [ORG]: "org-b", "x-test-origin-status": "401" })).toBe(401);
    // Another code: not verified there.
    expect(await send("CN", bearer(key))).toBe(403);
    await settleAndFlush(since, 3);
    expect(await rows("region=BY")).toEqual(
      inReadOrder([row(fp, "BY", {}, { observe: 1 }), row(fp, "BY", { [ORG]: "org-b" }, { observe: 1 })]),
    );
    expect((await rows("region=CN")).some((r) => r.fingerprint === fp)).toBe(false);
  });

  it("keeps 8 identities per fingerprint and day; more count under {} (and bad values as invalid)", async () => {
    const since = exposureStats().recordedEvents;
    const key = "sk-live-many-orgs-0000000000009";
    const fp = await fingerprint(SALT, key);
    for (let i = 0; i < 8; i++) expect(await send("KP", { ...bearer(key), [ORG]: `org-${i}` }, {})).toBe(403);
    await settleAndFlush(since, 8); // blocked: unverified, all under `unverified`
    expect((await rows("region=KP")).map((r) => r.fingerprint)).toEqual(["unverified"]);

    const before = exposureStats().recordedEvents;
    for (let i = 0; i < 12; i++) expect(await send("VE", { ...bearer(key), [ORG]: `org-${i}` })).toBe(200);
    expect(await send("VE", { ...bearer(key), [ORG]: "Acme Corp [verify](https://evil.example)" })).toBe(200);
    await settleAndFlush(before, 13);
    const mine = (await rows("region=VE")).filter((r) => r.fingerprint === fp);
    expect(mine.reduce((n, r) => n + r.requests, 0)).toBe(13);
    const identities = mine.map((r) => JSON.stringify(r.identity));
    expect(identities).toHaveLength(9);
    expect(identities).toContain("{}");
    expect(mine.find((r) => JSON.stringify(r.identity) === "{}")?.requests).toBe(13 - 8);
  });

  it("keeps each row's networks: names printable, the first five by number, the rest as other", async () => {
    const since = exposureStats().recordedEvents;
    const key = "sk-live-networks-000000000011";
    const fp = await fingerprint(SALT, key);
    const asns = [16509, 15169, 8075, 13335, 7922, 3320, 4134];
    for (const [i, asn] of asns.entries()) {
      for (let k = 0; k <= i; k++) {
        expect(await send("VE", bearer(key), { asn, asOrganization: `Net\u00e9 ${asn}\u0007` })).toBe(200);
      }
    }
    await settleAndFlush(since, 28);
    const [mine] = (await rows("region=VE")).filter((r) => r.fingerprint === fp);
    expect(mine?.requests).toBe(28);
    expect(mine?.networks).toEqual(
      [
        { network: "AS13335", name: "Net 13335", class: null, requests: 4 },
        { network: "AS8075", name: "Net 8075", class: null, requests: 3 },
        { network: "AS15169", name: "Net 15169", class: null, requests: 2 },
        { network: "AS16509", name: "Net 16509", class: null, requests: 1 },
        { network: "AS7922", name: "Net 7922", class: null, requests: 5 },
        { network: "other", name: null, class: null, requests: 13 },
      ].sort((a, b) => (a.network === "other" ? 1 : b.network === "other" ? -1 : b.requests - a.requests)),
    );
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
    // (VE and BY are forwarded and accepted: the key is verified there, its identity kept.)
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
      sends.push(send("BY", { authorization: `Bearer ${KEYS[i % 3]}`, [ORG]: `org-${i % 4}` }));
      if (i % 10 === 0) flushes.push(flushExposure(env));
    }
    expect(new Set(await Promise.all(sends))).toEqual(new Set([200]));
    await Promise.all(flushes);
    await settleAndFlush(since, 120);
    const fps = await Promise.all(KEYS.map((k) => fingerprint(SALT, k)));
    const got = (await rows("region=BY")).filter((r) => fps.includes(r.fingerprint));
    expect(got.reduce((sum, r) => sum + r.requests, 0)).toBe(120);
    expect(got).toHaveLength(12); // 3 keys × 4 orgs, all combinations (i mod 3, i mod 4)

    // Many isolates flushing to one shard at once: each RPC is one atomic transaction.
    const stub = () => shardStub(env, shardOf("SY"));
    const tuple: LedgerTuple = [today, "SY", "aaaaaaaaaaaaaaaa", "{}", "block", 1, 1, []];
    await Promise.all(Array.from({ length: 50 }, (_, i) => stub().record(`concurrent-${i}`, [tuple])));
    expect((await rows("region=SY"))[0]?.requests).toBe(50);
  });

  it("applies a retried batch once", async () => {
    const stub = shardStub(env, shardOf("CU"));
    const batch: LedgerTuple[] = [[today, "CU", "bbbbbbbbbbbbbbbb", "{}", "block", 7, 1, []]];
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
      1,
      [[16509, 1, "Amazon.com", ""]],
    ]);
    await stub.record("retention-batch", tuples);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).not.toBeNull();

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await rows("region=IR")).map((r) => r.day)).toEqual([day(400), day(399), day(1), day(0)]);
    // The days' networks and verification go with them.
    const left = await runInDurableObject(stub, (_, state) => ({
      networks: state.storage.sql
        .exec("SELECT day FROM exposure_networks WHERE region = 'IR' ORDER BY day")
        .toArray()
        .map((r) => r.day),
      verified: state.storage.sql
        .exec("SELECT day FROM verified WHERE region = 'IR' ORDER BY day")
        .toArray()
        .map((r) => r.day),
    }));
    expect(left).toEqual({
      networks: [day(400), day(399), day(1), day(0)],
      verified: [day(400), day(399), day(1), day(0)],
    });
    // Re-armed for the next day while rows remain.
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).not.toBeNull();
  });

  it("forgets batch ids after an hour, so the dedup table stays small", async () => {
    const stub = shardStub(env, shardOf("IR"));
    await stub.record("old-batch", [[today, "IR", "dddddddddddddddd", "{}", "block", 1, 1, []]]);
    await stub.record("new-batch", [[today, "IR", "dddddddddddddddd", "{}", "block", 1, 1, []]]);
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
