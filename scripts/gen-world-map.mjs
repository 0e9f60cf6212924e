#!/usr/bin/env node
/**
 * Regenerates src/control/dashboard/world.ts: every country of Natural Earth (the `world-atlas`
 * package, 1:110m) projected once here with d3-geo's Natural Earth projection into SVG
 * path strings on integer coordinates, keyed by ISO 3166-1 alpha-2 (world-atlas uses the
 * numeric codes; `iso-3166` maps them). Countries too small for 1:110m (SG, HK, MO, MT, …)
 * get a point from the 1:50m file and are drawn as a dot. Doing this at build time keeps
 * d3 and the topology out of the worker: the bundle carries only the path strings.
 * Subdivisions that policies carve out get an approximate centre of their own (SUBDIVISIONS).
 * `test/unit/world-map.test.ts` fails when the file drifts: run `npm run gen:map`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { geoArea, geoNaturalEarth1, geoPath } from "d3-geo";
import { iso31661NumericToAlpha2 } from "iso-3166";
import { feature } from "topojson-client";

const require = createRequire(import.meta.url);
const WIDTH = 960;
/** Features world-atlas leaves without an ISO numeric id, by their Natural Earth name. */
const UNNUMBERED = { Kosovo: "XK", "N. Cyprus": "CY", Somaliland: "SO" };
/** Below this many square pixels an outline is hard to see or hit: the country also gets a dot. */
const SMALL_AREA = 12;

/**
 * Approximate centres (longitude, latitude) and English names of the subdivisions a policy
 * is likeliest to carve out, so each gets a mark of its own on the map rather than one on
 * its country's point. Kept by hand: Natural Earth's 1:110m file has no subdivisions.
 */
export const SUBDIVISIONS = {
  "GE-AB": [41.0, 43.0, "Abkhazia"],
  "MD-SN": [29.4, 47.2, "Transnistria"],
  "UA-09": [39.3, 48.6, "Luhansk"],
  "UA-14": [37.8, 48.0, "Donetsk"],
  "UA-23": [35.6, 47.4, "Zaporizhzhia"],
  "UA-40": [33.5, 44.6, "Sevastopol"],
  "UA-43": [34.2, 45.3, "Crimea"],
  "UA-65": [33.4, 46.6, "Kherson"],
};

const countriesOf = (file) => {
  const topo = JSON.parse(readFileSync(require.resolve(`world-atlas/${file}`), "utf8"));
  return feature(topo, topo.objects.countries).features;
};
const alpha2 = (f) => (f.id ? iso31661NumericToAlpha2[f.id] : UNNUMBERED[f.properties.name]);

/**
 * An SVG path context writing integer, relative coordinates with implicit repeated `l`
 * (about a third of the bytes of d3's default output).
 */
function compactPath() {
  let d = "";
  let x0 = 0;
  let y0 = 0;
  let start = [0, 0];
  let inLine = false;
  const pair = (dx, dy) => `${dx}${dy < 0 ? dy : ` ${dy}`}`;
  return {
    moveTo(x, y) {
      [x, y] = [Math.round(x), Math.round(y)];
      d += d === "" ? `M${x} ${y}` : `m${pair(x - x0, y - y0)}`;
      [x0, y0, start, inLine] = [x, y, [x, y], false];
    },
    lineTo(x, y) {
      [x, y] = [Math.round(x), Math.round(y)];
      if (x === x0 && y === y0) return;
      const dx = x - x0;
      d += inLine ? `${dx < 0 ? "" : " "}${pair(dx, y - y0)}` : `l${pair(dx, y - y0)}`;
      [x0, y0, inLine] = [x, y, true];
    },
    closePath() {
      d += "z";
      [x0, y0, inLine] = [...start, false];
    },
    arc() {},
    rect() {},
    result: () => d,
  };
}

