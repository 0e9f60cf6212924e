/**
 * The Exposure page's world map: each unsupported region in the colour of its phase now
 * (block red, warn amber, observe blue, as on the Map page), darker the more requests (or
 * distinct customers) it sent in the chosen days, on the same outlines as the Map page.
 */
import { type MapArea, type MapMark, Swatch, WorldMap } from "../map";
import {
  countsByRegion,
  PHASES,
  phaseWords,
  type RegionCounts,
  type RegionPhase,
  regionLabel,
} from "../map-data";
import { BASE } from "../paths";
import type { ExposureView } from "../views";
import { count } from "./shell";

const SHADES = 5;

/**
 * The shade (1–5) of `value` against the busiest region's `max`, on a square-root scale so
 * a region with a tenth of the traffic still shows; 0 for none.
 *
 * @example shadeOf(13, 13) // 5
 */
export const shadeOf = (value: number, max: number): number =>
  value <= 0 || max <= 0 ? 0 : Math.max(1, Math.min(SHADES, Math.ceil(SHADES * Math.sqrt(value / max))));

const line = (c: RegionCounts | undefined) =>
  c
    ? `${count(c.requests, "request")}, ${count(c.customers, "customer")} (${c.blocked} blocked)`
    : "no requests counted";

export function ExposureMap({ v, phases }: { v: ExposureView; phases: ReadonlyMap<string, RegionPhase> }) {
  const counts = countsByRegion(v.regions);
  const metric = (c: RegionCounts | undefined) =>
    c ? (v.shade === "customers" ? c.customers : c.requests) : 0;
  const max = Math.max(0, ...[...counts.values()].map(metric));
  const area = (code: string): MapArea => {
    const c = counts.get(code);
    const phase = phases.get(code);
    const label = `${regionLabel(code)}${phase ? ` (${phaseWords(phase)})` : ""}: ${line(c)}`;
    if (phase?.phase === "pass" && !c)
      return { cls: "s-none", label: `${regionLabel(code)}: supported, not counted` };
    return { cls: `p-${phase?.phase ?? "pass"} x${shadeOf(metric(c), max)}`, label };
  };
  const areas = new Map<string, MapArea>(v.countries.map((code) => [code, area(code)]));
  const marks: MapMark[] = [];
  const offMap: string[] = [];
  for (const [code, c] of counts) {
    if (code.includes("-") && phases.has(code))
      marks.push({ code, country: code.slice(0, 2), ...area(code) });
    else if (!areas.has(code)) offMap.push(`${code} ${line(c)}`);
  }
  const shownPhases = PHASES.filter(
    (p) => p !== "pass" && [...counts.keys()].some((code) => phases.get(code)?.phase === p),
  );
  const base = new URLSearchParams({ from: v.from, to: v.to, ...(v.region ? { region: v.region } : {}) });
  const shadeLink = (shade: string) => `${BASE}/exposure?${new URLSearchParams([...base, ["shade", shade]])}`;
  return (
    <section>
      <h2>
        {v.shade === "customers" ? "Distinct customers" : "Requests"} per region, {v.from} to {v.to}
      </h2>
      <p>
        Shade by:{" "}
        {(["requests", "customers"] as const).map((s, i) => (
          <>
            {i > 0 ? " · " : null}
            <a href={shadeLink(s)} aria-current={v.shade === s ? "true" : undefined}>
              {s}
            </a>
          </>
        ))}
      </p>
      <ul class="legend" aria-label="Legend">
        <Swatch cls="s-none" label="supported (not counted)" />
        {shownPhases.map((p) => (
          <Swatch cls={`p-${p}`} label={`${p} now`} />
        ))}
        {max > 0 ? (
          <li>
            lighter to darker: fewer to more {v.shade} (darkest: {count(max, v.shade.slice(0, -1), v.shade)})
          </li>
        ) : null}
      </ul>
      <WorldMap
        id="exposure-map"
        title={`${v.shade} per region from ${v.from} to ${v.to}`}
        desc={v.regions.map((r) => `${r.region}: ${line(counts.get(r.region))}`).join("; ")}
        areas={areas}
        marks={marks}
      />
      {offMap.length > 0 ? <p class="muted">Not on the map: {offMap.join("; ")}.</p> : null}
    </section>
  );
}
