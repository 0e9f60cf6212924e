/**
 * Issue 20, finding 1, end to end: a flood of made-up customers cannot erase a real one.
 * The built bundle under miniflare with real SQLite Durable Objects, in front of an origin
 * that checks keys (it accepts only the real customer's). With EXPOSURE_MAX_CUSTOMERS at
 * 50, the flood sends 60 keyless requests with 60 organisation claims and 60 invented keys,
 * each with its own claim; then the real customer sends 25 requests. The report, the
 * notices (`region-gate exposure notices --out`) and the customer's own `/check` must all
 * name it with exactly its 25 requests, and nothing of the flood.
 *
 * With WRITE_NOTICE_EXAMPLE=1 the notice the CLI wrote is copied to docs/notice-example.md.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { runBin } from "./cli-run";
import { ROOT } from "./global-setup";
import {
  type EdgeFacts,
  startGate,
  startOrigin,
  TEST_ADMIN_TOKEN,
  TEST_IDENTITY_SALT,
  type TestGate,
  type TestOrigin,
} from "./harness";

const ORG = "openai-organization";
const CAP = 50;
const FLOOD = 60;
const REAL_KEY = "sk-real-customer-42";
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const fp = (key: string) => createHmac("sha256", TEST_IDENTITY_SALT).update(key).digest("hex").slice(0, 16);
const DAY = 86_400_000;
const midnight = Math.floor(Date.now() / DAY) * DAY;
const at = (offset: number) => new Date(midnight + offset * DAY).toISOString();

/** The `cloud` class examples/policy.json ships (AS16509, Amazon, is in it). */
const CLOUD: number[] = JSON.parse(readFileSync(join(ROOT, "examples", "policy.json"), "utf8")).networks
  .classes.cloud;

// CN in its warn window (requests pass, so the origin's answer says whose key it is), its
// block 14 days ahead; BY observed. Midnight dates keep the notice's dates plain days. The
// example's cloud class only labels traffic: the notices name it and explain it.
const POLICY = livePolicy({
  version: "flood.1",
  identity: { headers: [ORG] },
  networks: { classes: { cloud: CLOUD } },
  enforcement: {
    default: { warnFrom: at(-30), blockFrom: at(-10) },
    regions: { CN: { warnFrom: at(-2), blockFrom: at(14) }, BY: { warnFrom: at(10), blockFrom: at(20) } },
  },
});

let origin: TestOrigin;
let gate: TestGate;
let sent = 0;

beforeAll(async () => {
  origin = await startOrigin({ acceptKeys: [REAL_KEY] });
  gate = await startGate({
    originUrl: origin.url,
    policy: POLICY,
    bindings: { EXPOSURE_FLUSH_SECONDS: "0.2", EXPOSURE_MAX_CUSTOMERS: String(CAP) },
  });
});

afterAll(async () => {
  await gate?.dispose();
  await origin?.close();
});

async function send(country: string, headers: Record<string, string>, cf: EdgeFacts = {}): Promise<number> {
  const res = await gate.fetch("/v1/chat/completions", {
    method: "POST",
    body: "{}",
    headers,
    cf: { country, ...cf },
  });
  await res.arrayBuffer();
  sent++;
  return res.status;
}

interface Row {
  day: string;
  region: string;
  fingerprint: string;
  identity: Record<string, string>;
  requests: number;
  verified: boolean;
  capped: boolean;
}

async function rows(query: string): Promise<Row[]> {
  const res = await fetch(`${gate.url}/__region-gate/exposure?${query}`, { headers: admin });
  expect(res.status).toBe(200);
  return ((await res.json()) as { rows: Row[] }).rows;
}

