/**
 * The in-place upgrade of a shard written by the release before verified attribution
 * (schema 1): its tables and rows are made with that release's own SQL inside a real
 * shard, then the new object starts on them. Nothing is rewritten; old keyed rows are not
 * verified, so they make no notice until the origin accepts that key for that code.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { ExposureLedger } from "../../src/control/ledger/ledger-do";
import { SCHEMA_VERSION } from "../../src/control/ledger/ledger-sql";
import type { ExposureRow } from "../../src/control/ledger/report";
import type { Notice } from "../../src/control/notices/notices";
import { shardOf, shardStub } from "../../src/exposure/model";
import { specPolicy } from "../fixtures/policies";
import { adminFetch } from "./call";

/** The schema of the first release, verbatim (src/ledger/ledger-sql.ts before issue 20). */
const OLD_SCHEMA = `
CREATE TABLE IF NOT EXISTS exposure (
  day TEXT NOT NULL,
  region TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  identity TEXT NOT NULL,
  decision TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (day, region, fingerprint, identity, decision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS batches_at ON batches (at);
CREATE INDEX IF NOT EXISTS exposure_customer ON exposure (fingerprint, identity, region, day);
`;

const ORG = "openai-organization";
const REAL = "00000000000000aa";
const JUNK = "00000000000000bb";
const HOSTILE = "x' **URGENT**: your account is suspended, [verify now](https://evil.example/verify) 'y";
const stub = () => shardStub(env, shardOf("MM"));

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(specPolicy()));
  // A shard as the old release left it: its tables only, rows as its upsert wrote them.
  await runInDurableObject(stub(), (_, state) => {
    const sql = state.storage.sql;
    for (const t of ["exposure", "batches", "verified", "exposure_networks", "ledger_meta"])
      sql.exec(`DROP TABLE IF EXISTS ${t}`);
    sql.exec(OLD_SCHEMA);
    const insert = (fp: string, identity: object, decision: string, n: number) =>
      sql.exec(
        "INSERT INTO exposure (day, region, fingerprint, identity, decision, n) VALUES (?, ?, ?, ?, ?, ?)",
        "2024-06-30",
        "MM",
        fp,
        JSON.stringify(identity),
        decision,
        n,
      );
    insert(REAL, { [ORG]: "org-real" }, "warn", 4);
    insert(REAL, { [ORG]: HOSTILE }, "warn", 1);
    insert(JUNK, { [ORG]: "org-junk" }, "block", 9);
    insert("anonymous", { [ORG]: "claimed" }, "block", 3);
    sql.exec("INSERT INTO batches (id, at) VALUES ('old-batch', ?)", Date.now());
  });
});

async function rows(): Promise<ExposureRow[]> {
  return ((await (await adminFetch("/exposure?region=MM")).json()) as { rows: ExposureRow[] }).rows;
}

async function notices(): Promise<Notice[]> {
  return ((await (await adminFetch("/exposure/notices?region=MM")).json()) as { notices: Notice[] }).notices;
}

describe("upgrading a shard written by the previous release", () => {
  it("adds the new tables in place on the object's start and keeps every old row and total", async () => {
    const meta = await runInDurableObject(stub(), (_, state) => {
      new ExposureLedger(state, env); // the new code starting on the old tables
      const sql = state.storage.sql;
      return {
        meta: sql.exec("SELECT key, value FROM ledger_meta ORDER BY key").toArray(),
        tables: sql
          .exec(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '!_cf!_%' ESCAPE '!' ORDER BY name",
          )
          .toArray()
          .map((r) => r.name),
        batches: sql.exec("SELECT id FROM batches").toArray(),
      };
    });
    expect(meta.tables).toEqual(["batches", "exposure", "exposure_networks", "ledger_meta", "verified"]);
    expect(meta.meta).toContainEqual({ key: "schema", value: String(SCHEMA_VERSION) });
    expect(meta.meta).toContainEqual({ key: "upgraded_from", value: "1" });
    expect(meta.batches).toEqual([{ id: "old-batch" }]); // a retried old flush is still recognised

    const got = await rows();
    expect(got.reduce((n, r) => n + r.requests, 0)).toBe(4 + 1 + 9 + 3);
    expect(got.every((r) => r.verified === false && r.networks.length === 0)).toBe(true);
    // Written without the origin's word: no notice, whatever they claimed.
    expect(await notices()).toEqual([]);
  });

  it("a key the origin accepts after the upgrade gets its notice, old rows included, claims outside the alphabet as invalid", async () => {
    await stub().record("after-upgrade", [
      ["2024-07-01", "MM", REAL, JSON.stringify({ [ORG]: "org-real" }), "warn", 2, 1, []],
    ]);
    const [notice, ...rest] = await notices();
    expect(rest).toEqual([]);
    expect(notice?.fingerprint).toBe(REAL);
    expect(notice?.requests).toBe(4 + 1 + 2);
    expect(notice?.identities).toEqual([{ [ORG]: "invalid" }, { [ORG]: "org-real" }]);
    const md = await (await adminFetch("/exposure/notices?region=MM&format=md")).text();
    expect(md).not.toContain("URGENT");
    expect(md).not.toContain("evil.example");
    expect(md).not.toContain(JUNK);
  });

  it("starting again on an upgraded shard changes nothing", async () => {
    const before = await rows();
    await runInDurableObject(stub(), (_, state) => {
      new ExposureLedger(state, env);
    });
    expect(await rows()).toEqual(before);
  });
});
