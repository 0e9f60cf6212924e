/**
 * Notices (SPEC section 6) as a pure function: ledger rows + compiled policy + now → one
 * notice per customer (fingerprint + identity). Each notice lists the unsupported regions
 * the customer sent traffic from, with first and last day, requests per decision, and
 * what the active policy does next there. No I/O: the admin route, the CLI and the
 * customer's own view in `/check` share it. Rendering (Markdown, CSV, templates) is in
 * `notice-render.ts`.
 */

import type { CompiledPolicy } from "../../policy/compile";
import { decide } from "../../policy/decision";
import { LEDGER_DECISIONS, type LedgerDecision } from "../../policy/ledger-decisions";

/** One ledger row as notices read it (the shape of the ledger's `NoticeRow`). */
export interface NoticeRow {
  day: string;
  region: string;
  fingerprint: string;
  /** Canonical identity JSON, keys sorted, `{}` when none. */
  identity: string;
  decisions: Record<LedgerDecision, number>;
}

/** What the active policy does next in a region, for a notice. */
export interface NextStep {
  /**
   * `warn` or `block` when that step lies ahead; `blocked` when requests are refused now;
   * `none` when no enforcement date is set; `supported` when the active policy no longer
   * restricts the region.
   */
  action: "warn" | "block" | "blocked" | "none" | "supported";
  /** RFC 3339 instant of the step (for `blocked`: since when), null when there is none. */
  at: string | null;
  /** The upcoming block date after a `warn` step, when set. */
  blockAt: string | null;
  /** `warn from 2024-06-25, blocked from 2024-07-09`, `blocked since 2024-07-09`, `no enforcement date set`. */
  text: string;
  /** True in `monitor` mode: blocking phases are only recorded, requests still pass. */
  monitorOnly: boolean;
}

/** One unsupported region of a notice. */
export interface NoticeRegion {
  region: string;
  /** English name of the country, e.g. `China`, `Ukraine (UA-43)`. */
  name: string;
  firstDay: string;
  lastDay: string;
  /** Days with traffic in the range. */
  days: number;
  requests: number;
  decisions: Record<LedgerDecision, number>;
  next: NextStep;
}

/** One customer's notice. */
export interface Notice {
  fingerprint: string;
  /** Identity header values as the client claimed them (never verified). */
  identity: Record<string, string>;
  firstDay: string;
  lastDay: string;
  requests: number;
  decisions: Record<LedgerDecision, number>;
  /** Earliest step still ahead in any region (`YYYY-MM-DD`), null when none is. */
  nextDate: string | null;
  /** A fingerprint exemption of the policy that lets this key pass now (`until` null: no end). */
  exemption: { until: string | null } | null;
  regions: NoticeRegion[];
}

/** Said wherever identity values appear: they come from request headers, unverified. */
export const IDENTITY_NOTE =
  "Identity values are what the client sent in the identity headers; they are claims, not verified facts.";

const zero = (): Record<LedgerDecision, number> =>
  Object.fromEntries(LEDGER_DECISIONS.map((d) => [d, 0])) as Record<LedgerDecision, number>;

const iso = (ms: number) => new Date(ms).toISOString();

/** `2024-07-09`, or `2024-07-09 14:30 UTC` off midnight. */
export function shortInstant(ms: number): string {
  const s = iso(ms);
  return s.slice(11, 19) === "00:00:00" ? s.slice(0, 10) : `${s.slice(0, 10)} ${s.slice(11, 16)} UTC`;
}

/**
 * What the active policy does next in `region` (a code the ledger recorded: `CN`,
 * `UA-43`, `T1`, `XX`), judged as the gate would now, without exemptions.
 *
 * @example nextStep(policy, "CN", Date.parse("2024-07-01T00:00:00Z")).text // "blocked from 2024-07-09"
 */
export function nextStep(policy: CompiledPolicy, region: string, now: number): NextStep {
  const dash = region.indexOf("-");
  const country = dash < 0 ? region : region.slice(0, dash);
  const regionCode = dash < 0 ? null : region.slice(dash + 1);
  const path = policy.defaultPath;
  const v = decide(policy, { path, country, regionCode }, now);
  const monitorOnly = policy.monitor;
  const suffix = monitorOnly ? " (monitor mode: requests still pass)" : "";
  const w = v.window;
  if (!w) {
    if (v.decision === "block" || v.decision === "monitor")
      return { action: "blocked", at: null, blockAt: null, text: `blocked${suffix}`, monitorOnly };
    return { action: "supported", at: null, blockAt: null, text: "not restricted", monitorOnly };
  }
  const { warnFrom, blockFrom } = w;
  if (blockFrom !== null && now >= blockFrom) {
    if (!Number.isFinite(blockFrom))
      return {
        action: "blocked",
        at: null,
        blockAt: null,
        text: `blocked (no enforcement date set)${suffix}`,
        monitorOnly,
      };
    return {
      action: "blocked",
      at: iso(blockFrom),
      blockAt: null,
      text: `blocked since ${shortInstant(blockFrom)}${suffix}`,
      monitorOnly,
    };
  }
  const blockText = blockFrom === null ? "" : `blocked from ${shortInstant(blockFrom)}${suffix}`;
  if (warnFrom !== null && now < warnFrom) {
    return {
      action: "warn",
      at: iso(warnFrom),
      blockAt: blockFrom === null ? null : iso(blockFrom),
      text: `warn from ${shortInstant(warnFrom)}${blockText ? `, ${blockText}` : ", no block date set"}`,
      monitorOnly,
    };
  }
  if (blockFrom === null)
    return { action: "none", at: null, blockAt: null, text: "no enforcement date set", monitorOnly };
  return { action: "block", at: iso(blockFrom), blockAt: null, text: blockText, monitorOnly };
}

