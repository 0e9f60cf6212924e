/**
 * Load on a shard (docs/ledger.md): a shard asks every isolate that calls it to wait
 * callers ÷ EXPOSURE_SHARD_CALLS_PER_SECOND between flushes, the recorder honours that,
 * and a failing shard is backed off instead of being called again at once. Its own file,
 * because the recorder's per-isolate state is shared by the tests of a file.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readShardStats } from "../../src/control/ledger/client";
import { ExposureLedger } from "../../src/control/ledger/ledger-do";
import { MAX_FLUSH_AFTER_MS, shardOf, shardStub, utcDay } from "../../src/exposure/model";
import { exposureStats, recordExposure } from "../../src/gate/recorder";
import { type GateEnv, readConfig } from "../../src/platform/config";
import { exposureEvent } from "./ledger-helpers";

const ctx = { waitUntil: (p: Promise<unknown>) => void p };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function record(e: GateEnv, region: string, org: string): void {
  const identity = JSON.stringify({ "x-org": org });
  recordExposure(
    ctx,
    e,
    readConfig(e).ledger,
    exposureEvent(region, { fingerprint: "7a7a7a7a7a7a7a7a", verified: true, identity }),
  );
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

  it("never asks more than MAX_FLUSH_AFTER_MS, however fast new isolates arrive (issue 20, finding 5)", async () => {
    // A budget of 1 call/s: 200 isolates would be asked for 200 s, and the caller window
    // (twice the interval) would keep each counted for 400 s, so the interval fed itself.
    const tight: GateEnv = { ...env, EXPOSURE_SHARD_CALLS_PER_SECOND: "1" };
    const day = utcDay(Date.now());
    const asked = await runInDurableObject(shardStub(env, shardOf("CU")), async (_, state) => {
      const shard = new ExposureLedger(state, tight);
      const out: number[] = [];
      for (let i = 0; i < 200; i++)
        out.push(
          (await shard.record(`bound-${i}`, [[day, "CU", "anonymous", "{}", "block", 1]], `new-isolate-${i}`))
            .flushAfterMs,
        );
      return out;
    });
    expect(asked[29]).toBe(30_000); // below the bound: callers ÷ budget
    expect(Math.max(...asked)).toBe(MAX_FLUSH_AFTER_MS);
    expect(asked[199]).toBe(MAX_FLUSH_AFTER_MS);
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
