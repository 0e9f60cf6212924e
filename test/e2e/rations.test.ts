/**
 * Rations per client address over real HTTP against the built bundles (SPEC section 7,
 * issue 22 items 4 and 5): `/check` ledger lookups and failed admin authentications, sent to
 * the gate's hostname, so the control plane rations what reaches it through the CONTROL
 * service binding. Locally the client plays the edge by sending `CF-Connecting-IP` (in
 * production Cloudflare sets it).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { livePolicy } from "../fixtures/policies";
import { startGate, startOrigin, TEST_ADMIN_TOKEN, type TestGate, type TestOrigin } from "./harness";

let origin: TestOrigin;
let gate: TestGate;

beforeAll(async () => {
  origin = await startOrigin();
  gate = await startGate({ originUrl: origin.url, policy: livePolicy() });
});
afterAll(async () => {
  await gate?.dispose();
  await origin?.close();
});

const JP = { country: "JP" };

describe("rations per client address", () => {
  test("random keys from one address exhaust its /check lookups, not another address's", async () => {
    const check = (ip: string, key: string) =>
      gate.fetch("/__region-gate/check?format=json", {
        cf: JP,
        headers: { authorization: `Bearer ${key}`, "cf-connecting-ip": ip },
      });
    let limited: Response | null = null;
    for (let i = 0; i < 100 && limited === null; i++) {
      const res = await check("203.0.113.70", `sk-e2e-random-${i}`);
      if (res.status === 429) limited = res;
      else {
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
    }
    expect(limited, "no 429 within 100 random keys").not.toBeNull();
    expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await limited?.arrayBuffer();
    const other = await check("198.51.100.71", "sk-e2e-real-customer");
    expect(other.status).toBe(200);
    const body = (await other.json()) as { ledger: { error?: string; requests?: number } };
    expect(body.ledger.error).toBeUndefined();
    expect(body.ledger.requests).toBe(0);
  });

  test("wrong admin tokens from one address get 429; another address still gets in", async () => {
    const history = (ip: string, token: string) =>
      gate.fetch("/__region-gate/policy/history", {
        headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": ip },
      });
    let limited: Response | null = null;
    for (let i = 0; i < 50 && limited === null; i++) {
      const res = await history("203.0.113.72", `guess-${i}-${"x".repeat(32)}`);
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(401);
      await res.arrayBuffer();
    }
    expect(limited, "no 429 within 50 wrong tokens").not.toBeNull();
    expect(limited?.headers.get("retry-after")).toMatch(/^\d+$/);
    const right = await history("203.0.113.72", TEST_ADMIN_TOKEN);
    expect(right.status).toBe(429);
    await right.arrayBuffer();
    const operator = await history("198.51.100.73", TEST_ADMIN_TOKEN);
    expect(operator.status).toBe(200);
    await operator.arrayBuffer();
  });
});
