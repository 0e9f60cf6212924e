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
    const countryText = countryName(country);
    return {
      code: sub ? `${country}-${sub}` : country,
      country,
      name: sub ? `in ${countryText}` : countryText,
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

export interface Milestone {
  /** RFC 3339. */
  at: string;
  /** "VE blocks", "every other unsupported country warns". */
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
    add(w.warnFrom, `${region} warns`);
    add(w.blockFrom, `${region} ${policy.monitor ? "would block" : "blocks"}`);
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
