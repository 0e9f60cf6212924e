import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { invalidatePolicy, storeStats } from "../../src/store/store";
import { livePolicy } from "../fixtures/policies";
import { call, faultyKv } from "./call";

// The policy cache: one KV read per TTL, however many requests, and under concurrency.
// workerd must never see one request wait on a KV read another request started
// (bench/README.md, Soak finding 1), and an admin write must not be undone by a read that
// began before it. What the store does when KV fails is policy-store-faults.test.ts.

async function gate(overrides: Record<string, unknown> = {}, country = "CN") {
  const env = { EXPOSURE_LEDGER: "off", ...overrides };
  const res = await call("/v1/chat/completions", { cf: { country }, env, wait: true });
  await res.arrayBuffer();
  return res;
}

const timed = async <T>(promise: Promise<T>): Promise<[T, number]> => {
  const started = Date.now();
  const value = await promise;
  return [value, Date.now() - started];
};

describe("policy cache TTL", () => {
  it("loads a policy to decide by", async () => {
    await env.POLICY.put("policy", JSON.stringify(livePolicy({ version: "ttl.1" })));
    invalidatePolicy();
    expect((await gate()).status).toBe(403);
    expect((await gate({}, "JP")).status).toBe(200);
  });

  it("reads KV once for N concurrent and sequential requests inside the TTL", async () => {
    invalidatePolicy();
    const before = storeStats.kvReads;
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => gate()));
    for (let i = 0; i < 10; i++) await gate({}, "JP");
    expect(concurrent.every((r) => r.status === 403)).toBe(true);
    expect(storeStats.kvReads - before).toBe(1);
  });

  it("reads KV again once the TTL has passed", async () => {
    invalidatePolicy();
    await gate({ POLICY_CACHE_SECONDS: "1" }, "JP");
    const before = storeStats.kvReads;
    await gate({ POLICY_CACHE_SECONDS: "1" }, "JP");
    expect(storeStats.kvReads - before).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    await gate({ POLICY_CACHE_SECONDS: "1" }, "JP");
    expect(storeStats.kvReads - before).toBe(1);
  });
});

describe("policy cache under concurrency", () => {
  it("a request does not wait for a KV read another request started; it keeps the current policy", async () => {
    await env.POLICY.put("policy", JSON.stringify(livePolicy({ version: "store.1" })));
    invalidatePolicy();
    expect((await gate()).headers.get("x-region-gate-policy")).toBe("store.1");

    invalidatePolicy();
    const hung = { POLICY: faultyKv("hang") };
    // A reads KV (which hangs until KV_TIMEOUT_MS); B arrives meanwhile.
    const a = timed(gate(hung));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [b, bMs] = await timed(gate(hung));
    expect(b.status).toBe(403);
    expect(b.headers.get("x-region-gate-policy")).toBe("store.1");
    expect(bMs).toBeLessThan(1000);
    // A waited for its own read, timed out, and kept the last known good policy.
    const [aRes, aMs] = await a;
    expect(aRes.headers.get("x-region-gate-policy")).toBe("store.1");
    expect(aMs).toBeGreaterThanOrEqual(1900);
  });

  it("a read that began before an admin write cannot re-arm the cache with the old document", async () => {
    await env.POLICY.put("policy", JSON.stringify(livePolicy({ version: "store.2" })));
    invalidatePolicy();
    // A's read captures store.2, then takes 300 ms; the write to store.3 lands meanwhile.
    const a = gate({ POLICY: faultyKv(300), POLICY_CACHE_SECONDS: "30" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await env.POLICY.put("policy", JSON.stringify(livePolicy({ version: "store.3" })));
    invalidatePolicy();
    expect((await a).headers.get("x-region-gate-policy")).toBe("store.2");
    // The next request reads again instead of trusting A's read for 30 s.
    const next = await gate({ POLICY_CACHE_SECONDS: "30" });
    expect(next.headers.get("x-region-gate-policy")).toBe("store.3");
  });

  it("a read whose request was cancelled before it settled does not stop later reads", async () => {
    await env.POLICY.put("policy", JSON.stringify(livePolicy({ version: "store.4" })));
    invalidatePolicy();
    expect((await gate()).headers.get("x-region-gate-policy")).toBe("store.4");
    // Frozen timers: the KV timeout never fires, as for a request that workerd cancelled.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    invalidatePolicy();
    void gate({ POLICY: faultyKv("hang") });
    await Promise.resolve();
    await env.POLICY.put("policy", JSON.stringify(livePolicy({ version: "store.5" })));
    vi.setSystemTime(Date.now() + 10_000);
    const before = storeStats.kvReads;
    const next = await gate({ POLICY_CACHE_SECONDS: "30" });
    expect(storeStats.kvReads - before).toBe(1);
    expect(next.headers.get("x-region-gate-policy")).toBe("store.5");
  });
});

afterEach(() => {
  vi.useRealTimers();
});
