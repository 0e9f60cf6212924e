/**
 * The data behind each dashboard page, computed from the compiled policy, the active
 * key's metadata and the ledger. Pure where possible, so the pages stay plain templates.
 */

import type { LedgerFilter } from "../../exposure/wire";
import type { ControlEnv } from "../../platform/config";
import { log } from "../../platform/log";
import { countryCodes } from "../../policy/codes";
import type { CompiledPolicy, CompiledWindow } from "../../policy/compile";
import { parseInstant } from "../../policy/explain";
import type { HistoryEntry } from "../../store/history";
import type { Activation, ActiveMeta } from "../../store/meta";
import { readRegionSummary, readVerifiedCustomers } from "../ledger/client";
import { parseExposureQuery } from "../ledger/report";
import { DAY_MS, phaseAt } from "../ui/phase";
import { daysBetween, type RegionExposure, readRegionExposure } from "./data";
import { type Milestone, milestones, phasesAt, type RegionPhase, regionLabel } from "./map-data";
import type { HistoryEvent } from "./pages/history";
import type { MapView } from "./pages/map";

/** Regions in one phase with the same dates: one line of the Overview's "now". */
export interface PhaseGroup {
  phase: RegionPhase["phase"];
  warnFrom: string | null;
  blockFrom: string | null;
  /** The default window's regions ("every other unsupported country"), not their own dates. */
  byDefault: boolean;
  /** "CN China", … */
  regions: string[];
}

/** A restricted region's traffic over the Overview's days. */
export interface RegionTraffic {
  code: string;
  label: string;
  /** Its phase now; undefined for codes the map has no phase for (`XX`, `T1`, `AS…`). */
  phase: RegionPhase | undefined;
  /** Distinct verified customers (key fingerprints; see VERIFIED_CUSTOMER in the ledger). */
  customers: number;
  requests: number;
}

export interface OverviewTraffic {
  from: string;
  to: string;
  rows: RegionTraffic[];
  /** Restricted regions with no traffic in these days, by code and name: those with dates of their own first. */
  quiet: string[];
  error?: string;
}

export interface OverviewData {
  version: string;
  /** What the gate does now, blocks first. */
  now: PhaseGroup[];
  /** The policy's next change after now, with the whole days until it. */
  next: (Milestone & { inDays: number }) | null;
  /** Verified customers and requests per restricted region, when read. */
  traffic?: OverviewTraffic;
  activation: (Activation & { ageText: string }) | null;
  mode: string;
  failMode: string;
  supported: number;
  carvedOut: number;
  enforcedRegions: number;
  /** Classes in `networks.classes`, and the ASNs that `networks.unsupported` judges. */
  networkClasses: number;
  unsupportedNetworks: number;
  exemptions: number;
  unknownCountry: string;
  tor: string;
  scope: { include: readonly string[]; exclude: readonly string[] };
}

export interface TimelineRow {
  region: string;
  /** "VE Venezuela"; for the default row, "every other unsupported country". */
  label: string;
  /** The default row's regions by code and name; empty for a region's own row. */
  members: string[];
  warnFrom: string | null;
  blockFrom: string | null;
  phase: string;
  summary: string;
}

/** An unsupported network on the Timeline: a class, an `AS<number>`, or a class member with its own dates. */
export interface NetworkRow {
  /** `vpn` (a class) or `AS60068`. */
  network: string;
  /** What the row covers: "class, 2 networks", "in class vpn", "no class". */
  kind: string;
  /** The entry whose dates apply: `enforcement.networks.vpn`, `enforcement.default`. */
  source: string;
  warnFrom: string | null;
  blockFrom: string | null;
  phase: string;
  summary: string;
}

/** A network class: its ASNs, and whether `networks.unsupported` names it. */
export interface ClassRow {
  name: string;
  asns: readonly number[];
  unsupported: boolean;
}

export interface ExposureView {
  from: string;
  to: string;
  region: string;
  /** What the map shades by (`?shade=`). */
  shade: "requests" | "customers";
  /** Every country the map can show. */
  countries: readonly string[];
  days: string[];
  regions: RegionExposure[];
  error?: string;
}

