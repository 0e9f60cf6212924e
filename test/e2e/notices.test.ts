/**
 * Notices end to end: traffic from two customers in three regions through the built
 * bundle under miniflare, then `GET /exposure/notices` (json, csv, md, paged) and
 * `region-gate exposure notices` (stdout, --out DIR with index.csv, --template) must say
 * exactly what was sent, and no raw key may appear anywhere. Also `key fingerprint --csv`.
 */
import { createHash, createHmac } from "node:crypto";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { runBin } from "./cli-run";
import {
  startGate,
  startOrigin,
  TEST_ADMIN_TOKEN,
  TEST_IDENTITY_SALT,
  type TestGate,
  type TestOrigin,
} from "./harness";

const ORG = "openai-organization";
const KEY_1 = "sk-notice-customer-one-7f3a";
const KEY_2 = "sk-notice-customer-two-91bc";
const KEYS = [KEY_1, KEY_2];
const DAY = 86_400_000;
const midnight = Math.floor(Date.now() / DAY) * DAY;
/** UTC midnight `offset` days from today, as RFC 3339 and as `YYYY-MM-DD`. */
const at = (offset: number) => new Date(midnight + offset * DAY).toISOString();
const day = (offset: number) => at(offset).slice(0, 10);
const MONTHS = "January February March April May June July August September October November December".split(
  " ",
);
const mail = (offset: number) => {
  const d = new Date(midnight + offset * DAY);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
};
const today = day(0);

// Midnight dates, so the notice texts are plain days: CN blocked since 10 days ago, VE in
// its warn window (blocked in 30 days), BY observed (warn in 10 days, blocked in 20).
const POLICY = livePolicy({
  version: "notices.1",
  identity: { headers: [ORG] },
  enforcement: {
    default: { warnFrom: at(-30), blockFrom: at(-10) },
    regions: { VE: { warnFrom: at(-1), blockFrom: at(30) }, BY: { warnFrom: at(10), blockFrom: at(20) } },
  },
});

const fp = (key: string) => createHmac("sha256", TEST_IDENTITY_SALT).update(key).digest("hex").slice(0, 16);
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
/** A CSV field as RFC 4180 writes it (these texts hold no quotes). */
const q = (s: string) => (s.includes(",") ? `"${s}"` : s);
const zero = { observe: 0, warn: 0, block: 0, monitor: 0, exempt: 0 };

/** Customer 1: CN ×3 (blocked), VE ×2 (warned). Customer 2: VE ×1, BY ×2 (observed). */
const TRAFFIC = [
  { key: KEY_1, org: "org-alpha", country: "CN", n: 3, status: 403 },
  { key: KEY_1, org: "org-alpha", country: "VE", n: 2, status: 200 },
  { key: KEY_2, org: "org-beta", country: "VE", n: 1, status: 200 },
  { key: KEY_2, org: "org-beta", country: "BY", n: 2, status: 200 },
];

const regionOf = (
  region: string,
  name: string,
  requests: number,
  decisions: object,
  next: { action: string; at: string; text: string; blockAt?: string },
) => ({
  region,
  name,
  firstDay: today,
  lastDay: today,
  days: 1,
  requests,
  decisions: { ...zero, ...decisions },
  next: { blockAt: null, monitorOnly: false, ...next },
});

const EXPECTED = [
  {
    fingerprint: fp(KEY_1),
    identity: { [ORG]: "org-alpha" },
    firstDay: today,
    lastDay: today,
    requests: 5,
    decisions: { ...zero, block: 3, warn: 2 },
    nextDate: day(30),
    exemption: null,
    regions: [
      regionOf(
        "CN",
        "China",
        3,
        { block: 3 },
        { action: "blocked", at: at(-10), text: `blocked since ${day(-10)}` },
      ),
      regionOf(
        "VE",
        "Venezuela",
        2,
        { warn: 2 },
        { action: "block", at: at(30), text: `blocked from ${day(30)}` },
      ),
    ],
  },
  {
    fingerprint: fp(KEY_2),
    identity: { [ORG]: "org-beta" },
    firstDay: today,
    lastDay: today,
    requests: 3,
    decisions: { ...zero, observe: 2, warn: 1 },
    nextDate: day(10),
    exemption: null,
    regions: [
      regionOf(
        "BY",
        "Belarus",
        2,
        { observe: 2 },
        {
          action: "warn",
          at: at(10),
          blockAt: at(20),
          text: `warn from ${day(10)}, blocked from ${day(20)}`,
        },
      ),
      regionOf(
        "VE",
        "Venezuela",
        1,
        { warn: 1 },
        { action: "block", at: at(30), text: `blocked from ${day(30)}` },
      ),
    ],
  },
].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));