export function buildWorld() {
  const all110 = countriesOf("countries-110m.json");
  // Antarctica would take a fifth of the height for a region no gate sees traffic from.
  const shown = all110.filter((f) => alpha2(f) && alpha2(f) !== "AQ");
  const projection = geoNaturalEarth1().fitWidth(WIDTH, { type: "FeatureCollection", features: shown });
  const path = geoPath(projection);
  const [[, top], [, bottom]] = path.bounds({ type: "FeatureCollection", features: shown });
  projection.translate([projection.translate()[0], projection.translate()[1] - top + 2]);
  const height = Math.ceil(bottom - top) + 4;

  const outlines = new Map();
  const areas = new Map();
  for (const f of shown) {
    const code = alpha2(f);
    const ctx = compactPath();
    geoPath(projection, ctx)(f);
    outlines.set(code, (outlines.get(code) ?? "") + ctx.result());
    areas.set(code, (areas.get(code) ?? 0) + path.area(f));
  }
  /** The centre of a country's largest polygon: where its dot or carve-out mark goes. */
  const pointOf = (f) => {
    const polygons = f.geometry.type === "MultiPolygon" ? f.geometry.coordinates : [f.geometry.coordinates];
    let best = null;
    for (const coordinates of polygons) {
      const part = { type: "Polygon", coordinates };
      if (best === null || geoArea(part) > geoArea(best)) best = part;
    }
    return path.centroid(best).map(Math.round);
  };
  const points = new Map();
  for (const f of shown) if (!UNNUMBERED[f.properties.name]) points.set(alpha2(f), pointOf(f));
  for (const f of countriesOf("countries-50m.json")) {
    const code = alpha2(f);
    if (code && code !== "AQ" && !points.has(code)) points.set(code, pointOf(f));
  }
  const small = [...points.keys()].filter((c) => (areas.get(c) ?? 0) < SMALL_AREA).sort();
  const subdivisions = new Map(
    Object.entries(SUBDIVISIONS).map(([code, [lon, lat, name]]) => [
      code,
      { at: projection([lon, lat]).map(Math.round), name },
    ]),
  );
  return { width: WIDTH, height, outlines, points, small, subdivisions };
}

export function renderWorldModule() {
  const { width, height, outlines, points, small, subdivisions } = buildWorld();
  const sorted = (m) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const version = JSON.parse(readFileSync(require.resolve("world-atlas/package.json"), "utf8")).version;
  return `// Generated by scripts/gen-world-map.mjs from world-atlas ${version} (Natural Earth 1:110m, 1:50m
// for small countries), d3-geo's Natural Earth projection and iso-3166. Do not edit.
export const MAP_WIDTH = ${width};
export const MAP_HEIGHT = ${height};
/** SVG path of each country's outline, by ISO 3166-1 alpha-2. */
export const OUTLINES: Readonly<Record<string, string>> = {
${sorted(outlines)
  .map(([c, d]) => `  ${c}: ${JSON.stringify(d)},`)
  .join("\n")}
};
/** A point inside each country (its largest polygon's centre), by alpha-2, as "x y". */
export const POINTS: Readonly<Record<string, string>> = {
${sorted(points)
  .map(([c, [x, y]]) => `  ${c}: "${x} ${y}",`)
  .join("\n")}
};
/** Countries too small (or absent) at 1:110m: drawn with a dot as well. */
export const SMALL: ReadonlySet<string> = new Set(${JSON.stringify(small.join(","))}.split(","));
/** Subdivisions a policy may carve out: an approximate centre ("x y") and an English name. */
export const SUBDIVISIONS: Readonly<Record<string, { at: string; name: string }>> = {
${sorted(subdivisions)
  .map(
    ([
      c,
      {
        at: [x, y],
        name,
      },
    ]) => `  ${JSON.stringify(c)}: { at: "${x} ${y}", name: ${JSON.stringify(name)} },`,
  )
  .join("\n")}
};
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL("../src/control/dashboard/world.ts", import.meta.url), renderWorldModule());
  console.log("wrote src/control/dashboard/world.ts");
}
