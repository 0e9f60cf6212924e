/**
 * Notices end to end: traffic from two customers in three regions through the built
 * bundle under miniflare, then `GET /exposure/notices` (json, csv, md, paged) and
 * `region-gate exposure notices` (stdout, --out DIR with index.csv, --template) must say
 * exactly what the origin accepted, and no raw key may appear anywhere. Also `key
 * fingerprint --csv`.
 */
import { createHmac } from "node:crypto";
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

/**
 * Customer 1: VE ×2 as org-alpha and ×1 as org-alpha2 (accepted: one notice for both
 * organisations), CN ×3 (blocked, never accepted there: counted under `unverified`, not in
 * its notice). Customer 2: VE ×1, BY ×2 (observed). One keyless VE request (`anonymous`).
 */
const TRAFFIC = [
  { key: KEY_1, org: "org-alpha", country: "VE", n: 2, status: 200 },
  { key: KEY_1, org: "org-alpha2", country: "VE", n: 1, status: 200 },
  { key: KEY_1, org: "org-alpha", country: "CN", n: 3, status: 403 },
  { key: KEY_2, org: "org-beta", country: "VE", n: 1, status: 200 },
  { key: KEY_2, org: "org-beta", country: "BY", n: 2, status: 200 },
  { key: null, org: "org-anon", country: "VE", n: 1, status: 200 },
];
const SENT = TRAFFIC.reduce((n, t) => n + t.n, 0);

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
  dayList: [today],
  days: 1,
  requests,
  decisions: { ...zero, ...decisions },
  networks: [],
  cloudRequests: 0,
  cappedDays: [],
  next: { blockAt: null, monitorOnly: false, ...next },
});

const VE_NEXT = { action: "block", at: at(30), text: `blocked from ${day(30)}` };
const EXPECTED = [
  {
    fingerprint: fp(KEY_1),
    identities: [{ [ORG]: "org-alpha" }, { [ORG]: "org-alpha2" }],
    firstDay: today,
    lastDay: today,
    requests: 3,
    decisions: { ...zero, warn: 3 },
    nextDate: day(30),
    exemption: null,
    regions: [regionOf("VE", "Venezuela", 3, { warn: 3 }, VE_NEXT)],
    unrestricted: [],
  },
  {
    fingerprint: fp(KEY_2),
    identities: [{ [ORG]: "org-beta" }],
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
      regionOf("VE", "Venezuela", 1, { warn: 1 }, VE_NEXT),
    ],
    unrestricted: [],
  },
].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));

/** The default notice of customer 1, word for word. */
const NOTICE_1 = `Hello,

We are writing about your API key with the fingerprint \`${fp(KEY_1)}\`, used with openai-organization \`org-alpha\` and \`org-alpha2\`. On ${mail(0)}, Example API received 3 requests made with this key from a region that we do not currently support:

Venezuela: 3 requests on ${mail(0)}; all passed.

## What happens next

From ${mail(30)}, requests from Venezuela will be refused.

## What you can do

- Send these requests from a supported region instead; the supported regions are listed at https://example.com/supported-countries.
- If you think this is a mistake, or you need more time, contact us at support@example.com.

Not sure which of your keys this is? Call our self-check with the key; it answers with the key's fingerprint and the traffic we recorded for it:

    curl -H "Authorization: Bearer YOUR_API_KEY" https://api.example.com/__region-gate/check

Thank you,
Example API
`;

const noKey = (text: string) => {
  for (const key of KEYS) expect(text).not.toContain(key);
};

let origin: TestOrigin;
let gate: TestGate;
const remote = () => ["--url", gate.url, "--token", TEST_ADMIN_TOKEN];
const NOTICE_ARGS = "provider=Example+API&api=https://api.example.com&contact=support@example.com";
const notices = (query: string) =>
  fetch(`${gate.url}/__region-gate/exposure/notices?${NOTICE_ARGS}&${query}`, { headers: admin });