/** The default notice of customer 1, word for word (the run's timestamp normalised). */
const NOTICE_1 = `# Traffic from regions that Example API does not support

Customer: API key with fingerprint \`${fp(KEY_1)}\`, openai-organization \`org-alpha\` (as claimed in request headers)

Our data shows that your organization has API traffic from a region that Example API does not currently support: China, Venezuela, between ${mail(0)} and ${mail(0)} (5 requests).

- Requests from China have been blocked since ${mail(-10)}.
- Requests from Venezuela will be blocked starting on ${mail(30)}.

| Region | First day | Last day | Days | Requests | Blocked | What happens next |
|---|---|---|---:|---:|---:|---|
| China | ${today} | ${today} | 1 | 3 | 3 | blocked since ${day(-10)} |
| Venezuela | ${today} | ${today} | 1 | 2 | 0 | blocked from ${day(30)} |

Supported regions: https://example.com/supported-countries

---
Key fingerprint \`${fp(KEY_1)}\`: the first 16 hex characters of an HMAC of the API key; the key itself is never stored. Identity values are what the client sent in the identity headers; they are claims, not verified facts. Ledger data over the whole retention, policy notices.1, generated T.
`;

const stamp = (md: string) =>
  md.replace(/generated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\./g, "generated T.");
const noKey = (text: string) => {
  for (const key of KEYS) expect(text).not.toContain(key);
};

let origin: TestOrigin;
let gate: TestGate;
const remote = () => ["--url", gate.url, "--token", TEST_ADMIN_TOKEN];
const notices = (query: string) =>
  fetch(`${gate.url}/__region-gate/exposure/notices?provider=Example+API&${query}`, { headers: admin });

beforeAll(async () => {
  origin = await startOrigin();
  gate = await startGate({
    originUrl: origin.url,
    policy: POLICY,
    bindings: { EXPOSURE_FLUSH_SECONDS: "0.2" },
  });
  for (const t of TRAFFIC) {
    for (let i = 0; i < t.n; i++) {
      const res = await gate.fetch("/v1/chat/completions", {
        method: "POST",
        body: "{}",
        headers: { authorization: `Bearer ${t.key}`, [ORG]: t.org },
        cf: { country: t.country },
      });
      await res.arrayBuffer();
      expect(res.status).toBe(t.status);
    }
  }
  // The gate flushes in the background; wait (bounded) until all 8 requests have landed.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const body = (await (await notices("")).json()) as { notices: { requests: number }[] };
    if (body.notices.reduce((s, n) => s + n.requests, 0) >= 8) break;
    if (Date.now() > deadline) throw new Error("the ledger did not receive the 8 requests within 30 s");
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  await gate?.dispose();
  await origin?.close();
});