/** "3 days ago", "5 hours ago", "just now". */
export function ago(seconds: number): string {
  const units: [number, string][] = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  for (const [size, name] of units) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n} ${name}${n === 1 ? "" : "s"} ago`;
  }
  return "just now";
}

/** The overview's figures. `meta` is the active key's metadata (who/when), when recorded. */
export function overviewData(
  policy: CompiledPolicy,
  meta: ActiveMeta | null,
  failOpen: boolean,
  now: number,
): OverviewData {
  const activation =
    meta && meta.version === policy.version
      ? {
          at: meta.at,
          by: meta.by,
          via: meta.via,
          ageText: ago(Math.max(0, (now - Date.parse(meta.at)) / 1000)),
        }
      : null;
  return {
    version: policy.version,
    now: phaseGroups(phasesAt(policy, now)),
    next: nextMilestone(policy, now),
    activation,
    mode: policy.monitor ? "monitor" : "enforce",
    failMode: failOpen ? "open" : "closed",
    supported: policy.supported.size,
    carvedOut: policy.unsupportedSubdivisions.size,
    enforcedRegions: policy.windows.size,
    networkClasses: Object.keys(policy.doc.networks?.classes ?? {}).length,
    unsupportedNetworks: policy.unsupportedNetworks.size,
    exemptions: policy.keyExemptions.size + policy.cidrExemptions.size + policy.asnExemptions.size,
    unknownCountry: policy.unknownBlock ? "block" : "allow",
    tor: policy.torBlock ? "block" : "allow",
    scope: { include: policy.include, exclude: policy.exclude },
  };
}

const PHASE_ORDER = ["block", "monitor", "warn", "observe"] as const;
const DEFAULT_REGION = "every other unsupported country";

/**
 * The restricted regions now, grouped by phase and dates (one line each), blocks first,
 * then by the date that matters next; the default window's regions form one group.
 */
export function phaseGroups(regions: readonly RegionPhase[]): PhaseGroup[] {
  const groups = new Map<string, PhaseGroup>();
  for (const r of regions) {
    if (r.phase === "pass") continue;
    const key = [r.phase, r.warnFrom, r.blockFrom, r.ownDates].join(" ");
    const group = groups.get(key) ?? {
      phase: r.phase,
      warnFrom: r.warnFrom,
      blockFrom: r.blockFrom,
      byDefault: !r.ownDates,
      regions: [],
    };
    group.regions.push(regionLabel(r.code));
    groups.set(key, group);
  }
  const when = (g: PhaseGroup) =>
    (g.phase === "block" || g.phase === "monitor" ? g.blockFrom : g.warnFrom) ?? "";
  return [...groups.values()].sort(
    (a, b) =>
      PHASE_ORDER.indexOf(a.phase as (typeof PHASE_ORDER)[number]) -
        PHASE_ORDER.indexOf(b.phase as (typeof PHASE_ORDER)[number]) ||
      Number(a.byDefault) - Number(b.byDefault) ||
      (when(a) < when(b) ? -1 : when(a) > when(b) ? 1 : 0),
  );
}

/** The first of the policy's dates after `now`, and the whole days until it (rounded up). */
export function nextMilestone(policy: CompiledPolicy, now: number): (Milestone & { inDays: number }) | null {
  const next = milestones(policy).find((m) => Date.parse(m.at) > now);
  return next ? { ...next, inDays: Math.ceil((Date.parse(next.at) - now) / DAY_MS) } : null;
}

/** The Overview's traffic table covers the same days as the Exposure page by default. */
const OVERVIEW_DAYS = 30;

/**
 * Verified customers and requests per restricted region over the last 30 days: every
 * region with traffic, busiest first; the restricted regions without any are named apart,
 * those with dates of their own first.
 */
export async function overviewTraffic(
  env: ControlEnv,
  phases: readonly RegionPhase[],
  now: number,
): Promise<OverviewTraffic> {
  const to = new Date(now).toISOString().slice(0, 10);
  const from = new Date(Date.parse(`${to}T00:00:00Z`) - (OVERVIEW_DAYS - 1) * DAY_MS)
    .toISOString()
    .slice(0, 10);
  const byCode = new Map(phases.map((r) => [r.code, r]));
  const restricted = phases.filter((r) => r.phase !== "pass");
  try {
    const filter = { from, to };
    const [summary, verified] = await Promise.all([
      readRegionSummary(env, filter),
      readVerifiedCustomers(env, filter),
    ]);
    const customers = new Map(verified.map((v) => [v.region, v.customers]));
    const rows = new Map<string, RegionTraffic>();
    const add = (code: string, requests: number) =>
      rows.set(code, {
        code,
        label: regionLabel(code),
        phase: byCode.get(code),
        customers: customers.get(code) ?? 0,
        requests,
      });
    for (const s of summary) add(s.region, s.requests);
    const sorted = [...rows.values()].sort(
      (a, b) => b.customers - a.customers || b.requests - a.requests || (a.code < b.code ? -1 : 1),
    );
    const quiet = restricted
      .filter((r) => !rows.has(r.code))
      .sort((a, b) => Number(b.ownDates) - Number(a.ownDates))
      .map((r) => regionLabel(r.code));
    return { from, to, rows: sorted, quiet };
  } catch (err) {
    log("error", "exposure_read_failed", {
      error: err instanceof Error ? err.message : String(err),
      route: "overview",
    });
    return {
      from,
      to,
      rows: [],
      quiet: [],
      error: "the exposure ledger could not be read (see the exposure_read_failed log line)",
    };
  }
}

/**
 * One row per region with its own dates, then the default for every other unsupported
 * country; soonest block first, "never" last. In monitor mode the block phase reads `monitor`.
 */
export function timelineRows(policy: CompiledPolicy, now: number): TimelineRow[] {
  const entries = [...policy.windows.entries()].map(([region, w]) => ({ region, w }));
  entries.sort(
    (a, b) =>
      (a.w.blockFrom ?? Number.POSITIVE_INFINITY) - (b.w.blockFrom ?? Number.POSITIVE_INFINITY) ||
      (a.region < b.region ? -1 : 1),
  );
  const byDefault = phasesAt(policy, now)
    .filter((r) => r.phase !== "pass" && !r.ownDates)
    .map((r) => regionLabel(r.code));
  entries.push({ region: DEFAULT_REGION, w: policy.defaultWindow });
  return entries.map(({ region, w }) => {
    const p = phaseAt(w, now);
    const own = region !== DEFAULT_REGION;
    return {
      region,
      label: own ? regionLabel(region) : DEFAULT_REGION,
      members: own ? [] : byDefault,
      warnFrom: p.warnFrom,
      blockFrom: p.blockFrom,
      phase: p.phase === "block" && policy.monitor ? "monitor" : p.phase,
      summary: p.summary,
    };
  });
}

/**
 * The Timeline's networks: each entry of `networks.unsupported` (a class or an
 * `AS<number>`) with the dates that apply to it, then each member of an unsupported class
 * that has dates of its own (`enforcement.networks.AS…`), in policy order.
 */
export function networkRows(policy: CompiledPolicy, now: number): NetworkRow[] {
  const classes = policy.doc.networks?.classes ?? {};
  const row = (network: string, kind: string, w: CompiledWindow): NetworkRow => {
    const p = phaseAt(w, now);
    return {
      network,
      kind,
      source: w.source,
      warnFrom: p.warnFrom,
      blockFrom: p.blockFrom,
      phase: p.phase === "block" && policy.monitor ? "monitor" : p.phase,
      summary: p.summary,
    };
  };
  const rows: NetworkRow[] = [];
  const listed = new Set(policy.doc.networks?.unsupported ?? []);
  for (const ref of listed) {
    const members = classes[ref];
    if (members) {
      const n = members.length;
      rows.push(
        row(
          ref,
          `class, ${n} network${n === 1 ? "" : "s"}`,
          policy.networkWindows.get(ref) ?? policy.defaultWindow,
        ),
      );
      for (const asn of members) {
        const own = policy.networkWindows.get(`AS${asn}`);
        if (own && !listed.has(`AS${asn}`)) rows.push(row(`AS${asn}`, `in class ${ref}, own dates`, own));
      }
    } else {
      const network = policy.unsupportedNetworks.get(Number(ref.slice(2)));
      if (network)
        rows.push(
          row(ref, network.class === null ? "no class" : `in class ${network.class}`, network.window),
        );
    }
  }
  return rows;
}

/** Every class of `networks.classes`, in policy order. */
export function classRows(policy: CompiledPolicy): ClassRow[] {
  const listed = new Set(policy.doc.networks?.unsupported ?? []);
  return Object.entries(policy.doc.networks?.classes ?? {}).map(([name, asns]) => ({
    name,
    asns,
    unsupported: listed.has(name),
  }));
}

/** Charts span at most this many days (the ledger's default retention is 400). */
export const MAX_CHART_DAYS = 400;
const DEFAULT_DAYS = 30;

/**
 * Parses the exposure page's query with the admin route's own parser (defaults: the last
 * 30 days) and reads the ledger's summaries. `rowsOnly` only parses (for the CSV download,
 * which streams the rows of `filter`).
 */
export async function exposureView(
  env: ControlEnv,
  query: URLSearchParams,
  now: number,
  options: { rowsOnly?: boolean } = {},
): Promise<ExposureView & { filter?: LedgerFilter }> {
  const to = query.get("to") || new Date(now).toISOString().slice(0, 10);
  const from =
    query.get("from") ||
    new Date(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
  const region = (query.get("region") ?? "").trim().toUpperCase();
  const shade = query.get("shade") === "customers" ? ("customers" as const) : ("requests" as const);
  const base = { from, to, region, shade, countries: countryCodes(), days: [], regions: [] };
  const parsed = parseExposureQuery(new URLSearchParams({ from, to, ...(region ? { region } : {}) }));
  if ("error" in parsed) return { ...base, error: parsed.error };
  const days = daysBetween(from, to);
  if (!options.rowsOnly && days.length > MAX_CHART_DAYS) {
    return {
      ...base,
      error: `from ${from} to ${to} is ${days.length} days; charts show at most ${MAX_CHART_DAYS}`,
    };
  }
  if (options.rowsOnly) return { ...base, filter: parsed.filter };
  return { ...base, days, regions: await readRegionExposure(env, parsed.filter, days) };
}

/**
 * Every activation, newest first, each with the version it replaced. A version stored
 * without an activation record (seeded by `npm start` or written to KV by hand) is listed
 * too: first when it is active (it was written over the last recorded one), else last, as
 * the predecessor of the oldest recorded activation when it is the only such version.
 */
export function historyEvents(versions: readonly HistoryEntry[]): HistoryEvent[] {
  const recorded: HistoryEvent[] = versions
    .flatMap((v) => v.activations.map((a): HistoryEvent => ({ ...a, version: v.version, previous: null })))
    .sort((a, b) => ((a.at ?? "") < (b.at ?? "") ? 1 : (a.at ?? "") > (b.at ?? "") ? -1 : 0));
  const unrecorded = versions.filter((v) => v.activations.length === 0);
  const unrecordedEvent = (v: HistoryEntry): HistoryEvent => ({
    version: v.version,
    at: null,
    by: null,
    via: "no activation recorded",
    previous: null,
  });
  const before = unrecorded.filter((v) => !v.active).map(unrecordedEvent);
  const events = [...unrecorded.filter((v) => v.active).map(unrecordedEvent), ...recorded, ...before];
  events.forEach((e, i) => {
    const next = events[i + 1];
    // Among unrecorded versions the order is unknown: no predecessor is claimed for them.
    const known = next !== undefined && (next.at !== null || (before.length === 1 && !before.includes(e)));
    e.previous = known ? next.version : null;
  });
  return events;
}

/**
 * The map at `at` (a day or an RFC 3339 instant, as `explain --at` takes it; absent: now).
 * A malformed `at` shows the map now with the reason.
 */
export function mapView(policy: CompiledPolicy, at: string | undefined, now: number): MapView {
  const asked = at?.trim() ? parseInstant(at.trim()) : null;
  const error =
    at?.trim() && asked === null
      ? `${JSON.stringify(at)} is not a time; use a day (2024-07-09) or RFC 3339 with an offset (2024-07-09T10:00:00Z)`
      : undefined;
  const instant = asked ?? now;
  return {
    version: policy.version,
    monitor: policy.monitor,
    at: new Date(instant).toISOString(),
    now: asked === null,
    regions: phasesAt(policy, instant),
    milestones: milestones(policy),
    ...(error ? { error } : {}),
  };
}
