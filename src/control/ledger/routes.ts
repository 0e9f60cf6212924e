/**
 * `GET /exposure` (SPEC section 7), mounted by the admin app behind its token check.
 * Reads fan out to the ledger shards (./client.ts); a shard that cannot answer fails the
 * whole read (503), because a partial list would silently leave customers out of the mailing.
 */

import { errorResponse } from "../../platform/errors";
import { log } from "../../platform/log";
import { newApp } from "../app";
import { readExposure, readRegionSummary, readShardStats } from "./client";
import { IDENTITY_NOTE, parseExposureQuery, rowsCsv, summaryCsv } from "./report";

export const exposureRoutes = newApp();

exposureRoutes.get("/exposure", async (c) => {
  const url = new URL(c.req.url);
  const query = parseExposureQuery(url.searchParams);
  if ("error" in query) {
    return errorResponse("invalid_exposure_query", query.error, { param: query.param });
  }
  const { filter } = query;
  try {
    if (query.summary) {
      const summary = await readRegionSummary(c.env, filter);
      if (query.format === "csv") return csvResponse(summaryCsv(summary));
      return c.json({ summary }, 200, NO_STORE);
    }
    const page = await readExposure(c.env, filter, { limit: query.limit, cursor: query.cursor });
    if (query.format === "csv") {
      const headers: Record<string, string> = { "x-identity-note": IDENTITY_NOTE };
      if (page.next !== null) {
        const next = new URL(url);
        next.searchParams.set("cursor", page.next);
        headers.link = `<${next.pathname}${next.search}>; rel="next"`;
      }
      return csvResponse(rowsCsv(page.rows), headers);
    }
    return c.json({ rows: page.rows, next: page.next, identityNote: IDENTITY_NOTE }, 200, NO_STORE);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log("error", "exposure_read_failed", { error: message });
    return errorResponse(
      "exposure_unavailable",
      `the exposure ledger could not be read (${message}); retry, and check the EXPOSURE binding if it persists`,
    );
  }
});

/** Per-shard size and load, to see how the ledger grows and how often isolates flush. */
exposureRoutes.get("/exposure/stats", async (c) =>
  c.json({ shards: await readShardStats(c.env) }, 200, NO_STORE),
);

const NO_STORE = { "cache-control": "no-store" };

function csvResponse(body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    headers: { "content-type": "text/csv; charset=utf-8", ...NO_STORE, ...headers },
  });
}
