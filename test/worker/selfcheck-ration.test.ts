/**
 * `/check`'s ledger lookups are rationed per client address (SPEC section 7, issue 22 item
 * 4): a caller sending random keys gets 429 with `Retry-After` once over its ration, and
 * nobody else loses a lookup; a fingerprint answered from the cache costs nothing.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { LOOKUPS_PER_MINUTE, resetOwnLedgerCache } from "../../src/control/selfcheck/own-ledger";
import { livePolicy } from "../fixtures/policies";
import { call } from "./call";

const check = (ip: string, key: string, format = "json") =>
  call(`/__region-gate/check?format=${format}`, {
    headers: { authorization: `Bearer ${key}`, "cf-connecting-ip": ip },
    cf: { country: "JP" },
  });

interface View {
  country: string | null;
  decision: string;
  ledger: { fingerprint: string | null; error?: string; requests?: number } | null;
}

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(livePolicy({ version: "ration.1" })));
  resetOwnLedgerCache();
});

describe("/check ledger lookups per client address", () => {
  it("the caller over its ration gets 429 with Retry-After; another address is unaffected", async () => {
    const attacker = "203.0.113.50";
    const customer = "198.51.100.60";
    for (let i = 0; i < LOOKUPS_PER_MINUTE; i++) {
      const res = await check(attacker, `sk-random-${i}`);
      expect(res.status, `lookup ${i}`).toBe(200);
      expect(((await res.json()) as View).ledger).toMatchObject({ requests: 0 });
    }
    for (let i = 0; i < 5; i++) {
      const over = await check(attacker, `sk-random-more-${i}`);
      expect(over.status).toBe(429);
      const retry = Number(over.headers.get("retry-after"));
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(60);
      const body = (await over.json()) as View;
      // The rest of the answer is still given; only the ledger part is refused.
      expect(body).toMatchObject({ country: "JP", decision: "pass" });
      expect(body.ledger?.error).toMatch(/Too many traffic-record lookups from your address/);
    }
    const html = await check(attacker, "sk-random-html", "html");
    expect(html.status).toBe(429);
    expect(html.headers.get("retry-after")).toMatch(/^\d+$/);
    // A key the attacker looked up before is answered from the cache: no lookup needed.
    expect((await check(attacker, "sk-random-0")).status).toBe(200);

    // The real customer, from its own address, still gets its record.
    const mine = await check(customer, "sk-customer-own-key");
    expect(mine.status).toBe(200);
    const view = (await mine.json()) as View;
    expect(view.ledger?.error).toBeUndefined();
    expect(view.ledger).toMatchObject({ requests: 0 });
  });

  it("a check without a key looks nothing up and is never rationed", async () => {
    for (let i = 0; i < LOOKUPS_PER_MINUTE + 5; i++) {
      const res = await call("/__region-gate/check?format=json", {
        headers: { "cf-connecting-ip": "203.0.113.50" },
        cf: { country: "JP" },
      });
      expect(res.status).toBe(200);
    }
  });
});
