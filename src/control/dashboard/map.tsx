/**
 * The world map as inline SVG, drawn on the server from the outlines precomputed by
 * scripts/gen-world-map.mjs. Every country is a link (focusable, to its entry in the list
 * beside the map) with a `<title>` (tooltip, accessible name) and a line of text that CSS
 * shows on hover or keyboard focus: it reads without JavaScript, which the CSP forbids.
 */
import { MAP_HEIGHT, MAP_WIDTH, OUTLINES, POINTS, SMALL, SUBDIVISIONS } from "./world";

export interface MapArea {
  /** The class that colours it: a phase (`p-block`) or an exposure shade (`s3`). */
  cls: string;
  /** One line: code, name, phase, dates, counts. */
  label: string;
}

/** A mark on a country for one of its subdivisions (`UA-43` on UA). */
export interface MapMark extends MapArea {
  code: string;
  country: string;
}

/** Room under the map for the details of the region under the pointer or focus. */
const INFO_HEIGHT = 150;

/** The fragment id of a region's entry in the list beside the map. */
export const entryId = (code: string): string => `r-${code}`;

const at = (code: string) => (POINTS[code] ?? "0 0").split(" ").map(Number) as [number, number];

/** A subdivision mark's radius, and the least distance between two marks' centres. */
const MARK_RADIUS = 4;
const MARK_GAP = 2 * MARK_RADIUS + 1;

/**
 * Where each mark is drawn: its subdivision's approximate centre (or its country's point),
 * pushed apart from the others until no two overlap, so each can be hovered and focused on
 * its own (Donetsk and Luhansk are 4 px apart at this scale; unknown subdivisions of one
 * country all start on its point).
 *
 * @example markPositions([{ code: "UA-14", country: "UA" }, { code: "UA-09", country: "UA" }])
 *   // two points at least MARK_GAP apart, each near its own centre
 */
export function markPositions(marks: readonly { code: string; country: string }[]): [number, number][] {
  const points = marks.map((m) => {
    const own = SUBDIVISIONS[m.code]?.at;
    return (own ? own.split(" ").map(Number) : at(m.country)) as [number, number];
  });
  for (let round = 0; round < 50; round++) {
    let moved = false;
    for (let i = 0; i < points.length; i++) {
      for (let j = i + 1; j < points.length; j++) {
        const [a, b] = [points[i]!, points[j]!];
        let [dx, dy] = [b[0] - a[0], b[1] - a[1]];
        let d = Math.hypot(dx, dy);
        if (d >= MARK_GAP - 0.01) continue;
        // Coincident points leave along a direction of their own (the golden angle apart).
        if (d < 0.01) [dx, dy, d] = [Math.cos(j * 2.4), Math.sin(j * 2.4), 1];
        const push = (MARK_GAP - d) / 2 / d;
        points[i] = [a[0] - dx * push, a[1] - dy * push];
        points[j] = [b[0] + dx * push, b[1] + dy * push];
        moved = true;
      }
    }
    if (!moved) break;
  }
  return points.map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10]);
}

