/**
 * `GET /exposure` (SPEC section 7), mounted by the admin app behind its token check.
 * Reads fan out to the ledger shards; a shard that cannot answer fails the whole read
 * (503), because a partial list would silently leave customers out of the mailing.
 */
import { Hono } from "hono";
import { adminError } from "../admin/http";
import type { GateEnv } from "../config";
import { log } from "../log";
import { SHARDS, shardStub, shardsFor } from "./model";
import { mergeSummaries, parseExposureQuery, rowsCsv, summaryCsv, toRows } from "./report";

export const exposureRoutes = new Hono<{ Bindings: GateEnv }>();

exposureRoutes.get("/exposure", async (c) => {
  const query = parseExposureQuery(new URL(c.req.url).searchParams);
  if ("error" in query) {
    return adminError(400, "invalid_exposure_query", query.error, { param: query.param });
  }
  const { filter } = query;
  // A region lives in exactly one shard; without a region filter, every shard is read.
  const shards = shardsFor(filter.region);
  try {
    if (query.summary) {
      const summary = mergeSummaries(
        await Promise.all(shards.map((s) => shardStub(c.env, s).summary(filter))),
      );
      if (query.format === "csv") return csvResponse(summaryCsv(summary));
      return c.json({ summary }, 200, NO_STORE);
    }
    const groups = await Promise.all(shards.map((s) => shardStub(c.env, s).rows(filter)));
    const rows = toRows(groups.flat());
    if (query.format === "csv") return csvResponse(rowsCsv(rows));
    return c.json({ rows }, 200, NO_STORE);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log("error", "exposure_read_failed", { error: message });
    return adminError(
      503,
      "exposure_unavailable",
      `the exposure ledger could not be read (${message}); retry, and check the EXPOSURE binding if it persists`,
    );
  }
});

/** Per-shard size and load, to see how the ledger grows and how often isolates flush. */
exposureRoutes.get("/exposure/stats", async (c) => {
  const shards = await Promise.all(
    Array.from({ length: SHARDS }, async (_, shard) => ({
      shard,
      ...(await shardStub(c.env, shard).stats()),
    })),
  );
  return c.json({ shards }, 200, NO_STORE);
});

const NO_STORE = { "cache-control": "no-store" };

function csvResponse(body: string): Response {
  return new Response(body, { headers: { "content-type": "text/csv; charset=utf-8", ...NO_STORE } });
}
