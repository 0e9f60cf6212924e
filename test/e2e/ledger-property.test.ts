/**
 * Property (issue 20): for any sequence of anonymous requests, requests with keys the
 * origin refuses, blocked requests and junk identity values, mixed in with one real
 * customer's accepted requests, that customer's counts are exact in the report, in its
 * notice and in its own `/check`. With EXPOSURE_MAX_CUSTOMERS at 1, a single bucket
 * counted as a customer would push the real one out. The built bundle under miniflare,
 * real Durable Objects, an origin that accepts only `sk-customer-*` keys.
 */
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { livePolicy } from "../fixtures/policies";
import {
  startGate,
  startOrigin,
  TEST_ADMIN_TOKEN,
  TEST_IDENTITY_SALT,
  type TestGate,
  type TestOrigin,
} from "./harness";

const ORG = "openai-organization";
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const fp = (key: string) => createHmac("sha256", TEST_IDENTITY_SALT).update(key).digest("hex").slice(0, 16);
const DAY = 86_400_000;
const at = (offset: number) => new Date(Date.now() + offset * DAY).toISOString();
/** One region per run, so each run's customer meets only that run's traffic. */
const CODES = [
  ..."BR IN FR MX ID NG EG TR TH VN PH AR CO KE PK BD ZA SA PL IT ES NL SE NO FI DK IE PT GR CZ".split(" "),
  ..."HU RO BG HR RS SK SI LT LV EE IS MT CY LU BE AT CH NZ AU CA CL PE EC BO PY UY GT HN SV".split(" "),
];
const RUNS = 12;

// Every unsupported region in its warn window (forwarded: the origin's answer decides),
// CN blocked.
const POLICY = livePolicy({
  version: "property.1",
  supported: ["US"],
  unsupportedSubdivisions: [],
  identity: { headers: [ORG] },
  enforcement: {
    default: { warnFrom: at(-1), blockFrom: at(30) },
    regions: { CN: { blockFrom: at(-1) } },
  },
});

/** Identity values a client might send: valid ones, junk, markup, formulas, too long. */
const PRINTABLE = [..." !\"#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~"];
const identity = fc.oneof(
  fc.constantFrom("org-acme", "org_b", "team.c:1"),
  fc.string({ unit: fc.constantFrom(...PRINTABLE), maxLength: 70 }),
  fc.constantFrom('=HYPERLINK("https://evil.example")', "[verify](https://evil.example)", "x".repeat(65)),
);
const event = fc.oneof(
  fc.record({ kind: fc.constant("customer" as const), org: fc.option(identity, { nil: undefined }) }),
  fc.record({ kind: fc.constant("anonymous" as const), org: fc.option(identity, { nil: undefined }) }),
  fc.record({
    kind: fc.constant("refused" as const),
    key: fc.stringMatching(/^sk-[a-z0-9]{4,12}$/),
    org: fc.option(identity, { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant("blocked" as const),
    customer: fc.boolean(),
    org: fc.option(identity, { nil: undefined }),
  }),
);

let origin: TestOrigin;
let gate: TestGate;
let sent = 0;

beforeAll(async () => {
  origin = await startOrigin({ record: false, acceptKeys: (key) => key.startsWith("sk-customer-") });
  gate = await startGate({
    originUrl: origin.url,
    policy: POLICY,
    bindings: { EXPOSURE_FLUSH_SECONDS: "0.05", EXPOSURE_MAX_CUSTOMERS: "1" },
  });
});

afterAll(async () => {
  await gate?.dispose();
  await origin?.close();
});

async function send(country: string, key: string | null, org: string | undefined): Promise<void> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (org !== undefined) headers[ORG] = org;
  const res = await gate.fetch("/v1/chat/completions", {
    method: "POST",
    body: "{}",
    headers,
    cf: { country },
  });
  await res.arrayBuffer();
  sent++;
}

async function landed(): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const res = await fetch(`${gate.url}/__region-gate/exposure?summary=1`, { headers: admin });
    const { summary } = (await res.json()) as { summary: { requests: number }[] };
    if (summary.reduce((n, s) => n + s.requests, 0) >= sent) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the ledger did not receive ${sent} requests within 30 s`);
}

const getJson = async <T>(path: string, headers: Record<string, string> = admin): Promise<T> =>
  (await (await fetch(`${gate.url}/__region-gate${path}`, { headers })).json()) as T;

describe("a verified customer's counts, whatever else arrives", () => {
  it("are exact in the report, the notice and /check", { timeout: 300_000 }, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 14 }), async (events) => {
        const code = CODES[run % CODES.length]!;
        const key = `sk-customer-${run}-${Math.random().toString(36).slice(2)}`;
        run++;
        let mine = 0;
        for (const e of events) {
          if (e.kind === "customer") {
            await send(code, key, e.org);
            mine++;
          } else if (e.kind === "anonymous") await send(code, null, e.org);
          else if (e.kind === "refused") await send(code, e.key, e.org);
          else await send("CN", e.customer ? key : "sk-nobody", e.org);
        }
        await landed();

        const { rows } = await getJson<{ rows: { fingerprint: string; requests: number }[] }>(
          `/exposure?region=${code}`,
        );
        const counted = rows.filter((r) => r.fingerprint === fp(key)).reduce((n, r) => n + r.requests, 0);
        expect(counted).toBe(mine);
        expect(rows.some((r) => r.fingerprint === "overflow")).toBe(false);

        const { notices } = await getJson<{ notices: { fingerprint: string; requests: number }[] }>(
          `/exposure/notices?region=${code}`,
        );
        expect(notices.map((n) => [n.fingerprint, n.requests])).toEqual(mine > 0 ? [[fp(key), mine]] : []);

        const own = await getJson<{ ledger: { regions: { region: string; requests: number }[] } }>(
          "/check?format=json",
          { authorization: `Bearer ${key}` },
        );
        expect(own.ledger.regions.find((r) => r.region === code)?.requests ?? 0).toBe(mine);
      }),
      { numRuns: RUNS },
    );
  });
});
