/**
 * Notices (SPEC section 6) as a pure function: ledger rows + compiled policy + now → one
 * notice per verified fingerprint. Each notice lists the codes the key sent traffic from
 * that the origin accepted it for, with the days, requests per decision, the networks,
 * the capped days and what the active policy does next there. No I/O: the admin route,
 * the CLI and the customer's own view in `/check` share it. Wording is in
 * `notice-render.ts`.
 */

import {
  IDENTITY_VALUE,
  INVALID_IDENTITY,
  type LedgerCappedDay,
  type LedgerNetwork,
  parseIdentity,
} from "../../exposure/wire";
import type { CompiledPolicy } from "../../policy/compile";
import { LEDGER_DECISIONS, type LedgerDecision } from "../../policy/ledger-decisions";
import { type NextStep, nextStep, regionName } from "./next-step";

/** One ledger row as notices read it (a `LedgerGroup`). */
export interface NoticeRow {
  day: string;
  region: string;
  fingerprint: string;
  /** Canonical identity JSON, keys sorted, `{}` when none. */
  identity: string;
  decisions: Record<LedgerDecision, number>;
  /** The origin accepted this fingerprint for this code on a day the ledger keeps. */
  verified: boolean;
  networks: readonly LedgerNetwork[];
}

/** A network of a notice's region: `AS16509`, or `other` for the rest. */
export interface NoticeNetwork {
  network: string;
  /** `asOrganization` as the ledger kept it, null when unknown. */
  name: string | null;
  /** The network's class (active policy first, else as recorded), null when none. */
  class: string | null;
  requests: number;
}

/** One code (region or network) of a notice. */
export interface NoticeRegion {
  /** The code: `CN`, `UA-43`, `AS60068`. */
  region: string;
  /** `China`, `the Crimea region of Ukraine (UA-43)`, `network AS60068`. */
  name: string;
  firstDay: string;
  lastDay: string;
  /** Days with traffic, ascending. */
  dayList: string[];
  /** Days with traffic in the range. */
  days: number;
  requests: number;
  decisions: Record<LedgerDecision, number>;
  /** Most requests first, at most 5 by number, then `other`. */
  networks: NoticeNetwork[];
  /** Requests that came through networks of class `cloud`. */
  cloudRequests: number;
  /** Days of the range, up to the last day here, on which this code was capped. */
  cappedDays: string[];
  next: NextStep;
}

/** One customer's notice: one per verified fingerprint. */
export interface Notice {
  fingerprint: string;
  /** Identity values seen on this key's accepted requests, each in the SPEC's alphabet (or `invalid`). */
  identities: Record<string, string>[];
  /** First and last day, requests and decisions over the codes still restricted. */
  firstDay: string;
  lastDay: string;
  requests: number;
  decisions: Record<LedgerDecision, number>;
  /** Earliest step still ahead in any restricted code (`YYYY-MM-DD`), null when none is. */
  nextDate: string | null;
  /** A fingerprint exemption of the policy that lets this key pass now (`until` null: no end). */
  exemption: { until: string | null } | null;
  /** Codes the active policy restricts, in code order. */
  regions: NoticeRegion[];
  /** Codes it sent traffic from that the active policy no longer restricts. */
  unrestricted: NoticeRegion[];
}

/** Said in reports that show identity values: where they come from. */
export const IDENTITY_NOTE =
  "Identity values are recorded only for requests the origin accepted, and only when they are 1-64 characters of A-Z a-z 0-9 . _ : - (else `invalid`); they name the customer as its own requests did.";

/** The class whose networks a notice explains as a cloud provider's (SPEC section 6). */
export const CLOUD_CLASS = "cloud";

const zero = (): Record<LedgerDecision, number> =>
  Object.fromEntries(LEDGER_DECISIONS.map((d) => [d, 0])) as Record<LedgerDecision, number>;

const iso = (ms: number) => new Date(ms).toISOString();

/** The identity objects of a notice: values outside the alphabet (rows of an earlier release) read `invalid`. */
function identityOfRow(identity: string): Record<string, string> {
  const parsed = parseIdentity(identity);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) out[k] = IDENTITY_VALUE.test(v) ? v : INVALID_IDENTITY;
  return out;
}

/**
 * Notices of ledger rows, one per verified fingerprint, in fingerprint order. Rows of the
 * buckets (`anonymous`, `unverified`, `overflow`, `unfingerprinted`) and rows whose
 * fingerprint the origin never accepted for that code are left out; a fingerprint whose
 * codes are all no longer restricted gets no notice. `capped` lists the range's capped
 * (day, code) pairs.
 */