export function WorldMap(props: {
  id: string;
  title: string;
  desc: string;
  areas: ReadonlyMap<string, MapArea>;
  marks?: readonly MapMark[];
}) {
  const marks = markPositions(props.marks ?? []);
  const codes = [...props.areas.keys()].filter((c) => OUTLINES[c] !== undefined || POINTS[c] !== undefined);
  // Small countries last, so their dots sit on top of the neighbours' outlines.
  codes.sort((a, b) => Number(SMALL.has(a)) - Number(SMALL.has(b)) || (a < b ? -1 : 1));
  // The hovered or focused region's details, in a strip under the map where no outline
  // can cover them: "CN China" / "block" / "warn from …" / "block from …", one per line.
  const info = (label: string) => (
    <text class="info" y={MAP_HEIGHT}>
      {label
        .replace(": ", "\n")
        .split(/\n| · /)
        .map((line) => (
          <tspan x="12" dy="1.15em">
            {line}
          </tspan>
        ))}
    </text>
  );
  return (
    <svg
      class="map"
      viewBox={`0 0 ${MAP_WIDTH} ${MAP_HEIGHT + INFO_HEIGHT}`}
      width={MAP_WIDTH}
      height={MAP_HEIGHT + INFO_HEIGHT}
      aria-labelledby={`${props.id}-title ${props.id}-desc`}
    >
      <title id={`${props.id}-title`}>{props.title}</title>
      <desc id={`${props.id}-desc`}>{props.desc}</desc>
      {codes.map((code) => {
        const area = props.areas.get(code) as MapArea;
        const [x, y] = at(code);
        return (
          <a href={`#${entryId(code)}`} class={`c ${area.cls}`} data-code={code}>
            <title>{area.label}</title>
            {OUTLINES[code] ? <path d={OUTLINES[code]} /> : null}
            {SMALL.has(code) ? <circle cx={x} cy={y} r="3.5" /> : null}
            {info(area.label)}
          </a>
        );
      })}
      <text class="hint" x="12" y={MAP_HEIGHT + 30}>
        Hover, tap or Tab to a region for its details.
      </text>
      {(props.marks ?? []).map((m, i) => {
        const [x, y] = marks[i]!;
        return (
          <a href={`#${entryId(m.code)}`} class={`c mark ${m.cls}`} data-code={m.code}>
            <title>{m.label}</title>
            <circle cx={x} cy={y} r={MARK_RADIUS} />
            {info(m.label)}
          </a>
        );
      })}
    </svg>
  );
}

/** The CSS of the maps: phase fills, exposure shades, hover and focus. */
export const MAP_CSS = `
.maplayout{display:grid;grid-template-columns:minmax(0,3fr) minmax(14rem,1fr);gap:1rem;align-items:start}
@media (max-width:48rem){.maplayout{grid-template-columns:1fr}}
svg.map{width:100%;height:auto;background:linear-gradient(#eef3fa 0 ${((100 * MAP_HEIGHT) / (MAP_HEIGHT + INFO_HEIGHT)).toFixed(1)}%,#fff 0);border:1px solid #dde1e8;border-radius:.4rem}
.map .c path,.map .c circle{stroke:#fff;stroke-width:.5}
.map .mark circle{stroke:#1d1d1f;stroke-width:1.2;stroke-dasharray:2 1.5}
.map .info{display:none;font-size:22px;fill:#1d1d1f}
.map .info tspan:first-child{font-weight:700}
.map .hint{font-size:20px;fill:#5b6270}.map:has(a:hover,a:focus) .hint{display:none}
@media (max-width:48rem){.map .info{font-size:30px}}
.map a:hover .info,.map a:focus .info{display:inline}
.map a:focus{outline:none}
.map a:hover path,.map a:focus path,.map a:hover circle,.map a:focus circle{stroke:#1d1d1f;stroke-width:1.5}
.p-pass{fill:#a9dcb8}.p-observe{fill:#86a8ec}.p-warn{fill:#f2bd3a}.p-block{fill:#d9453b}.p-monitor{fill:#9a7fd6}
.s-none{fill:#dde1e7}
.x0{fill-opacity:.3}.x1{fill-opacity:.45}.x2{fill-opacity:.6}.x3{fill-opacity:.75}.x4{fill-opacity:.88}.x5{fill-opacity:1}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;list-style:none;padding:0;margin:.5rem 0}
.legend svg{display:inline;width:1rem;height:1rem;vertical-align:-.15rem;margin-right:.3rem}
.regions h3{font-size:1rem;margin:.8rem 0 .3rem}
.regions ul{list-style:none;padding:0;margin:0;font-size:.9rem}
.regions li{padding:.05rem .3rem;border-radius:.3rem}
.regions.columns ul{columns:12rem}
.regions li:target{background:#fff1c7;outline:2px solid #6b4b00}
.datenav{display:flex;flex-wrap:wrap;gap:.3rem .8rem;padding:0;list-style:none;font-size:.9rem}
.datenav a[aria-current]{font-weight:700;color:#1d1d1f}
`;

/** A legend entry: a swatch in the map's own fill class and its words. */
export function Swatch({ cls, label }: { cls: string; label: string }) {
  return (
    <li>
      <svg viewBox="0 0 10 10" aria-hidden="true">
        <rect class={cls} width="10" height="10" rx="2" />
      </svg>
      {label}
    </li>
  );
}
