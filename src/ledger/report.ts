/**
 * Exposure reports as pure functions: query parsing, merging the shards' answers, and
 * the JSON and CSV shapes that the admin route and `region-gate exposure report` share.
 */
import { csvField, identityText } from "./csv";
import type { LedgerFilter, LedgerGroup, LedgerRegionSummary } from "./ledger-do";
import { isLedgerDecision, LEDGER_DECISIONS, type LedgerDecision } from "./model";

/** A parsed `GET /exposure` query. */
export interface ExposureQuery {
  filter: LedgerFilter;
  format: "json" | "csv";
  summary: boolean;
}

/** One report row: a customer (fingerprint + identity) in a region on a day. */
export interface ExposureRow {
  day: string;
  region: string;
  fingerprint: string;
  identity: Record<string, string>;
  /** All counted requests (of the filtered decisions). */
  requests: number;
  /** Requests answered 403 (decision `block`; `monitor` would-be blocks are not in it). */
  blocked: number;
  decisions: Record<LedgerDecision, number>;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const REGION = /^[A-Z0-9]{2}(-[A-Z0-9]{1,3})?$/;

function validDay(s: string): boolean {
  if (!DAY.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().startsWith(s);
}

/**
 * Parses `from`, `to` (inclusive UTC days), `region`, `decision` (comma list), `format`
 * and `summary`. Returns the error text for a 400 when something is malformed.
 */
export function parseExposureQuery(q: URLSearchParams): ExposureQuery | { error: string; param: string } {
  const from = q.get("from") || "0000-01-01";
  const to = q.get("to") || "9999-12-31";
  for (const [param, value] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (!validDay(value)) {
      return {
        param,
        error: `${param}=${JSON.stringify(value)} is not a UTC day; use YYYY-MM-DD, e.g. 2024-07-09`,
      };
    }
  }
  if (from > to) return { param: "from", error: `from=${from} is after to=${to}; swap them` };
  const filter: LedgerFilter = { from, to };
  const region = q.get("region");
  if (region) {
    const code = region.toUpperCase();
    if (!REGION.test(code)) {
      return {
        param: "region",
        error: `region=${JSON.stringify(region)} is not a region code; use e.g. CN or UA-43`,
      };
    }
    filter.region = code;
  }
  const decision = q.get("decision");
  if (decision) {
    const list = decision.split(",").map((d) => d.trim());
    const bad = list.find((d) => !isLedgerDecision(d));
    if (bad !== undefined) {
      return {
        param: "decision",
        error: `decision=${JSON.stringify(bad)} is not counted by the ledger; use one or more of ${LEDGER_DECISIONS.join(",")}`,
      };
    }
    filter.decisions = list as LedgerDecision[];
  }
  const format = q.get("format") || "json";
  if (format !== "json" && format !== "csv") {
    return { param: "format", error: `format=${JSON.stringify(format)} is not supported; use json or csv` };
  }
  const summary = q.get("summary");
  if (summary !== null && !["", "0", "1", "true", "false"].includes(summary)) {
    return { param: "summary", error: `summary=${JSON.stringify(summary)} must be 1 or 0` };
  }
  return { filter, format, summary: summary === "1" || summary === "true" || summary === "" };
}

/** Report rows from the shards' groups, ordered by day, region, fingerprint, identity. */
export function toRows(groups: readonly LedgerGroup[]): ExposureRow[] {
  const rows = groups.map((g) => {
    let requests = 0;
    for (const d of LEDGER_DECISIONS) requests += g.decisions[d];
    return {
      day: g.day,
      region: g.region,
      fingerprint: g.fingerprint,
      identity: JSON.parse(g.identity) as Record<string, string>,
      requests,
      blocked: g.decisions.block,
      decisions: g.decisions,
      sortKey: `${g.day}\u0000${g.region}\u0000${g.fingerprint}\u0000${g.identity}`,
    };
  });
  rows.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
  return rows.map(({ sortKey: _, ...row }) => row);
}

/**
 * Per-region totals across shards. A region lives in one shard, so its distinct-customer
 * count is exact; were it ever split (a changed shard count), customers would be summed.
 */
export function mergeSummaries(parts: readonly LedgerRegionSummary[][]): LedgerRegionSummary[] {
  const by = new Map<string, LedgerRegionSummary>();
  for (const s of parts.flat()) {
    const seen = by.get(s.region);
    if (!seen) {
      by.set(s.region, { ...s });
      continue;
    }
    seen.customers += s.customers;
    seen.requests += s.requests;
    seen.blocked += s.blocked;
    if (s.firstDay < seen.firstDay) seen.firstDay = s.firstDay;
    if (s.lastDay > seen.lastDay) seen.lastDay = s.lastDay;
  }
  return [...by.values()].sort((a, b) => (a.region < b.region ? -1 : 1));
}

export { csvField, identityText };

const csvLine = (fields: (string | number)[]) => `${fields.map(csvField).join(",")}\r\n`;

/** CSV of report rows, with a header row. */
export function rowsCsv(rows: readonly ExposureRow[]): string {
  let out = csvLine(["day", "region", "fingerprint", "identity", "requests", "blocked", ...LEDGER_DECISIONS]);
  for (const r of rows) {
    out += csvLine([
      r.day,
      r.region,
      r.fingerprint,
      identityText(r.identity),
      r.requests,
      r.blocked,
      ...LEDGER_DECISIONS.map((d) => r.decisions[d]),
    ]);
  }
  return out;
}

/** CSV of the per-region summary, with a header row. */
export function summaryCsv(summary: readonly LedgerRegionSummary[]): string {
  let out = csvLine(["region", "customers", "requests", "blocked", "firstDay", "lastDay"]);
  for (const s of summary)
    out += csvLine([s.region, s.customers, s.requests, s.blocked, s.firstDay, s.lastDay]);
  return out;
}
