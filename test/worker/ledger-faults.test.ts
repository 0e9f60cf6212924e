/**
 * Ledger faults: the gate is called directly with an env whose EXPOSURE binding throws,
 * in a file of its own so that no delayed flush of another test shares the isolate buffer.
 */
import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  exposureStats,
  flushExposure,
  MAX_BUFFER_KEYS,
  MAX_RETRY_KEYS,
  recordExposure,
} from "../../src/gate/recorder";
import { type GateEnv, readConfig } from "../../src/platform/config";
import { livePolicy } from "../fixtures/policies";
import { call } from "./call";
import { exposure, exposureEvent, settle } from "./ledger-helpers";

// No delayed flush during these tests: each one flushes when it means to.
const quiet: GateEnv = { ...env, EXPOSURE_FLUSH_SECONDS: "3600" };
const broken: GateEnv = {
  ...quiet,
  EXPOSURE: {
    idFromName() {
      throw new Error("EXPOSURE binding unavailable (test)");
    },
    get() {
      throw new Error("EXPOSURE binding unavailable (test)");
    },
  } as unknown as GateEnv["EXPOSURE"],
};

beforeAll(async () => {
  await env.POLICY.put("policy", JSON.stringify(livePolicy()));
});

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * One request through the real app with `e` as its env. The execution context is not
 * awaited: it holds the recorder's delayed flush (an hour here); tests wait with `settle`.
 */
async function gate(e: GateEnv, country: string, key?: string): Promise<Response> {
  const res = await call("/v1/models", { token: key, cf: { country }, env: { ...e } });
  await res.arrayBuffer();
  return res;
}

function spyLogs(): string[] {
  const lines: string[] = [];
  for (const m of ["log", "warn", "error"] as const) {
    vi.spyOn(console, m).mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
  }
  return lines;
}

describe("exposure ledger faults", () => {
  it("serves requests as usual while the ledger is unreachable, then counts the loss and logs it", async () => {
    const logs = spyLogs();
    const before = exposureStats();
    for (let i = 0; i < 10; i++) expect((await gate(broken, "CN", `sk-fault-${i % 2}`)).status).toBe(403);
    for (let i = 0; i < 3; i++) expect((await gate(broken, "JP")).status).toBe(200);
    await settle(before.recordedEvents, 10);

    await flushExposure(broken);
    expect(exposureStats().retryEvents).toBe(10);
    expect(logs.some((l) => l.includes('"exposure_flush_failed"'))).toBe(true);
    for (let attempt = 2; attempt <= 5; attempt++) await flushExposure(broken);

    const after = exposureStats();
    expect(after.droppedEvents - before.droppedEvents).toBe(10);
    expect(after.retryEvents).toBe(0);
    const dropped = logs.filter((l) => l.includes('"exposure_dropped"')).map((l) => JSON.parse(l));
    expect(dropped.reduce((sum, l) => sum + l.events, 0)).toBe(10);
    expect(dropped[0]).toMatchObject({ level: "error", reason: "attempts_exhausted" });
  });

  it("retries a failed flush with the next one and counts it once", async () => {
    spyLogs();
    const before = exposureStats();
    for (let i = 0; i < 4; i++) expect((await gate(broken, "HK")).status).toBe(403);
    await flushExposure(broken);
    expect(exposureStats().retryEvents).toBe(4);
    await flushExposure(quiet);
    expect(exposureStats().droppedEvents).toBe(before.droppedEvents);

    const res = await exposure("region=HK&summary=1");
    expect(await res.json()).toMatchObject({
      summary: [{ region: "HK", customers: 0, requests: 4, blocked: 4 }], // anonymous is not a customer
    });
  });

  // 25 000 distinct keys, then 20 000 of them written once the ledger is back: seconds of work.
  it("bounds memory while the ledger is down: past the retry bound, batches drop with a count", {
    timeout: 60_000,
  }, async () => {
    spyLogs();
    const before = exposureStats();
    const ctx = { waitUntil: (p: Promise<unknown>) => void p };
    const brokenFast: GateEnv = { ...broken, EXPOSURE_FLUSH_SECONDS: "0.01" };
    const settings = readConfig(brokenFast).ledger;
    const distinct = MAX_RETRY_KEYS + MAX_BUFFER_KEYS; // one more full buffer than the retry queue holds
    for (let i = 0; i < distinct; i++) {
      const identity = JSON.stringify({ "x-org": `org-${i}` });
      const event = exposureEvent("SY", { fingerprint: "5151515151515151", verified: true, identity });
      recordExposure(ctx, brokenFast, settings, event);
      expect(exposureStats().bufferedKeys).toBeLessThanOrEqual(MAX_BUFFER_KEYS);
    }
    // The early flushes have failed once each (a failed shard's timer, minutes away, is not awaited).
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      const now = exposureStats();
      if (now.failedCalls - before.failedCalls >= now.forcedFlushes - before.forcedFlushes) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(exposureStats().forcedFlushes - before.forcedFlushes).toBeGreaterThanOrEqual(
      distinct / MAX_BUFFER_KEYS - 1,
    );
    await flushExposure(broken);

    const after = exposureStats();
    expect(after.recordedEvents - before.recordedEvents).toBe(distinct);
    expect(after.retryEvents).toBeLessThanOrEqual(MAX_RETRY_KEYS);
    expect(after.retryEvents + after.droppedEvents - before.droppedEvents).toBe(distinct);
    expect(after.droppedEvents - before.droppedEvents).toBeGreaterThanOrEqual(MAX_BUFFER_KEYS);

    await flushExposure(quiet); // drains what was kept, so later tests start clean
    expect(exposureStats().retryEvents).toBe(0);
  });

  it("records nothing when EXPOSURE_LEDGER is off", async () => {
    const before = exposureStats().recordedEvents;
    expect((await gate({ ...quiet, EXPOSURE_LEDGER: "off" }, "CN", "sk-off")).status).toBe(403);
    expect(exposureStats().recordedEvents).toBe(before);
  });
});
