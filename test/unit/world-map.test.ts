import { readFileSync } from "node:fs";
import { iso31661 } from "iso-3166";
import { describe, expect, it } from "vitest";
import { buildWorld, renderWorldModule } from "../../scripts/gen-world-map.mjs";
import { OUTLINES, POINTS, SMALL } from "../../src/control/dashboard/world";

describe("world map geometry (src/control/dashboard/world.ts)", () => {
  it("is what scripts/gen-world-map.mjs makes from the installed packages (run `npm run gen:map`)", () => {
    const onDisk = readFileSync(new URL("../../src/control/dashboard/world.ts", import.meta.url), "utf8");
    expect(onDisk).toBe(renderWorldModule());
  });

  it("draws the big countries and gives small ones a point for their dot", () => {
    for (const code of ["JP", "CN", "US", "RU", "UA", "VE", "BR", "AU"])
      expect(OUTLINES[code], code).toMatch(/^M\d/);
    for (const code of ["SG", "HK", "MO", "MT", "BH", "LU"]) {
      expect(SMALL.has(code), code).toBe(true);
      expect(POINTS[code], code).toMatch(/^\d+ \d+$/);
    }
    // Every outline and point belongs to a code a policy can name (ISO 3166-1 or XK).
    const codes = new Set([...iso31661.map((c) => c.alpha2), "XK"]);
    for (const code of [...Object.keys(OUTLINES), ...Object.keys(POINTS)])
      expect(codes.has(code), code).toBe(true);
    expect(Object.keys(OUTLINES).length).toBeGreaterThan(170);
    expect(Object.keys(POINTS).length).toBeGreaterThan(230);
  });

  it("places a point inside its own country's box (HK and SG in Asia, US not in the Pacific)", () => {
    const { width, points } = buildWorld();
    const [hx, hy] = points.get("HK") ?? [0, 0];
    const [sx, sy] = points.get("SG") ?? [0, 0];
    const [ux] = points.get("US") ?? [0, 0];
    expect(hx).toBeGreaterThan(width * 0.7);
    expect(sx).toBeGreaterThan(width * 0.7);
    expect(sy).toBeGreaterThan(hy);
    expect(ux).toBeLessThan(width * 0.35);
    expect(ux).toBeGreaterThan(width * 0.15);
  });
});