beforeAll(async () => {
  origin = await startOrigin();
  gate = await startGate({
    originUrl: origin.url,
    policy: POLICY,
    bindings: { EXPOSURE_FLUSH_SECONDS: "0.2" },
  });
  for (const t of TRAFFIC) {
    for (let i = 0; i < t.n; i++) {
      const headers: Record<string, string> = { [ORG]: t.org };
      if (t.key) headers.authorization = `Bearer ${t.key}`;
      const res = await gate.fetch("/v1/chat/completions", {
        method: "POST",
        body: "{}",
        headers,
        cf: { country: t.country },
      });
      await res.arrayBuffer();
      expect(res.status).toBe(t.status);
    }
  }
  // The gate flushes in the background; wait (bounded) until every request has landed.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${gate.url}/__region-gate/exposure?summary=1`, { headers: admin });
    const body = (await res.json()) as { summary: { requests: number }[] };
    if (body.summary.reduce((s, n) => s + n.requests, 0) >= SENT) break;
    if (Date.now() > deadline) throw new Error(`the ledger did not receive the ${SENT} requests within 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  await gate?.dispose();
  await origin?.close();
});

describe("notices end to end", () => {
  it("GET /exposure/notices as JSON: one notice per accepted key, exactly what was sent", async () => {
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
      checkUrl: "https://api.example.com/__region-gate/check",
      contact: "support@example.com",
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
    const bad = await notices("cursor=%00");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_cursor");
  });

  it("as CSV and Markdown, and for one region", async () => {
    const csv = await (await notices("format=csv")).text();
    noKey(csv);
    const lines = (n: (typeof EXPECTED)[0]) =>
      n.regions.map(
        (r) =>
          `${n.fingerprint},${q(n.identities.map((i) => `${ORG}=${i[ORG]}`).join(";"))},${r.region},${r.name},yes,${today},${today},1,${r.requests},${Object.values(r.decisions).join(",")},,,${r.next.action},${r.next.at},${q(r.next.text)}`,
      );
    expect(csv.split("\r\n")).toEqual([
      "fingerprint,identities,region,region_name,restricted,first_day,last_day,days,requests,observe,warn,block,monitor,exempt,networks,capped_days,next_action,next_at,next",
      ...EXPECTED.flatMap(lines),
      "",
    ]);
    const md = await (await notices("format=md")).text();
    noKey(md);
    const sections = md.split("\n---\n\n");
    expect(sections).toHaveLength(2);
    expect(sections[EXPECTED.findIndex((n) => n.fingerprint === fp(KEY_1))]).toBe(NOTICE_1);
    const ve = (await (await notices("region=VE")).json()) as {
      notices: { regions: { region: string }[] }[];
    };
    expect(ve.notices.map((n) => n.regions.map((r) => r.region))).toEqual([["VE"], ["VE"]]);
  });

  it("region-gate exposure notices --out DIR: one file per accepted key and index.csv, exactly", async () => {
    const dir = await mkdtemp(join(tmpdir(), "region-gate-notices-"));
    const r = await runBin([
      "exposure",
      "notices",
      "--out",
      dir,
      "--provider",
      "Example API",
      "--api-url",
      "https://api.example.com",
      "--contact",
      "support@example.com",
      "--limit",
      "1",
      ...remote(),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("notices: page 2, 2 customers so far");
    const files = EXPECTED.map((n) => `${n.fingerprint}.md`);
    expect((await readdir(dir)).sort()).toEqual([...files, "index.csv"].sort());
    const index = await readFile(join(dir, "index.csv"), "utf8");
    const subject = (n: (typeof EXPECTED)[0]) =>
      `Your API requests from ${n.regions.map((x) => x.name).join(" and ")}`;
    expect(index.split("\r\n")).toEqual([
      `file,fingerprint,subject,identities,identity:${ORG},regions,region_names,first_day,last_day,requests,next_date,next,capped,check_url`,
      ...EXPECTED.map(
        (n) =>
          `${n.fingerprint}.md,${n.fingerprint},${subject(n)},${q(n.identities.map((i) => `${ORG}=${i[ORG]}`).join(";"))},${n.identities.map((i) => i[ORG]).join(";")},${n.regions.map((x) => x.region).join(";")},${n.regions.map((x) => x.name).join("; ")},${today},${today},${n.requests},${n.nextDate},${q(n.regions.map((x) => `${x.region}: ${x.next.text}`).join("; "))},no,https://api.example.com/__region-gate/check`,
      ),
      "",
    ]);
    const route = (await (await notices("format=md")).text()).split("\n---\n\n");
    for (const [i, file] of files.entries()) {
      const text = await readFile(join(dir, file), "utf8");
      noKey(text);
      expect(text).toBe(route[i]);
    }
    expect(await readFile(join(dir, `${fp(KEY_1)}.md`), "utf8")).toBe(NOTICE_1);
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
      `Dear ${n.identities.map((i) => `\`${i[ORG]}\``).join(" and ")}: ${n.regions.map((r) => r.region).join(";")}, next on ${mail(n.fingerprint === fp(KEY_1) ? 30 : 10)}.\n`;
    expect(filled.stdout).toBe(EXPECTED.map(byFp).join("\n---\n\n"));
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
