/**
 * The exposure ledger end to end: a mixed load through the built bundle under miniflare
 * (real Durable Objects with SQLite, real origin on 127.0.0.1), then the admin report must
 * equal, row for row, what was sent: keys the origin accepted (VE, BY: forwarded) under
 * their fingerprints with their identity values, keys only ever blocked under `unverified`,
 * keyless requests under `anonymous`, both without identity values.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { runBin, runInProcess } from "./cli-run";
import {
  startGate,
  startOrigin,
  TEST_ADMIN_TOKEN,
  TEST_IDENTITY_SALT,
  type TestGate,
  type TestOrigin,
} from "./harness";

const ORG = "openai-organization";
const REQUESTS = 3000;
const KEYS = Array.from({ length: 12 }, (_, i) => `sk-e2e-${i.toString().padStart(4, "0")}-secret`);
const ORGS = ["org-north", "org-south", "org-east", 'org, "quoted"; x=y'];
/** Edge facts and the decision livePolicy gives them (null: not counted). */
const PLACES = [
  { cf: { country: "CN" }, region: "CN", decision: "block" },
  { cf: { country: "RU" }, region: "RU", decision: "block" },
  { cf: { country: "UA", regionCode: "43" }, region: "UA-43", decision: "block" },
  { cf: { country: "VE" }, region: "VE", decision: "warn" },
  { cf: { country: "BY" }, region: "BY", decision: "observe" },
  { cf: { country: "JP" }, region: null, decision: null },
  { cf: { country: "US" }, region: null, decision: null },
] as const;

interface Row {
  region: string;
  fingerprint: string;
  identity: Record<string, string>;
  requests: number;
  blocked: number;
  decisions: Record<string, number>;
}

const fp = (key: string) => createHmac("sha256", TEST_IDENTITY_SALT).update(key).digest("hex").slice(0, 16);
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

let origin: TestOrigin;
let gate: TestGate;

beforeAll(async () => {
  origin = await startOrigin();
  gate = await startGate({
    originUrl: origin.url,
    policy: livePolicy({ identity: { headers: [ORG] } }),
    bindings: { EXPOSURE_FLUSH_SECONDS: "0.5" },
  });
});

afterAll(async () => {
  await gate?.dispose();
  await origin?.close();
});

/** Deterministic pseudo-random choices, so a failure replays the same load. */
function* load(n: number) {
  let s = 0x2545f491;
  const next = (m: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % m;
  };
  for (let i = 0; i < n; i++) {
    const place = PLACES[next(PLACES.length)]!;
    const k = next(KEYS.length + 2); // two in fourteen are anonymous
    const o = next(ORGS.length + 1); // one in five has no org header
    yield { place, key: KEYS[k] ?? null, org: ORGS[o] ?? null };
  }
}

async function report(query: string): Promise<Response> {
  return fetch(`${gate.url}/__region-gate/exposure?${query}`, { headers: admin });
}

