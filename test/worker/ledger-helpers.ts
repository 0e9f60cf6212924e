/**
 * Helpers shared by the ledger tests: drive the gate, wait for the background HMACs,
 * flush, and read the ledger back through the admin route and the shards themselves.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { SHARDS, shardStub } from "../../src/exposure/model";
import { type ExposureEvent, exposureStats, flushExposure } from "../../src/gate/recorder";
import { adminFetch, call, type EdgeFacts } from "./call";

export const SALT = "test-identity-salt";

/** A plain exposure event as the gate hands it to the recorder (blocked, no key, unless `over`). */
export function exposureEvent(code: string, over: Partial<ExposureEvent> = {}): ExposureEvent {
  return {
    at: Date.now(),
    code,
    decision: "block",
    fingerprint: null,
    key: null,
    verified: false,
    identity: "{}",
    network: null,
    ...over,
  };
}

/**
 * One gate request with an edge country and optional headers and edge facts. The echo
 * origin answers `x-test-origin-status` (default 200): 401 or 403 is the origin refusing the key.
 */
export async function send(
  country: string,
  headers: Record<string, string> = {},
  cf: EdgeFacts = {},
): Promise<number> {
  const res = await call("/v1/chat/completions", {
    method: "POST",
    body: "{}",
    headers,
    cf: { country, ...cf },
  });
  await res.arrayBuffer();
  return res.status;
}

/** Waits (bounded) until this isolate has counted `events` more events than `since`. */
export async function settle(since: number, events: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (exposureStats().recordedEvents < since + events) {
    if (Date.now() > deadline) {
      throw new Error(`recorded ${exposureStats().recordedEvents - since} of ${events} events within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits for `events` recorded events since `since`, then flushes to the Durable Objects. */
export async function settleAndFlush(since: number, events: number): Promise<void> {
  await settle(since, events);
  await flushExposure(env);
}

/** `GET /__region-gate/exposure?query` as the admin. */
export function exposure(query: string): Promise<Response> {
  return adminFetch(`/exposure?${query}`);
}

/** Every row of every table of every shard, as text (to search for what must not be there). */
export async function dumpAllShards(): Promise<string> {
  let text = "";
  for (let shard = 0; shard < SHARDS; shard++) {
    text += await runInDurableObject(shardStub(env, shard), (_, state) => {
      const sql = state.storage.sql;
      const tables = sql
        // workerd's own _cf_* tables refuse reads (SQLITE_AUTH); every other table is dumped.
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '!_cf!_%' ESCAPE '!'",
        )
        .toArray();
      let out = "";
      for (const { name } of tables) out += JSON.stringify(sql.exec(`SELECT * FROM "${name}"`).toArray());
      return out;
    });
  }
  return text;
}