/** Waits (bounded) until every request sent so far is in the ledger. */
async function landed(): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const res = await fetch(`${gate.url}/__region-gate/exposure?summary=1`, { headers: admin });
    const { summary } = (await res.json()) as { summary: { requests: number }[] };
    if (summary.reduce((n, s) => n + s.requests, 0) >= sent) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the ledger did not receive ${sent} requests within 30 s`);
}

describe("a flood of made-up customers, then a real one", () => {
  it("the real customer is in the report, the notices and its own /check, exactly", async () => {
    // The flood: keyless with invented organisations, and invented keys the origin refuses.
    for (let i = 0; i < FLOOD; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, k) => send("CN", { [ORG]: `junk-org-${i + k}` })));
      const statuses = await Promise.all(
        Array.from({ length: 20 }, (_, k) =>
          send("CN", { authorization: `Bearer sk-invented-${i + k}`, [ORG]: `junk-${i + k}` }),
        ),
      );
      expect(new Set(statuses)).toEqual(new Set([401]));
    }
    await landed();
    // The real customer, through a cloud provider's network, and once from BY.
    const real = { authorization: `Bearer ${REAL_KEY}`, [ORG]: "org-acme" };
    const amazon = { asn: 16509, asOrganization: "Amazon.com, Inc." };
    for (let i = 0; i < 25; i++)
      expect(await send("CN", real, i < 20 ? amazon : { asn: 4134, asOrganization: "Chinanet" })).toBe(200);
    expect(await send("BY", real, amazon)).toBe(200);
    await landed();

    const cn = await rows("region=CN");
    const byFingerprint = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    expect(cn.map((r) => [r.fingerprint, r.identity, r.requests, r.verified]).sort(byFingerprint)).toEqual(
      [
        [fp(REAL_KEY), { [ORG]: "org-acme" }, 25, true],
        ["anonymous", {}, FLOOD, false],
        ["unverified", {}, FLOOD, false],
      ].sort(byFingerprint),
    );
    const res = await fetch(`${gate.url}/__region-gate/exposure?summary=1&region=CN`, { headers: admin });
    expect(((await res.json()) as { summary: unknown[] }).summary).toEqual([
      expect.objectContaining({ customers: 1, requests: 2 * FLOOD + 25, cappedDays: 0 }),
    ]);

    // The notices a provider mails: one, for the real customer.
    const dir = await mkdtemp(join(tmpdir(), "region-gate-flood-"));
    const cli = await runBin([
      "exposure",
      "notices",
      "--out",
      dir,
      "--provider",
      "Example API",
      "--api-url",
      "https://api.example.com",
      "--url",
      gate.url,
      "--token",
      TEST_ADMIN_TOKEN,
    ]);
    expect(cli.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual([`${fp(REAL_KEY)}.md`, "index.csv"]);
    const notice = await readFile(join(dir, `${fp(REAL_KEY)}.md`), "utf8");
    expect(notice).toContain("org-acme");
    expect(notice).toContain("China: 25 requests on ");
    expect(CLOUD).toContain(16509);
    expect(notice).toContain("AS16509 `Amazon.com, Inc.`, cloud (20); AS4134 `Chinanet` (5)");
    expect(notice).toContain(
      "20 of the 25 requests from China came through a cloud provider's network (AS16509 `Amazon.com, Inc.`, cloud).",
    );
    expect(notice).toContain("https://api.example.com/__region-gate/check");
    for (const junk of ["junk", "invented", "anonymous", "unverified", REAL_KEY])
      expect(notice).not.toContain(junk);
    const index = (await readFile(join(dir, "index.csv"), "utf8")).split("\r\n");
    expect(index).toHaveLength(3);
    expect(index[1]).toContain(
      `${fp(REAL_KEY)}.md,${fp(REAL_KEY)},Your API requests from Belarus and China,`,
    );

    // The customer's own view names the same traffic, and what the notice says.
    const own = await gate.fetch("/__region-gate/check?format=json", {
      headers: { authorization: `Bearer ${REAL_KEY}` },
      cf: { country: "JP" },
    });
    const { ledger } = (await own.json()) as {
      ledger: {
        fingerprint: string;
        requests: number;
        regions: { region: string; requests: number }[];
        notice: string;
      };
    };
    expect(ledger.fingerprint).toBe(fp(REAL_KEY));
    expect(ledger.regions.map((r) => [r.region, r.requests])).toEqual([
      ["BY", 1],
      ["CN", 25],
    ]);
    expect(ledger.notice).toContain("China: 25 requests on ");

    if (process.env.WRITE_NOTICE_EXAMPLE === "1") await writeExample(notice);
  });

  it("records identity values outside the alphabet as invalid, only on accepted requests", async () => {
    const real = { authorization: `Bearer ${REAL_KEY}` };
    expect(await send("BY", { ...real, [ORG]: "caf\u00e9" })).toBe(200);
    expect(await send("BY", { ...real, [ORG]: "Acme Corp" })).toBe(200);
    await landed();
    const by = await rows("region=BY");
    expect(by.find((r) => r.identity[ORG] === "invalid")?.requests).toBe(2);
  });

  it("refuses --out into a folder that holds notices, unless --force removes them first", async () => {
    const dir = await mkdtemp(join(tmpdir(), "region-gate-out-"));
    await writeFile(join(dir, "0000000000000000.md"), "an old notice");
    await writeFile(join(dir, "keep.txt"), "not a notice");
    const args = ["exposure", "notices", "--out", dir, "--url", gate.url, "--token", TEST_ADMIN_TOKEN];
    const refused = await runBin(args);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("already holds notices of an earlier run (1 file: 0000000000000000.md)");
    expect(refused.stderr).toContain("--force");
    expect((await readdir(dir)).sort()).toEqual(["0000000000000000.md", "keep.txt"]);
    const forced = await runBin([...args, "--force"]);
    expect(forced.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual([`${fp(REAL_KEY)}.md`, "index.csv", "keep.txt"]);
  });
});

/** docs/notice-example.md: the notice as the CLI wrote it, raw (plain text) and rendered. */
async function writeExample(notice: string): Promise<void> {
  const doc = `# A notice, as \`region-gate exposure notices\` writes it

Made by the CLI (\`region-gate exposure notices --out DIR --provider "Example API" --api-url
https://api.example.com\`) from the traffic of test/e2e/ledger-flood.test.ts: a flood of
${FLOOD} keyless requests and ${FLOOD} invented keys from China, then one real customer's
25 requests from China (20 of them through AWS, AS16509, a member of the \`cloud\` class the
test's policy copies from examples/policy.json) and one from Belarus through AWS. The flood
made no notice.
Regenerate it with \`WRITE_NOTICE_EXAMPLE=1 npx vitest run --project e2e test/e2e/ledger-flood.test.ts\`.

## As a mail client without Markdown shows it (the file itself)

\`\`\`text
${notice.trimEnd()}
\`\`\`

## Rendered

${notice.replace(/^## /gm, "### ").trimEnd()}
`;
  await mkdir(join(ROOT, "docs"), { recursive: true });
  await writeFile(join(ROOT, "docs", "notice-example.md"), doc);
}