describe("notices end to end", () => {
  it("GET /exposure/notices as JSON: one notice per customer, exactly what was sent", async () => {
    const res = await notices("");
    expect(res.status).toBe(200);
    const text = await res.text();
    noKey(text);
    const body = JSON.parse(text) as {
      meta: Record<string, unknown>;
      notices: unknown[];
      next: string | null;
    };
    expect(body.notices).toEqual(EXPECTED);
    expect(body.next).toBeNull();
    expect(body.meta).toMatchObject({
      provider: "Example API",
      policyVersion: "notices.1",
      docsUrl: "https://example.com/supported-countries",
      identityNote: expect.stringContaining("claims, not verified"),
    });
  });

  it("pages by whole customers: limit=1 gives two pages that add up to the whole", async () => {
    const first = await notices("limit=1");
    const one = (await first.json()) as { notices: unknown[]; next: string };
    expect(one.notices).toEqual([EXPECTED[0]]);
    expect(first.headers.get("link")).toContain(`cursor=${one.next}`);
    const two = (await (await notices(`limit=1&cursor=${one.next}`)).json()) as {
      notices: unknown[];
      next: null;
    };
    expect(two).toMatchObject({ notices: [EXPECTED[1]], next: null });
    const bad = await notices("cursor=not-a-cursor");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_cursor");
  });

  it("as CSV and Markdown, and for one region", async () => {
    const csv = await (await notices("format=csv")).text();
    noKey(csv);
    const [n1, n2] = EXPECTED as [(typeof EXPECTED)[0], (typeof EXPECTED)[0]];
    const lines = (n: typeof n1) =>
      n.regions.map(
        (r) =>
          `${n.fingerprint},${ORG}=${n.identity[ORG]},${r.region},${r.name},${today},${today},1,${r.requests},${Object.values(r.decisions).join(",")},${r.next.action},${r.next.at},${q(r.next.text)}`,
      );
    expect(csv.split("\r\n")).toEqual([
      "fingerprint,claimed_identity,region,region_name,first_day,last_day,days,requests,observe,warn,block,monitor,exempt,next_action,next_at,next",
      ...lines(n1),
      ...lines(n2),
      "",
    ]);
    const md = await (await notices("format=md")).text();
    noKey(md);
    const sections = stamp(md).split(/\n(?=# )/);
    expect(sections).toHaveLength(2);
    expect(sections[EXPECTED.findIndex((n) => n.fingerprint === fp(KEY_1))]).toBe(NOTICE_1);
    const ve = (await (await notices("region=VE")).json()) as {
      notices: { regions: { region: string }[] }[];
    };
    expect(ve.notices.map((n) => n.regions.map((r) => r.region))).toEqual([["VE"], ["VE"]]);
  });

  it("region-gate exposure notices --out DIR: one file per customer and index.csv, exactly", async () => {
    const dir = await mkdtemp(join(tmpdir(), "region-gate-notices-"));
    const r = await runBin([
      "exposure",
      "notices",
      "--out",
      dir,
      "--provider",
      "Example API",
      "--limit",
      "1",
      ...remote(),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("notices: page 2, 2 customers so far");
    const name = (n: (typeof EXPECTED)[0]) =>
      `${n.fingerprint}-${createHash("sha256").update(JSON.stringify(n.identity)).digest("hex").slice(0, 8)}.md`;
    const files = EXPECTED.map(name);
    expect((await readdir(dir)).sort()).toEqual([...files, "index.csv"].sort());
    const index = await readFile(join(dir, "index.csv"), "utf8");
    expect(index.split("\r\n")).toEqual([
      `file,fingerprint,claimed_identity,claimed:${ORG},regions,first_day,last_day,requests,next_date,next`,
      ...EXPECTED.map(
        (n) =>
          `${name(n)},${n.fingerprint},${ORG}=${n.identity[ORG]},${n.identity[ORG]},${n.regions.map((x) => x.region).join(";")},${today},${today},${n.requests},${n.nextDate},${q(n.regions.map((x) => `${x.region}: ${x.next.text}`).join("; "))}`,
      ),
      "",
    ]);
    const route = stamp(await (await notices("format=md")).text()).split(/\n(?=# )/);
    for (const [i, file] of files.entries()) {
      const text = await readFile(join(dir, file), "utf8");
      noKey(text);
      expect(stamp(text)).toBe(route[i]);
    }
    expect(
      stamp(
        await readFile(join(dir, files[EXPECTED.findIndex((n) => n.fingerprint === fp(KEY_1))]!), "utf8"),
      ),
    ).toBe(NOTICE_1);
    noKey(index + r.stdout + r.stderr);
  });

  it("prints csv and json like the route, and fills a --template", async () => {
    const csv = await runBin(["exposure", "notices", "--format", "csv", ...remote()]);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe(await (await notices("format=csv")).text());
    const json = await runBin(["exposure", "notices", "--format", "json", ...remote()]);
    expect((JSON.parse(json.stdout) as { notices: unknown[] }).notices).toEqual(EXPECTED);
    const dir = await mkdtemp(join(tmpdir(), "region-gate-template-"));
    const template = join(dir, "mail.md");
    await writeFile(
      template,
      "Dear {{identity.openai-organization}}: {{region_codes}}, next on {{next_date}}.\n",
    );
    const filled = await runBin(["exposure", "notices", "--template", template, ...remote()]);
    expect(filled.code).toBe(0);
    const byFp = (n: (typeof EXPECTED)[0]) =>
      `Dear ${n.identity[ORG]}: ${n.regions.map((r) => r.region).join(";")}, next on ${mail(n.fingerprint === fp(KEY_1) ? 30 : 10)}.\n`;
    expect(filled.stdout).toBe(EXPECTED.map(byFp).join("\n"));
    await writeFile(template, "Hello {{customer_name}}\n");
    const bad = await runBin(["exposure", "notices", "--template", template, ...remote()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown placeholder {{customer_name}}");
    noKey(csv.stdout + json.stdout + filled.stdout + csv.stderr + json.stderr);
  });
});

describe("key fingerprint --csv", () => {
  it("turns id,key lines into id,fingerprint lines, the gate's fingerprints", async () => {
    const r = await runBin(["key", "fingerprint", "--csv"], {
      input: `id,key\r\ncust-1,${KEY_1}\r\n"cust, ""two""",${KEY_2}\r\n`,
      env: { IDENTITY_SALT: TEST_IDENTITY_SALT },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`id,fingerprint\ncust-1,${fp(KEY_1)}\n"cust, ""two""",${fp(KEY_2)}\n`);
    const listed = (await (await notices("")).json()) as { notices: { fingerprint: string }[] };
    expect(listed.notices.map((n) => n.fingerprint).sort()).toEqual([fp(KEY_1), fp(KEY_2)].sort());
  });

  it("names every bad line by number, writes nothing, never echoes a key", async () => {
    const r = await runBin(["key", "fingerprint", "--csv"], {
      input: `cust-1,${KEY_1}\nno-comma-${KEY_2}\n,sk-orphan-key-3\ncust-4,sk has spaces\n"open,sk-quoted-5\ncust-6,\n`,
      env: { IDENTITY_SALT: TEST_IDENTITY_SALT },
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    for (const n of [2, 3, 4, 5, 6]) expect(r.stderr).toContain(`line ${n}:`);
    expect(r.stderr).not.toContain("line 1:");
    for (const secret of [KEY_1, KEY_2, "sk-orphan-key-3", "sk has spaces", "sk-quoted-5"]) {
      expect(r.stderr).not.toContain(secret);
    }
  });
});