export function buildNotices(
  rows: readonly NoticeRow[],
  policy: CompiledPolicy,
  now: number,
  capped: readonly LedgerCappedDay[] = [],
): Notice[] {
  const byFingerprint = new Map<string, NoticeRow[]>();
  for (const r of rows) {
    if (!r.verified) continue;
    const list = byFingerprint.get(r.fingerprint);
    if (list) list.push(r);
    else byFingerprint.set(r.fingerprint, [r]);
  }
  const cappedByCode = new Map<string, string[]>();
  for (const c of capped) {
    const list = cappedByCode.get(c.region);
    if (list) list.push(c.day);
    else cappedByCode.set(c.region, [c.day]);
  }
  const steps = new Map<string, NextStep>();
  const stepOf = (code: string) => {
    let s = steps.get(code);
    if (!s) {
      s = nextStep(policy, code, now);
      steps.set(code, s);
    }
    return s;
  };
  const out: Notice[] = [];
  for (const fp of [...byFingerprint.keys()].sort()) {
    const notice = noticeOf(fp, byFingerprint.get(fp)!, policy, now, stepOf, cappedByCode);
    if (notice) out.push(notice);
  }
  return out;
}

function noticeOf(
  fingerprint: string,
  rows: NoticeRow[],
  policy: CompiledPolicy,
  now: number,
  stepOf: (code: string) => NextStep,
  cappedByCode: Map<string, string[]>,
): Notice | null {
  const codes = new Map<string, { rows: NoticeRow[] }>();
  const identities = new Map<string, Record<string, string>>();
  for (const r of rows) {
    const c = codes.get(r.region);
    if (c) c.rows.push(r);
    else codes.set(r.region, { rows: [r] });
    if (r.identity !== "{}") {
      const id = identityOfRow(r.identity);
      identities.set(JSON.stringify(id), id);
    }
  }
  const all = [...codes.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([code, c]) => regionOf(code, c.rows, policy, stepOf(code), cappedByCode.get(code) ?? []));
  const regions = all.filter((r) => r.next.action !== "supported");
  if (regions.length === 0) return null;
  const decisions = zero();
  let firstDay = regions[0]!.firstDay;
  let lastDay = regions[0]!.lastDay;
  let nextDate: string | null = null;
  for (const r of regions) {
    if (r.firstDay < firstDay) firstDay = r.firstDay;
    if (r.lastDay > lastDay) lastDay = r.lastDay;
    for (const d of LEDGER_DECISIONS) decisions[d] += r.decisions[d];
    const at = r.next.action === "warn" || r.next.action === "block" ? r.next.at : null;
    if (at && (nextDate === null || at < nextDate)) nextDate = at;
  }
  const until = policy.keyExemptions.get(fingerprint);
  return {
    fingerprint,
    identities: [...identities.keys()].sort().map((k) => identities.get(k)!),
    firstDay,
    lastDay,
    requests: regions.reduce((s, r) => s + r.requests, 0),
    decisions,
    nextDate: nextDate === null ? null : nextDate.slice(0, 10),
    exemption:
      until === undefined || now >= until ? null : { until: Number.isFinite(until) ? iso(until) : null },
    regions,
    unrestricted: all.filter((r) => r.next.action === "supported"),
  };
}

function regionOf(
  code: string,
  rows: NoticeRow[],
  policy: CompiledPolicy,
  next: NextStep,
  cappedDays: string[],
): NoticeRegion {
  const decisions = zero();
  const days = new Set<string>();
  const nets = new Map<number, { name: string; cls: string; requests: number }>();
  for (const r of rows) {
    days.add(r.day);
    for (const d of LEDGER_DECISIONS) decisions[d] += r.decisions[d] ?? 0;
    for (const n of r.networks) {
      const kept = nets.get(n.asn);
      if (kept) {
        kept.requests += n.requests;
        if (n.name) kept.name = n.name;
        if (n.class) kept.cls = n.class;
      } else nets.set(n.asn, { name: n.name, cls: n.class, requests: n.requests });
    }
  }
  const dayList = [...days].sort();
  const lastDay = dayList[dayList.length - 1]!;
  const networks = topNetworks(nets, policy);
  return {
    region: code,
    name: regionName(code),
    firstDay: dayList[0]!,
    lastDay,
    dayList,
    days: dayList.length,
    requests: LEDGER_DECISIONS.reduce((s, d) => s + decisions[d], 0),
    decisions,
    networks,
    cloudRequests: networks.filter((n) => n.class === CLOUD_CLASS).reduce((s, n) => s + n.requests, 0),
    cappedDays: [...new Set(cappedDays)].filter((d) => d <= lastDay).sort(),
    next,
  };
}

/** The five networks with most requests, then everything else as `other`. */
function topNetworks(
  nets: Map<number, { name: string; cls: string; requests: number }>,
  policy: CompiledPolicy,
): NoticeNetwork[] {
  let other = nets.get(0)?.requests ?? 0;
  const numbered = [...nets.entries()]
    .filter(([asn]) => asn !== 0)
    .sort(([a, x], [b, y]) => y.requests - x.requests || a - b);
  const out: NoticeNetwork[] = [];
  for (const [i, [asn, n]] of numbered.entries()) {
    if (i >= 5) {
      other += n.requests;
      continue;
    }
    out.push({
      network: `AS${asn}`,
      name: n.name || null,
      class: policy.asnClass.get(asn) ?? (n.cls || null),
      requests: n.requests,
    });
  }
  if (other > 0) out.push({ network: "other", name: null, class: null, requests: other });
  return out;
}
