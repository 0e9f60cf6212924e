/**
 * What the world maps show: each country's (and carved-out subdivision's) decision at an
 * instant, answered by `explainCase` (the `explain` endpoint's and CLI's own function, so
 * the map cannot disagree with them or the gate), the instants where the policy changes,
 * and the exposure totals per region.
 */

import { countryCodes } from "../../policy/codes";
import type { CompiledPolicy } from "../../policy/compile";
import { explainCase } from "../../policy/explain";
import { readableInstant } from "../ui/phase";
import type { RegionExposure } from "./data";
import { SUBDIVISIONS } from "./world";

/** The map's phases: decide() on the policy's first judged include prefix (`judgedPath`) for a caller from there. */
export const PHASES = ["block", "warn", "observe", "monitor", "pass"] as const;
export type MapPhase = (typeof PHASES)[number];

export interface RegionPhase {
  /** `CN`, or a subdivision `UA-43`. */
  code: string;
  /** The country it is drawn on (`UA` for `UA-43`). */
  country: string;
  name: string;
  phase: MapPhase;
  warnFrom: string | null;
  blockFrom: string | null;
  /** True when the dates are the region's own (`enforcement.regions`), not the default. */
  ownDates: boolean;
}

let names: Intl.DisplayNames | undefined;
/** The English name of a country (`HK` → "Hong Kong SAR China"), or the code itself. */
export function countryName(code: string): string {
  names ??= new Intl.DisplayNames(["en"], { type: "region", fallback: "code" });
  try {
    return names.of(code) ?? code;
  } catch {
    return code;
  }
}

/**
 * The English name of a region code: a country's, or a subdivision's with its country
 * ("Crimea, Ukraine"; "in Ukraine" for one the map has no name for). Not a code (`AS64500`,
 * `XX`): the code itself.
 */
export function regionName(code: string): string {
  if (!/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/.test(code)) return code;
  if (code.length === 2) return countryName(code);
  const country = countryName(code.slice(0, 2));
  const own = SUBDIVISIONS[code]?.name;
  return own ? `${own}, ${country}` : `in ${country}`;
}

/** "CN China", "UA-43 Crimea, Ukraine": a code with its name, as the dashboard shows regions. */
export const regionLabel = (code: string): string => {
  const name = regionName(code);
  return name === code ? code : `${code} ${name}`;
};

/** Every country, then every subdivision the policy names, with its phase at `at`. */
export function phasesAt(policy: CompiledPolicy, at: number): RegionPhase[] {
  const subdivisions = new Set(policy.unsupportedSubdivisions);
  for (const code of policy.windows.keys()) if (code.includes("-")) subdivisions.add(code);
  const cases = [
    ...countryCodes().map((c) => ({ country: c, sub: null as string | null })),
    ...[...subdivisions].sort().map((s) => ({ country: s.slice(0, 2), sub: s.slice(3) })),
  ];
  return cases.map(({ country, sub }) => {
    const e = explainCase(policy, { country, regionCode: sub, at, ip: null, fingerprint: null, path: null });
    const code = sub ? `${country}-${sub}` : country;
    return {
      code,
      country,
      name: regionName(code),
      // out_of_scope/exempt/unknown cannot come out of these cases; read anything else as pass.
      phase: (PHASES as readonly string[]).includes(e.decision) ? (e.decision as MapPhase) : "pass",
      warnFrom: e.decision === "pass" ? null : (e.window?.warnFrom ?? null),
      blockFrom: e.decision === "pass" ? null : (e.window?.blockFrom ?? null),
      ownDates: e.window?.source.startsWith("enforcement.regions.") ?? false,
    };
  });
}

/** "block · warn from 2024-06-25 · block from 2024-07-09" */
export function phaseText(r: RegionPhase): string {
  if (r.phase === "pass") return "pass (supported)";
  const parts: string[] = [r.phase];
  if (r.warnFrom !== null) parts.push(`warn from ${readableInstant(r.warnFrom)}`);
  parts.push(r.blockFrom === null ? "never blocks" : `block from ${readableInstant(r.blockFrom)}`);
  return parts.join(" · ");
}

/** A bound as a day or instant, or null when it is no date ("always", absent). */
const dated = (bound: string | null) => (bound && /^\d{4}-/.test(bound) ? readableInstant(bound) : null);

/**
 * The phase and its dates in words: "blocked since 2024-07-09", "warned since 2026-11-01,
 * blocked from 2027-06-01", "counted, warned from …, blocked from …", "supported".
 */
export function phaseWords(r: Pick<RegionPhase, "phase" | "warnFrom" | "blockFrom">): string {
  const warn = dated(r.warnFrom);
  const block = dated(r.blockFrom);
  const blocks = block ? `blocked from ${block}` : "never blocked";
  switch (r.phase) {
    case "block":
      return block ? `blocked since ${block}` : "blocked (no enforcement dates)";
    case "monitor":
      return `would be blocked since ${block ?? "always"} (monitor mode)`;
    case "warn":
      return `${warn ? `warned since ${warn}` : "warned"}, ${blocks}`;
    case "observe":
      return `counted, not warned yet${warn ? `: warned from ${warn}` : ""}${warn ? ", " : "; "}${blocks}`;
    default:
      return "supported";
  }
}

export interface Milestone {
  /** RFC 3339. */
  at: string;
  /** "VE Venezuela blocks", "every other unsupported country warns". */
  what: string[];
}

/** Every finite warnFrom/blockFrom of the policy, in order, with what starts then. */
export function milestones(policy: CompiledPolicy): Milestone[] {
  const byInstant = new Map<number, string[]>();
  const add = (ms: number | null, what: string) => {
    if (ms === null || !Number.isFinite(ms)) return;
    byInstant.set(ms, [...(byInstant.get(ms) ?? []), what]);
  };
  const windows = [
    ...policy.windows.entries(),
    ["every other unsupported country", policy.defaultWindow] as const,
  ];
  for (const [region, w] of windows) {
    const who = w === policy.defaultWindow ? region : regionLabel(region);
    add(w.warnFrom, `${who} warns`);
    add(w.blockFrom, `${who} ${policy.monitor ? "would block" : "blocks"}`);
  }
  return [...byInstant.entries()]
    .sort(([a], [b]) => a - b)
    .map(([ms, what]) => ({ at: new Date(ms).toISOString(), what }));
}

export interface RegionCounts {
  requests: number;
  customers: number;
  blocked: number;
}

/** Exposure totals per region code (`CN`, `UA-43`, `XX`, `T1`) over the page's range. */
export const countsByRegion = (regions: readonly RegionExposure[]): Map<string, RegionCounts> =>
  new Map(
    regions.map((r) => [r.region, { requests: r.requests, customers: r.customers, blocked: r.blocked }]),
  );
