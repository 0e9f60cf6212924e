/**
 * Load on a shard (docs/ledger.md): a shard asks every isolate that calls it to wait
 * callers ÷ EXPOSURE_SHARD_CALLS_PER_SECOND between flushes, the recorder honours that,
 * and a failing shard is backed off instead of being called again at once. Its own file,
 * because the recorder's per-isolate state is shared by the tests of a file.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readShardStats } from "../../src/control/ledger/client";
import { shardOf, shardStub, utcDay } from "../../src/exposure/model";
import { exposureStats, recordExposure } from "../../src/gate/recorder";
import type { GateEnv } from "../../src/platform/config";
import { compilePolicy } from "../../src/policy/compile";
import type { Verdict } from "../../src/policy/decision";
import { factsOf } from "../../src/policy/facts";
import { livePolicy } from "../fixtures/policies";

const policy = compilePolicy(livePolicy({ identity: { headers: ["x-org"] } }));
const ctx = { waitUntil: (p: Promise<unknown>) => void p };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function record(e: GateEnv, region: string, org: string): void {
  const verdict: Verdict = { decision: "block", region, country: region, rule: "test" };
  const request = new Request("https://gate.test/v1/x", { headers: { "x-org": org } });
  recordExposure(ctx, e, policy, factsOf(request, "/v1/x"), verdict);
}

async function until(what: () => boolean, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; !what(); await sleep(10)) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
  }
}

describe("shard pacing", () => {
  it("asks callers ÷ budget of every isolate, counting each isolate once", { timeout: 30_000 }, async () => {
    const stub = shardStub(env, shardOf("MO"));
    const day = utcDay(Date.now());
    // 300 isolates (the default budget is 100 calls/s): each should wait 3 s.
    let last = { applied: false, flushAfterMs: 0 };
    for (let i = 0; i < 300; i++)
      last = await stub.record(`pace-${i}`, [[day, "MO", "anonymous", "{}", "block", 1]], `isolate-${i}`);
    expect(last).toEqual({ applied: true, flushAfterMs: 3000 });
    // The same isolate again is not a new caller.
    expect((await stub.record("pace-again", [], "isolate-7")).flushAfterMs).toBe(3000);
    const stats = (await readShardStats(env))[shardOf("MO")];
    expect(stats).toMatchObject({ callers: 300, flushAfterMs: 3000 });
  });

  it("an isolate waits for the interval its shard asked before calling it again", {
    timeout: 30_000,
  }, async () => {
    const fast: GateEnv = { ...env, EXPOSURE_FLUSH_SECONDS: "0.05" };
    const before = exposureStats();
    record(fast, "MO", "first");
    await until(() => exposureStats().flushedEvents > before.flushedEvents, 5000);
    const calls = exposureStats().ledgerCalls;
    const answeredAt = Date.now();

    record(fast, "MO", "second"); // the shard asked for 3 s: this one waits
    await sleep(1000);
    expect(exposureStats().ledgerCalls).toBe(calls);
    expect(exposureStats().bufferedEvents).toBe(1);
    await until(() => exposureStats().ledgerCalls > calls, 10_000);
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(2900);
    await until(() => exposureStats().flushedEvents === before.flushedEvents + 2, 5000);
  });

  it("backs a failing shard off instead of calling it again at once", { timeout: 30_000 }, async () => {
    const broken: GateEnv = {
      ...env,
      EXPOSURE_FLUSH_SECONDS: "0.01",
      EXPOSURE: {
        idFromName() {
          throw new Error("EXPOSURE binding unavailable (test)");
        },
      } as unknown as GateEnv["EXPOSURE"],
    };
    const before = exposureStats();
    record(broken, "KP", "backoff");
    await sleep(700);
    const failed = exposureStats().failedCalls - before.failedCalls;
    // Retried every 10 ms that would be ~70 calls; doubling from 10 ms it is at most 7.
    expect(failed).toBeGreaterThanOrEqual(1);
    expect(failed).toBeLessThanOrEqual(7);
    expect(exposureStats().droppedEvents - before.droppedEvents + exposureStats().retryEvents).toBe(1);
  });
});