describe("exposure ledger end to end", () => {
  it(`reports exactly the ${REQUESTS} requests sent from unsupported regions`, {
    timeout: 120_000,
  }, async () => {
    const expected = new Map<string, Row>();
    const jobs = [...load(REQUESTS)];
    let counted = 0;
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const { place, key, org } = jobs[next++]!;
        const headers: Record<string, string> = {};
        if (key) headers.authorization = `Bearer ${key}`;
        if (org) headers[ORG] = org;
        const res = await gate.fetch("/v1/chat/completions", {
          method: "POST",
          body: "{}",
          headers,
          cf: place.cf,
        });
        await res.arrayBuffer();
        expect(res.status).toBe(place.decision === "block" ? 403 : 200);
        if (!place.decision) continue;
        counted++;
        const verified = key !== null && place.decision !== "block";
        const row: Row = {
          region: place.region,
          fingerprint: key === null ? "anonymous" : verified ? fp(key) : "unverified",
          identity: verified && org ? { [ORG]: /^[\w.:-]{1,64}$/.test(org) ? org : "invalid" } : {},
          requests: 0,
          blocked: 0,
          decisions: { observe: 0, warn: 0, block: 0, monitor: 0, exempt: 0 },
        };
        const id = `${row.region} ${row.fingerprint} ${JSON.stringify(row.identity)}`;
        const seen = expected.get(id) ?? row;
        seen.requests++;
        seen.decisions[place.decision] = (seen.decisions[place.decision] ?? 0) + 1;
        if (place.decision === "block") seen.blocked++;
        expected.set(id, seen);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));

    // The gate flushes in the background every 0.5 s; wait (bounded) until all has landed.
    type Reported = Row & { day: string; verified: boolean; capped: boolean; networks: unknown[] };
    let rows: Reported[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      rows = ((await (await report("")).json()) as { rows: Reported[] }).rows;
      if (rows.reduce((sum, r) => sum + r.requests, 0) >= counted) break;
      await new Promise((r) => setTimeout(r, 250));
    }

    // Days are summed away: a run that crosses UTC midnight splits rows, not counts.
    const got = new Map<string, Row>();
    for (const { day: _, verified: __, capped: ___, networks: ____, ...r } of rows) {
      const id = `${r.region} ${r.fingerprint} ${JSON.stringify(r.identity)}`;
      const seen = got.get(id);
      if (!seen) got.set(id, { ...r, decisions: { ...r.decisions } });
      else {
        seen.requests += r.requests;
        seen.blocked += r.blocked;
        for (const [d, n] of Object.entries(r.decisions)) seen.decisions[d] = (seen.decisions[d] ?? 0) + n;
      }
    }
    const sorted = (m: Map<string, Row>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    expect(sorted(got)).toEqual(sorted(expected));
    expect(counted).toBeGreaterThan(REQUESTS / 2);

    const summary = (await (await report("summary=1")).json()) as {
      summary: { region: string; customers: number; requests: number; blocked: number }[];
    };
    for (const s of summary.summary) {
      const mine = [...expected.values()].filter((r) => r.region === s.region);
      // Customers are fingerprints the origin accepted; the buckets are not customers.
      const customers = new Set(
        mine.map((r) => r.fingerprint).filter((f) => f !== "anonymous" && f !== "unverified"),
      );
      expect(s).toMatchObject({
        customers: customers.size,
        requests: mine.reduce((sum, r) => sum + r.requests, 0),
        blocked: mine.reduce((sum, r) => sum + r.blocked, 0),
      });
    }
    expect(summary.summary.map((s) => s.region).sort()).toEqual(["BY", "CN", "RU", "UA-43", "VE"]);

    const csv = await (await report("format=csv")).text();
    expect(csv.trimEnd().split("\r\n")).toHaveLength(rows.length + 1);
    for (const key of KEYS) expect(csv).not.toContain(key);

    // The CLI reads the same report through the admin API.
    const remote = ["--url", gate.url, "--token", TEST_ADMIN_TOKEN];
    const cliJson = await runBin(["exposure", "report", "--format", "json", ...remote]);
    expect(cliJson.code).toBe(0);
    expect((JSON.parse(cliJson.stdout) as { rows: unknown[] }).rows).toEqual(rows);
    // Small pages: the CLI follows them (progress on stderr) to the same report.
    const paged = await runInProcess([
      "exposure",
      "report",
      "--format",
      "json",
      "--page-size",
      "4",
      ...remote,
    ]);
    expect(paged.code).toBe(0);
    expect((JSON.parse(paged.stdout) as { rows: unknown[] }).rows).toEqual(rows);
    expect(paged.stderr).toMatch(/exposure report: 4 rows so far/);
    const pagedCsv = await runInProcess([
      "exposure",
      "report",
      "--format",
      "csv",
      "--page-size",
      "25",
      ...remote,
    ]);
    expect(pagedCsv.stdout).toBe(csv);
    expect(pagedCsv.stderr).toMatch(
      /note: Identity values are recorded only for requests the origin accepted/,
    );
    const cliCsv = await runBin(["exposure", "report", "--summary", "--format", "csv", ...remote]);
    expect(cliCsv.code).toBe(0);
    expect(cliCsv.stdout).toBe(await (await report("summary=1&format=csv")).text());
    const cliTotal = cliCsv.stdout
      .trimEnd()
      .split("\r\n")
      .slice(1)
      .reduce((sum, line) => sum + Number(line.split(",")[2]), 0);
    expect(cliTotal).toBe(counted);
  });
});
