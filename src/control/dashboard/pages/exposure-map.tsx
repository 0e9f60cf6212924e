/**
 * The Exposure page's world map: each unsupported region shaded by its requests (or
 * distinct customers) in the chosen days, on the same outlines as the Map page.
 */
import { type MapArea, type MapMark, Swatch, WorldMap } from "../map";
import { countryName, countsByRegion, type RegionCounts } from "../map-data";
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

/** The largest value of each shade: (k/5)² of the maximum, as whole numbers. */
const upperBound = (k: number, max: number) => Math.max(1, Math.floor(max * (k / SHADES) ** 2));

const line = (c: RegionCounts | undefined) =>
  c
    ? `${count(c.requests, "request")}, ${count(c.customers, "customer")} (${c.blocked} blocked)`
    : "no requests counted";

export function ExposureMap({ v, supported }: { v: ExposureView; supported: ReadonlySet<string> }) {
  const counts = countsByRegion(v.regions);
  const metric = (c: RegionCounts | undefined) =>
    c ? (v.shade === "customers" ? c.customers : c.requests) : 0;
  const max = Math.max(0, ...[...counts.values()].map(metric));
  const areas = new Map<string, MapArea>();
  const marks: MapMark[] = [];
  for (const code of v.countries) {
    const c = counts.get(code);
    const name = `${code} ${countryName(code)}`;
    if (supported.has(code) && !c)
      areas.set(code, { cls: "s-none", label: `${name}: supported, not counted` });
    else areas.set(code, { cls: `s${shadeOf(metric(c), max)}`, label: `${name}: ${line(c)}` });
  }
  const offMap: string[] = [];
  for (const [code, c] of counts) {
    if (code.includes("-")) {
      const country = code.slice(0, 2);
      const label = `${code} (in ${countryName(country)}): ${line(c)}`;
      marks.push({ code, country, cls: `s${shadeOf(metric(c), max)}`, label });
    } else if (!areas.has(code)) offMap.push(`${code} ${line(c)}`);
  }
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
        <Swatch cls="s0" label={`no ${v.shade}`} />
        {Array.from({ length: SHADES }, (_, i) => i + 1)
          .filter((k) => max > 0 && (k === 1 || upperBound(k, max) > upperBound(k - 1, max)))
          .map((k) => (
            <Swatch cls={`s${k}`} label={`up to ${upperBound(k, max)}`} />
          ))}
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
