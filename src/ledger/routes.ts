/**
 * `GET /exposure` (SPEC section 7), mounted by the admin app behind its token check.
 * Reads fan out to the ledger shards; a shard that cannot answer fails the whole read
 * (503), because a partial list would silently leave customers out of the mailing.
 */
import { Hono } from "hono";
import type { GateEnv } from "../config";
import { log } from "../log";
import { SHARDS, shardOf, shardStub } from "./model";
import { mergeSummaries, parseExposureQuery, rowsCsv, summaryCsv, toRows } from "./report";

export const exposureRoutes = new Hono<{ Bindings: GateEnv }>();

const errorJson = (message: string, type: string, code: string, param: string | null) => ({
  error: { message, type, param, code },
});

exposureRoutes.get("/exposure", async (c) => {
  const query = parseExposureQuery(new URL(c.req.url).searchParams);
  if ("error" in query) {
    return c.json(
      errorJson(query.error, "invalid_request_error", "invalid_exposure_query", query.param),
      400,
    );
  }
  const { filter } = query;
  // A region lives in exactly one shard; without a region filter, every shard is read.
  const shards = filter.region ? [shardOf(filter.region)] : Array.from({ length: SHARDS }, (_, i) => i);
  try {
    if (query.summary) {
      const summary = mergeSummaries(
        await Promise.all(shards.map((s) => shardStub(c.env, s).summary(filter))),
      );
      if (query.format === "csv") return csvResponse(summaryCsv(summary));
      return c.json({ summary });
    }
    const groups = await Promise.all(shards.map((s) => shardStub(c.env, s).rows(filter)));
    const rows = toRows(groups.flat());
    if (query.format === "csv") return csvResponse(rowsCsv(rows));
    return c.json({ rows });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log("error", "exposure_read_failed", { error: message });
    return c.json(
      errorJson(
        `the exposure ledger could not be read (${message}); retry, and check the EXPOSURE binding if it persists`,
        "server_error",
        "exposure_unavailable",
        null,
      ),
      503,
    );
  }
});

function csvResponse(body: string): Response {
  return new Response(body, { headers: { "content-type": "text/csv; charset=utf-8" } });
}
