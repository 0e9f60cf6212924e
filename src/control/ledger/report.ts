/**
 * Exposure reports as pure functions: query parsing, merging the shards' answers, and
 * the JSON and CSV shapes that the admin route and `region-gate exposure report` share.
 */

import {
  LEDGER_DECISIONS,
  type LedgerDecision,
  type LedgerFilter,
  type LedgerGroup,
  type LedgerNetwork,
  type LedgerRegionSummary,
  parseIdentity,
  type RowKey,
} from "../../exposure/wire";
import { base64url, fromBase64url } from "../../platform/base64url";
import { parseDay } from "../../platform/day";
import { isLedgerDecision } from "../../policy/ledger-decisions";
import { csvField, identityText } from "./csv";

/** Default and largest page of `GET /exposure` (SPEC section 7). */
export const DEFAULT_PAGE_ROWS = 1000;
export const MAX_PAGE_ROWS = 10_000;

export const keyOf = (g: LedgerGroup): RowKey => [g.fingerprint, g.identity, g.region, g.day];

/**
 * Order of SQLite's BINARY collation (UTF-8 bytes), which is code point order; plain `<`
 * on JS strings compares UTF-16 units and differs for characters past U+FFFF.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

export function compareKeys(a: RowKey, b: RowKey): number {
  for (let i = 0; i < 4; i++) {
    const c = compareText(a[i] as string, b[i] as string);
    if (c !== 0) return c;
  }
  return 0;
}

/** Opaque cursor: base64url of the JSON of the last row key of a page. */
export function encodeCursor(key: RowKey): string {
  return base64url(new TextEncoder().encode(JSON.stringify(key)));
}

/** The row key of a cursor, or null when it is not one this ledger handed out. */
export function decodeCursor(cursor: string): RowKey | null {
  try {
    const bytes = fromBase64url(cursor);
    if (bytes === null) return null;
    const key: unknown = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes),
    );
    if (Array.isArray(key) && key.length === 4 && key.every((k) => typeof k === "string"))
      return key as RowKey;
  } catch {
    // falls through: not a cursor
  }
  return null;
}

/** A parsed `GET /exposure` query. */
export interface ExposureQuery {
  filter: LedgerFilter;
  format: "json" | "csv";
  summary: boolean;
  /** Rows per page (1 to 10 000; default 1 000). */
  limit: number;
  /** The previous page's `next`, as sent (checked to be one). */
  cursor: string | null;
}

/** Said by every report that shows identity values (SPEC section 6); one text for reports and notices. */
export { IDENTITY_NOTE } from "../notices/notices";

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
  /** The origin accepted this fingerprint for this code on a kept day (false for the buckets). */
  verified: boolean;
  /** Some customer's events went to `overflow` on this (day, code). */
  capped: boolean;
  /** Networks of the row's requests, most first, `other` last (all decisions). */
  networks: ReportNetwork[];
}

/** A network in a report: `AS16509`, or `other` for the sum past a row's first five. */
export interface ReportNetwork {
  network: string;
  /** The network's name (`asOrganization`), null when unknown. */
  name: string | null;
  /** Its class in the policy when recorded, null when none. */
  class: string | null;
  requests: number;
}

/** A stored network as a report shows it. */
export function reportNetwork(n: LedgerNetwork): ReportNetwork {
  return {
    network: n.asn === 0 ? "other" : `AS${n.asn}`,
    name: n.name || null,
    class: n.class || null,
    requests: n.requests,
  };
}

/** A region code (`CN`, `UA-43`) or a network's (`AS60068`): SPEC section 7. */
const REGION = /^(?:[A-Z0-9]{2}(-[A-Z0-9]{1,3})?|AS[1-9][0-9]{0,9})$/;

const validDay = (s: string) => parseDay(s) !== null;

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
        error: `region=${JSON.stringify(region)} is not a region or network code; use e.g. CN, UA-43 or AS60068`,
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
  const rawLimit = q.get("limit");
  let limit = DEFAULT_PAGE_ROWS;
  if (rawLimit !== null && rawLimit !== "") {
    limit = Number(rawLimit);
    if (!/^\d+$/.test(rawLimit) || limit < 1 || limit > MAX_PAGE_ROWS) {
      return {
        param: "limit",
        error: `limit=${JSON.stringify(rawLimit)} must be a whole number from 1 to ${MAX_PAGE_ROWS} (rows per page; default ${DEFAULT_PAGE_ROWS})`,
      };
    }
  }
  const cursor = q.get("cursor") || null;
  if (cursor !== null && decodeCursor(cursor) === null) {
    return {
      param: "cursor",
      error: `cursor=${JSON.stringify(cursor)} is not a cursor of this ledger; use the "next" value of the previous page unchanged, or leave cursor out to start at the first page`,
    };
  }
  return { filter, format, summary: summary === "1" || summary === "true" || summary === "", limit, cursor };
}

/** A report row from a shard's group. */
export function toRow(g: LedgerGroup): ExposureRow {
  let requests = 0;
  for (const d of LEDGER_DECISIONS) requests += g.decisions[d];
  return {
    day: g.day,
    region: g.region,
    fingerprint: g.fingerprint,
    identity: parseIdentity(g.identity),
    requests,
    blocked: g.decisions.block,
    decisions: g.decisions,
    verified: g.verified,
    capped: g.capped,
    networks: g.networks.map(reportNetwork),
  };
}

/** `AS16509=12;other=3`: a row's networks with their requests, for CSV. */
export const networksText = (networks: readonly ReportNetwork[]) =>
  networks.map((n) => `${n.network}=${n.requests}`).join(";");

export { csvField, identityText };

const csvLine = (fields: (string | number)[]) => `${fields.map(csvField).join(",")}\r\n`;

/** Header row of the rows CSV. */
export const ROWS_CSV_HEADER = csvLine([
  "day",
  "region",
  "fingerprint",
  "identity",
  "requests",
  "blocked",
  ...LEDGER_DECISIONS,
  "verified",
  "capped",
  "networks",
]);

/** CSV of report rows; with the header row unless `header` is false (a later page). */
export function rowsCsv(rows: readonly ExposureRow[], header = true): string {
  let out = header ? ROWS_CSV_HEADER : "";
  for (const r of rows) {
    out += csvLine([
      r.day,
      r.region,
      r.fingerprint,
      identityText(r.identity),
      r.requests,
      r.blocked,
      ...LEDGER_DECISIONS.map((d) => r.decisions[d]),
      r.verified ? "yes" : "no",
      r.capped ? "yes" : "no",
      networksText(r.networks),
    ]);
  }
  return out;
}

/** CSV of the per-region summary, with a header row. */
export function summaryCsv(summary: readonly LedgerRegionSummary[]): string {
  let out = csvLine(["region", "customers", "requests", "blocked", "firstDay", "lastDay", "cappedDays"]);
  for (const s of summary)
    out += csvLine([s.region, s.customers, s.requests, s.blocked, s.firstDay, s.lastDay, s.cappedDays]);
  return out;
}
