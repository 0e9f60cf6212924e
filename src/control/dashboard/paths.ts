/** Where the dashboard is mounted, and the links between its pages. */
export const BASE = "/__region-gate/dashboard";

/** The navigation bar: path under BASE and label. */
export const NAV = [
  ["", "Overview"],
  ["/map", "Map"],
  ["/timeline", "Timeline"],
  ["/exposure", "Exposure"],
  ["/history", "History"],
] as const;

export type NavPath = (typeof NAV)[number][0];

/** A version's page, with the diff from `against` when given. */
export const versionLink = (version: string, against?: string | null): string =>
  `${BASE}/history/${encodeURIComponent(version)}${against ? `?against=${encodeURIComponent(against)}` : ""}`;