let regionNames: Intl.DisplayNames | null | undefined;

/** `China`, `Ukraine (UA-43)`, `Tor network`, `unknown location`; the code when no name is known. */
export function regionName(code: string): string {
  if (code === "T1") return "Tor network";
  if (code === "XX") return "unknown location";
  const country = code.slice(0, 2);
  if (regionNames === undefined) {
    try {
      regionNames = new Intl.DisplayNames(["en"], { type: "region" });
    } catch {
      regionNames = null;
    }
  }
  let name: string | undefined;
  try {
    name = regionNames?.of(country);
  } catch {
    name = undefined;
  }
  if (!name || name === country) return code;
  return code.length > 2 ? `${name} (${code})` : name;
}

/** Customer key: fingerprint and canonical identity, the order notices come in. */
export const customerKey = (g: { fingerprint: string; identity: string }) =>
  `${g.fingerprint}\u0000${g.identity}`;

/**
 * Notices of ledger rows, one per (fingerprint, identity), in fingerprint then identity
 * order; regions within a notice in code order.
 */
export function buildNotices(groups: readonly NoticeRow[], policy: CompiledPolicy, now: number): Notice[] {
  const byCustomer = new Map<string, NoticeRow[]>();
  for (const g of groups) {
    const k = customerKey(g);
    const list = byCustomer.get(k);
    if (list) list.push(g);
    else byCustomer.set(k, [g]);
  }
  const steps = new Map<string, NextStep>();
  const stepOf = (region: string) => {
    let s = steps.get(region);
    if (!s) {
      s = nextStep(policy, region, now);
      steps.set(region, s);
    }
    return s;
  };
  const keys = [...byCustomer.keys()].sort();
  return keys.map((k) => noticeOf(byCustomer.get(k)!, policy, now, stepOf));
}

function noticeOf(
  rows: NoticeRow[],
  policy: CompiledPolicy,
  now: number,
  stepOf: (region: string) => NextStep,
): Notice {
  const first = rows[0]!;
  const regions = new Map<string, NoticeRegion & { daySet: Set<string> }>();
  const decisions = zero();
  for (const g of rows) {
    let r = regions.get(g.region);
    if (!r) {
      r = {
        region: g.region,
        name: regionName(g.region),
        firstDay: g.day,
        lastDay: g.day,
        days: 0,
        requests: 0,
        decisions: zero(),
        next: stepOf(g.region),
        daySet: new Set(),
      };
      regions.set(g.region, r);
    }
    if (g.day < r.firstDay) r.firstDay = g.day;
    if (g.day > r.lastDay) r.lastDay = g.day;
    r.daySet.add(g.day);
    for (const d of LEDGER_DECISIONS) {
      const n = g.decisions[d] ?? 0;
      r.decisions[d] += n;
      r.requests += n;
      decisions[d] += n;
    }
  }
  const list = [...regions.values()]
    .sort((a, b) => (a.region < b.region ? -1 : a.region > b.region ? 1 : 0))
    .map(({ daySet, ...r }) => ({ ...r, days: daySet.size }));
  let nextDate: string | null = null;
  let firstDay = list[0]!.firstDay;
  let lastDay = list[0]!.lastDay;
  for (const r of list) {
    if (r.firstDay < firstDay) firstDay = r.firstDay;
    if (r.lastDay > lastDay) lastDay = r.lastDay;
    const at = r.next.action === "warn" || r.next.action === "block" ? r.next.at : null;
    if (at && (nextDate === null || at < nextDate)) nextDate = at;
  }
  const until = policy.keyExemptions.get(first.fingerprint);
  return {
    fingerprint: first.fingerprint,
    identity: JSON.parse(first.identity) as Record<string, string>,
    firstDay,
    lastDay,
    requests: list.reduce((s, r) => s + r.requests, 0),
    decisions,
    nextDate: nextDate === null ? null : nextDate.slice(0, 10),
    exemption:
      until === undefined || now >= until ? null : { until: Number.isFinite(until) ? iso(until) : null },
    regions: list,
  };
}
