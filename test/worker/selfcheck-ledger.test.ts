/**
 * The customer's own view in `/check`: a key sees its own ledger record over the last 30
 * days and nothing of any other key's; no key and a wrong key see nothing of the first.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { resetOwnLedgerCache } from "../../src/control/selfcheck/own-ledger";
import { exposureStats } from "../../src/gate/recorder";
import { fingerprint } from "../../src/platform/fingerprint";
import { livePolicy } from "../fixtures/policies";
import { call } from "./call";
import { SALT, send, settleAndFlush } from "./ledger-helpers";

const ORG = "openai-organization";
const KEY_A = "sk-own-view-first-key-0001";
const KEY_B = "sk-own-view-second-key-0002";
const WRONG = "sk-own-view-never-used-9999";

const check = (headers: Record<string, string>, query = "format=json") =>
  call(`/__region-gate/check?${query}`, { headers, cf: { country: "JP" } });

interface View {
  ledger: null | {
    fingerprint: string | null;
    error?: string;
    requests?: number;
    identities?: Record<string, string>[];
    regions?: {
      region: string;
      days: number;
      requests: number;
      decisions: Record<string, number>;
      networks: { network: string; name: string | null; class: string | null; requests: number }[];
      cappedDays: string[];
      next: { action: string; text: string };
    }[];
    capped?: boolean;
    notice?: string | null;
    readAt?: string;
  };
}

let fpA: string;
let fpB: string;

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(livePolicy({ identity: { headers: [ORG] } })));
  resetOwnLedgerCache();
  fpA = await fingerprint(SALT, KEY_A);
  fpB = await fingerprint(SALT, KEY_B);
  const since = exposureStats().recordedEvents;
  const a = { authorization: `Bearer ${KEY_A}`, [ORG]: "org-first" };
  const b = { authorization: `Bearer ${KEY_B}`, [ORG]: "org-second" };
  const amazon = { asn: 16509, asOrganization: "Amazon.com" };
  expect(await send("VE", a, amazon)).toBe(200);
  expect(await send("VE", a, amazon)).toBe(200);
  // Blocked, and CN never accepted for this key: counted under `unverified`, not under it.
  expect(await send("CN", a)).toBe(403);
  expect(await send("BY", b)).toBe(200);
  await settleAndFlush(since, 4);
});

describe("/check with the caller's own key", () => {
  it("shows that key's regions, requests per decision and next step, never the key", async () => {
    const res = await check({ authorization: `Bearer ${KEY_A}` });
    expect(res.status).toBe(200);
    expect(res.headers.get("vary")).toBe("accept, authorization");
    const text = await res.text();
    expect(text).not.toContain(KEY_A);
    const { ledger } = JSON.parse(text) as View;
    expect(ledger?.fingerprint).toBe(fpA);
    expect(ledger?.requests).toBe(2);
    expect(ledger?.identities).toEqual([{ [ORG]: "org-first" }]);
    expect(
      ledger?.regions?.map((r) => [r.region, r.days, r.requests, r.decisions.block, r.decisions.warn]),
    ).toEqual([["VE", 1, 2, 0, 2]]);
    expect(ledger?.regions?.[0]?.networks).toEqual([
      { network: "AS16509", name: "Amazon.com", class: null, requests: 2 },
    ]);
    expect(ledger?.regions?.map((r) => r.next.action)).toEqual(["block"]);
    expect(ledger?.capped).toBe(false);
    // What the notice would say: greeting, the fingerprint, the region in words, the network.
    expect(ledger?.notice).toContain("Hello,");
    expect(ledger?.notice).toContain(`\`${fpA}\``);
    expect(ledger?.notice).toContain("Venezuela: 2 requests on ");
    expect(ledger?.notice).toContain("AS16509 `Amazon.com`");
    expect(ledger?.notice).toContain("https://gate.test/__region-gate/check");
    expect(text).not.toContain(fpB);
    expect(text).not.toContain("org-second");
  });

  it("another key sees only its own rows", async () => {
    const text = await (await check({ authorization: `Bearer ${KEY_B}` })).text();
    const { ledger } = JSON.parse(text) as View;
    expect(ledger?.fingerprint).toBe(fpB);
    expect(ledger?.regions?.map((r) => r.region)).toEqual(["BY"]);
    for (const leak of [fpA, KEY_A, KEY_B, "org-first", '"CN"', '"VE"', "Amazon"])
      expect(text).not.toContain(leak);
  });

  it("a wrong key sees an empty record; no key sees no record", async () => {
    const wrong = await (await check({ authorization: `Bearer ${WRONG}` })).text();
    const view = JSON.parse(wrong) as View;
    expect(view.ledger?.fingerprint).toBe(await fingerprint(SALT, WRONG));
    expect(view.ledger?.regions).toEqual([]);
    const none = await (await check({})).text();
    expect((JSON.parse(none) as View).ledger).toBeNull();
    for (const text of [wrong, none]) {
      for (const leak of [fpA, fpB, KEY_A, WRONG, "org-first", '"CN"']) expect(text).not.toContain(leak);
    }
  });

  it("shows the record on the HTML page too, without the key", async () => {
    const res = await check({ authorization: `Bearer ${KEY_A}` }, "format=html");
    const html = await res.text();
    expect(html).toContain("Your key&#39;s traffic from unsupported regions");
    expect(html).toContain(fpA);
    expect(html).toContain("Venezuela");
    expect(html).toContain("The notice we would send about this key");
    expect(html).not.toContain(KEY_A);
    const other = await (await check({ authorization: `Bearer ${KEY_B}` }, "format=html")).text();
    expect(other).not.toContain(fpA);
    expect(other).not.toContain("Venezuela");
  });

  it("answers a fingerprint from its cache for a minute", async () => {
    resetOwnLedgerCache();
    const first = (await (await check({ authorization: `Bearer ${KEY_A}` })).json()) as View;
    const since = exposureStats().recordedEvents;
    expect(await send("VE", { authorization: `Bearer ${KEY_A}`, [ORG]: "org-first" })).toBe(200);
    await settleAndFlush(since, 1);
    const again = (await (await check({ authorization: `Bearer ${KEY_A}` })).json()) as View;
    expect(again.ledger?.readAt).toBe(first.ledger?.readAt);
    expect(again.ledger?.requests).toBe(2);
    resetOwnLedgerCache();
    const fresh = (await (await check({ authorization: `Bearer ${KEY_A}` })).json()) as View;
    expect(fresh.ledger?.requests).toBe(3);
  });
});
