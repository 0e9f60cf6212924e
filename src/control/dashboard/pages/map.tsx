/**
 * The Map page: every country coloured by its phase at an instant (now, a day from the
 * date form, or one of the policy's own dates), a legend, and the regions per phase by
 * code and name beside it. Everything is in the URL (`?at=`), so it works without scripts.
 */

import { readableInstant } from "../../ui/phase";
import { entryId, MAP_CSS, type MapArea, type MapMark, Swatch, WorldMap } from "../map";
import { type Milestone, PHASES, phaseText, type RegionPhase } from "../map-data";
import { BASE } from "../paths";
import { count, Shell, UtcInput, When } from "./shell";

export interface MapView {
  version: string;
  monitor: boolean;
  /** RFC 3339 of the instant shown; `now` true when no `at` was asked for. */
  at: string;
  now: boolean;
  regions: RegionPhase[];
  milestones: Milestone[];
  error?: string;
}

const PHASE_WORDS: Record<string, string> = {
  block: "block: answered 403",
  warn: "warn: passes with a Sunset header",
  observe: "observe: passes, counted",
  monitor: "monitor: would be blocked (mode=monitor)",
  pass: "pass: supported",
};

const link = (at: string | null) => `${BASE}/map${at ? `?at=${encodeURIComponent(at)}` : ""}`;

/** The date box's text: the day (now, or an asked midnight), else the asked instant to the second. */
const atText = (v: MapView) =>
  v.now || v.at.slice(11, 19) === "00:00:00" ? v.at.slice(0, 10) : v.at.replace(/\.\d{3}Z$/, "Z");

function DateControl({ v }: { v: MapView }) {
  return (
    <div class="card">
      <form method="get" action={`${BASE}/map`}>
        <label for="at">Show the map at a UTC day (YYYY-MM-DD) or an RFC 3339 instant</label>
        <UtcInput id="at" name="at" value={atText(v)} instant />{" "}
        <button type="submit" class="secondary">
          Show
        </button>
      </form>
      <p class="muted">The policy's own dates:</p>
      <ul class="datenav">
        <li>
          <a href={link(null)} aria-current={v.now ? "true" : undefined}>
            Now
          </a>
        </li>
        {v.milestones.map((m) => (
          <li>
            <a href={link(m.at)} aria-current={!v.now && m.at === v.at ? "true" : undefined}>
              {readableInstant(m.at)}
            </a>{" "}
            <span class="muted">{m.what.join(", ")}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** One phase's regions by code and name; dates only where the region has its own. */
function PhaseList({ phase, regions }: { phase: string; regions: readonly RegionPhase[] }) {
  const defaults = regions.find((r) => !r.ownDates && r.phase !== "pass");
  return (
    <section>
      <h3>
        {phase} ({regions.length})
      </h3>
      {defaults ? (
        <p class="muted">
          Dates: the region's own, else the default ({phaseText(defaults).split(" · ").slice(1).join(" · ")}).
        </p>
      ) : null}
      <ul>
        {regions.map((r) => (
          <li id={entryId(r.code)}>
            <code>{r.code}</code> {r.name}
            {r.ownDates ? (
              <span class="muted"> · {phaseText(r).split(" · ").slice(1).join(" · ")}</span>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function MapPage({ v, csrf }: { v: MapView; csrf: string }) {
  const byPhase = new Map(PHASES.map((p) => [p, v.regions.filter((r) => r.phase === p)]));
  const countries = v.regions.filter((r) => r.code === r.country);
  const subdivisions = v.regions.filter((r) => r.code !== r.country);
  const areas = new Map<string, MapArea>(
    countries.map((r) => {
      const carved = subdivisions.filter((s) => s.country === r.code).map((s) => `${s.code}: ${s.phase}`);
      const extra = carved.length > 0 ? ` (carved out: ${carved.join(", ")})` : "";
      return [r.code, { cls: `p-${r.phase}`, label: `${r.code} ${r.name}: ${phaseText(r)}${extra}` }];
    }),
  );
  const marks: MapMark[] = subdivisions.map((s) => ({
    code: s.code,
    country: s.country,
    cls: `p-${s.phase}`,
    label: `${s.code} (${s.name}): ${phaseText(s)}`,
  }));
  const shown = PHASES.filter((p) => (byPhase.get(p)?.length ?? 0) > 0);
  return (
    <Shell title="Map" csrf={csrf} current="/map" css={MAP_CSS}>
      <p>
        Policy <code>{v.version}</code> at <When at={v.at} text={readableInstant(v.at)} />
        {v.now ? " (now)" : ""}: what the gate decides for a caller from each country on the first scope
        prefix, as <code>region-gate explain</code> answers.
        {v.monitor ? " Mode is monitor: nothing is blocked." : ""}
      </p>
      {v.error ? (
        <p class="error" role="alert">
          {v.error}
        </p>
      ) : null}
      <ul class="legend" aria-label="Legend">
        {shown.map((p) => (
          <Swatch cls={`p-${p}`} label={`${PHASE_WORDS[p]} (${byPhase.get(p)?.length ?? 0})`} />
        ))}
        {marks.length > 0 ? <li>dashed dot: a carved-out subdivision, at its approximate place</li> : null}
      </ul>
      <div class="maplayout">
        <WorldMap
          id="phase-map"
          title={`Phases at ${readableInstant(v.at)}`}
          desc={shown.map((p) => `${p}: ${count(byPhase.get(p)?.length ?? 0, "region")}`).join("; ")}
          areas={areas}
          marks={marks}
        />
        <div class="regions">
          {shown
            .filter((p) => p !== "pass")
            .map((p) => (
              <PhaseList phase={p} regions={byPhase.get(p) ?? []} />
            ))}
        </div>
      </div>
      <DateControl v={v} />
      {shown.includes("pass") ? (
        // Collapsed: 200-odd names would make the page mostly this list. A link from the
        // map to one of them opens it (Chromium opens a <details> holding the target).
        <details class="regions columns">
          <summary>
            Supported: {count(byPhase.get("pass")?.length ?? 0, "country", "countries")} pass (show the list)
          </summary>
          <PhaseList phase="pass" regions={byPhase.get("pass") ?? []} />
        </details>
      ) : null}
    </Shell>
  );
}
